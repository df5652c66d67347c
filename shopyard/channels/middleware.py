"""Records a channel touch for a visit that carries a tag, after the response.

A request without `utm_source` costs nothing here (no query, no cookie). A tagged
GET that was answered (2xx/3xx) gets a first-party visitor cookie and, once the
response has been sent (Django calls response closers when the server is done
with it), ONE insert through `services.record_touch`. An anonymous visitor's
touches are claimed by the user on their first logged-in request (one UPDATE,
then the claim cookie goes). A failure to record is logged, never shown.
"""

import logging
import secrets

from django.conf import settings

from . import services, tags

log = logging.getLogger("shopyard.channels")

VISITOR_COOKIE = "sy_visitor"
CLAIM_COOKIE = "sy_claim"
VISITOR_COOKIE_AGE = 60 * 60 * 24 * 365
CLAIM_COOKIE_AGE = int(services.ATTRIBUTION_WINDOW.total_seconds())
# the storefront pages whose URL names their shop (the touch's shop is looked up in its insert)
PRODUCT_URL_NAMES = ("product", "product_slug")
SHOP_URL_NAMES = ("shop",)


def _visitor_id(request) -> tuple[str, bool]:
    value = request.COOKIES.get(VISITOR_COOKIE, "")
    if len(value) == 32 and all(ch in "0123456789abcdef" for ch in value):
        return value, False
    return secrets.token_hex(16), True


def _after(response, fn):
    def run():
        try:
            fn()
        except Exception:  # analytics never breaks a page
            log.exception("could not record a channel touch")

    response._resource_closers.append(run)


class ChannelTouchMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        if user_id is not None and CLAIM_COOKIE in request.COOKIES:
            visitor = request.COOKIES.get(VISITOR_COOKIE, "")
            response.delete_cookie(CLAIM_COOKIE)
            if visitor:
                _after(response, lambda: services.claim_touches(visitor=visitor, user_id=user_id))
        # only a page that was shown: a redirect (/s/<code>/, /p/<id>/ → canonical) is followed by one
        if request.method != "GET" or "utm_source" not in request.GET or not 200 <= response.status_code < 300:
            return response
        tag = tags.from_query(request.GET)
        if tag is None:
            return response
        visitor, new = _visitor_id(request)
        secure = settings.SESSION_COOKIE_SECURE
        if new:
            response.set_cookie(VISITOR_COOKIE, visitor, max_age=VISITOR_COOKIE_AGE, httponly=True,
                                samesite="Lax", secure=secure)
        if user_id is None:
            response.set_cookie(CLAIM_COOKIE, "1", max_age=CLAIM_COOKIE_AGE, httponly=True, samesite="Lax",
                                secure=secure)
        match = getattr(request, "resolver_match", None)
        kwargs = match.kwargs if match is not None else {}
        url_name = match.url_name if match is not None else None
        product_id = kwargs.get("pk") if url_name in PRODUCT_URL_NAMES else None
        shop_slug = kwargs.get("slug") if url_name in SHOP_URL_NAMES else None
        path = request.path
        _after(response, lambda: services.record_touch(tag=tag, visitor=visitor, user_id=user_id, landing_path=path,
                                                       product_id=product_id, shop_slug=shop_slug))
        return response
