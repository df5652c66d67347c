"""Writes the behaviour events a request buffered (services.record), after the response.

A request that recorded nothing costs nothing here. One that did hands its
events to services.write_events from a response closer, which Django calls once
the server has sent the response, so the shopper never waits for it; they are
written together with the process's other requests' events (core/held.py); a failure
is logged, never shown. A request that failed (4xx/5xx) records nothing.

Who did it: the logged-in user (session or API token), else the anonymous
visitor's first-party cookie id. We chose a cookie over the session key
because most anonymous browsing has no session (the catalogue pages create
none, and the page cache serves only session-less visitors), and because the
session key changes at login while the cookie survives it: logging in claims
the cookie's events for the user (accounts.views calls `claim_on_login`).
"""

import logging
import secrets

from django.conf import settings

from . import services

log = logging.getLogger("shopyard.analytics")

VISITOR_COOKIE = "sy_vid"
VISITOR_COOKIE_AGE = 60 * 60 * 24 * 365


def visitor_id(request) -> str:
    """The visitor's cookie id when it is well formed, else ""."""
    value = request.COOKIES.get(VISITOR_COOKIE, "")
    if len(value) == 32 and all(ch in "0123456789abcdef" for ch in value):
        return value
    return ""


def user_id_of(request):
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def claim_on_login(request, user) -> int:
    """Called by the login page once the shopper is logged in: this browser's
    anonymous events become theirs."""
    try:
        return services.claim_visitor_events(visitor=visitor_id(request), user_id=user.pk)
    except Exception:  # recommendations never break a login
        log.exception("could not claim a visitor's behaviour events")
        return 0


class BehaviourMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        events = services.pending(request)
        if not events or response.status_code >= 400:
            return response
        user_id = user_id_of(request)
        visitor = visitor_id(request)
        if not visitor:
            visitor = secrets.token_hex(16)
            response.set_cookie(VISITOR_COOKIE, visitor, max_age=VISITOR_COOKIE_AGE, httponly=True, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE)

        def write():
            try:
                services.write_events(events=events, user_id=user_id, visitor=visitor)
            except Exception:  # analytics never breaks a page
                log.exception("could not write behaviour events")

        response._resource_closers.append(write)
        return response
