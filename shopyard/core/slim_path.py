"""Django's WSGI handler without the middleware a cookieless API call never needs.

Some API requests come by the thousand a second from clients that send no
cookie: the flash-sale buy endpoint (a bearer token; promotions/flash_gate.py)
and the anonymous catalogue reads (no credentials at all; catalog/slim_path.py).
For them part of MIDDLEWARE does nothing but cost: sessions, CSRF (ninja's
views are exempt), the signed-in user, session tracking, messages, channel
claims and behaviour recording all need a cookie or a page, and whitenoise
serves static files only. `SlimHandler` is Django's handler built from
MIDDLEWARE without settings.SLIM_PATH_SKIPPED_MIDDLEWARE (the one list of what
such a request may skip); it keeps the request log, the Prometheus counts, the
body-size, NUL and host checks, the language and the security headers, and
answers through the same URL patterns and ninja operations as the whole stack,
so its answers are the whole stack's. Which requests may take it is decided in
front of Django by the gate of each path (`cookieless` is the rule they share):
a request with a cookie always goes through the whole stack.
"""

from django.core.handlers.wsgi import WSGIHandler


def cookieless(environ) -> bool:
    """No cookie at all: nothing a skipped middleware reads (session, CSRF token,
    messages, visitor or channel ids) can be in the request."""
    return not environ.get("HTTP_COOKIE")


class SlimHandler(WSGIHandler):
    """Django's WSGI handler: MIDDLEWARE without SLIM_PATH_SKIPPED_MIDDLEWARE."""

    def load_middleware(self, is_async=False):
        from django.conf import settings

        # BaseHandler builds the chain from settings.MIDDLEWARE; this runs once, when the
        # handler is made at start-up, before any request thread exists
        full = settings.MIDDLEWARE
        skipped = set(settings.SLIM_PATH_SKIPPED_MIDDLEWARE)
        settings.MIDDLEWARE = [m for m in full if m not in skipped]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full
