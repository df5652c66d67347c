"""Order placement by API clients through the slim handler (core.slim_path).

`POST /api/v1/orders` with a bearer token is how apps and integrators buy,
and every one of those requests carries no cookie. The route's only
authentication is the bearer token (checkout.api), so the middleware that
settings.SLIM_PATH_SKIPPED_MIDDLEWARE lists (sessions, CSRF, the signed-in
user, session tracking, messages, channel touches and behaviour recording,
static files) has nothing to read in such a request: an order paid ~0.3 ms
of CPU for it. `OrderPlacementHandler` is Django's handler without them,
with the route resolved once per process, answering through the same ninja
operation (parsing, token check, idempotency, error bodies, status codes),
so its answers are the whole stack's; the request log line, the Prometheus
counts, the request id and the events delivered after the response are the
same too. A request with a cookie, another method or any other path goes to
the whole stack unchanged.
"""

from django.urls import ResolverMatch, resolve

from shopyard.core.slim_path import SlimHandler, cookieless

PATH = "/api/v1/orders"


class OrderPlacementHandler(SlimHandler):
    """The slim handler for cookieless order placements, with the route resolved once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._match = resolve(PATH)

    def resolve_request(self, request):
        m = self._match
        request.resolver_match = ResolverMatch(m.func, (), {}, m.url_name, m.app_names, m.namespaces, m.route,
                                               captured_kwargs={})
        return request.resolver_match


def wrap(app, slim):
    """`app` (the rest of the WSGI stack), with cookieless `POST /api/v1/orders` sent to `slim`."""

    def front(environ, start_response):
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST" and cookieless(environ):
            return slim(environ, start_response)
        return app(environ, start_response)

    front.django_app = app  # the next layer, as the flash gate keeps it
    front.slim_app = slim
    return front
