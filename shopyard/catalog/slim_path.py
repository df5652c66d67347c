"""Anonymous catalogue reads through the slim handler (core.slim_path).

`GET /api/v1/products/<id>` and `GET /api/v1/products` are what anonymous
clients (apps, crawlers, price comparers) ask for most, and their answer is
the same for every one of them (catalog.api: a kept body, an ETag, a 304).
A request with no cookie and no `Authorization` header can carry nothing the
skipped middleware reads, so it is answered by `CatalogueReadHandler`:
Django's handler without settings.SLIM_PATH_SKIPPED_MIDDLEWARE, with the two
routes resolved once per process, through the same ninja operations, so the
status, body and headers (ETag, Cache-Control, Vary, Content-Language,
X-Request-ID, the security headers) are the whole stack's. A request with a
cookie or a token (anything that could make the answer personal), another
method, or any other path goes to the whole stack unchanged.
"""

import re

from django.urls import ResolverMatch, resolve
from django.utils.cache import patch_vary_headers

from shopyard.core.slim_path import SlimHandler, cookieless

_PATH = re.compile(r"^/api/v1/products(?:/([0-9]{1,15}))?$")
_RAW_ID = "shopyard.catalogue_product_id"  # the id as the path spells it, for the handler's URL match
LIST_PATH, SAMPLE_DETAIL_PATH = "/api/v1/products", "/api/v1/products/1"


def anonymous(environ) -> bool:
    """No credentials of any kind, and no cookie at all (stricter than
    core.http_cache.anonymous, which lets a cookie other than the session's pass:
    that cookie may be one a skipped middleware reads)."""
    return "HTTP_AUTHORIZATION" not in environ and cookieless(environ)


class CatalogueReadHandler(SlimHandler):
    """The slim handler for the anonymous product reads, with their two routes resolved once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._list = resolve(LIST_PATH)
        self._detail = resolve(SAMPLE_DETAIL_PATH)
        [self._kwarg] = self._detail.kwargs

    def get_response(self, request):
        response = super().get_response(request)
        # the whole stack's session middleware says "Vary: Cookie" on every answer (session tracking
        # reads the session of each request): so does this one, a cookie changing the path taken
        patch_vary_headers(response, ("Cookie",))
        return response

    def resolve_request(self, request):
        raw_id = request.META.get(_RAW_ID)
        if raw_id is None:
            m, kwargs = self._list, {}
        else:
            m, kwargs = self._detail, {self._kwarg: raw_id}
        request.resolver_match = ResolverMatch(m.func, (), kwargs, m.url_name, m.app_names, m.namespaces, m.route,
                                               captured_kwargs=kwargs)
        return request.resolver_match


def wrap(app, slim):
    """`app` (the rest of the WSGI stack), with the anonymous product reads sent to `slim`."""

    def front(environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and anonymous(environ):
            match = _PATH.match(environ.get("PATH_INFO", ""))
            if match is not None:
                if match.group(1) is not None:
                    environ[_RAW_ID] = match.group(1)
                return slim(environ, start_response)
        return app(environ, start_response)

    front.django_app = getattr(app, "django_app", app)
    front.slim_app = slim
    return front
