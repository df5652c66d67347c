"""The flash-sale buy endpoint in front of Django: `POST
/api/v1/flash/items/<id>/buy` is answered "sold out" here, and the other
attempts of API clients go through a slim Django handler.

At the stroke of the hour thousands of buyers ask for a few hundred units;
all but those few get "sold out". That answer needs no database, no session,
no token check and none of Django's middleware: one Redis GET (or, without
Redis, a look at the process's sold-out marker) decides, and the gate
returns the same 409 body the API handler would (`sold_out`, with a field
message, in the language the client asks for). Like every request it gets a
request id (X-Request-ID), one request log line (core.logs.log_request) and
its Prometheus counts (core.metrics.count_early_response).

The attempts that get past it (units left) come from API clients: a bearer
token and no cookie. For them the whole middleware stack does nothing but
cost. `FlashBuyHandler` is core.slim_path's SlimHandler (Django's WSGI handler
without the middleware a cookieless API call never needs, listed once in
settings.SLIM_PATH_SKIPPED_MIDDLEWARE) that resolves the URL once per process
(the route is fixed); it answers through the same ninja operation (parsing,
token check, error bodies, status codes), so its answers are the whole
stack's. A request with a cookie, or any other method or path, goes to the
whole stack unchanged.
"""

import json
import re
import time

from django.core.handlers.wsgi import get_script_name
from django.http import HttpRequest
from django.urls import ResolverMatch, resolve
from django.utils.translation import override

from shopyard.core.slim_path import SlimHandler, cookieless

from . import flash_store

_PATH = re.compile(r"^/api/v1/flash/items/([0-9]{1,15})/buy/?$")
_SLIM_PATH = re.compile(r"^/api/v1/flash/items/([0-9]{1,15})/buy$")
_BODIES: dict = {}
# set in the WSGI environ when the gate found the item not sold out
CHECKED = "shopyard.flash_sold_out_checked"
# the item id as the path spells it, for the slim handler's URL match
_RAW_ID = "shopyard.flash_item_id"
SAMPLE_PATH = "/api/v1/flash/items/1/buy"


def _language(environ) -> str:
    header = environ.get("HTTP_ACCEPT_LANGUAGE", "").strip().lower()
    return "en" if header.startswith("en") else "zh-hans"


def _body(language) -> bytes:
    if language not in _BODIES:
        from .flash import sold_out_error

        with override(language):
            _BODIES[language] = json.dumps(sold_out_error().as_dict(), ensure_ascii=False).encode()
    return _BODIES[language]


class _Environ(HttpRequest):
    """Just enough of a request over the WSGI environ to ask Django whether it came over HTTPS
    (HttpRequest.scheme reads only META and the settings; the rest of __init__ is not needed)."""

    def __init__(self, environ):  # HttpRequest.__init__ is not called: nothing it builds is read
        self.META = environ

    def _get_scheme(self):
        return self.META.get("wsgi.url_scheme", "http")


def _path(environ) -> str:
    """The path as Django's request.path spells it (with the script name, where one is set)."""
    script_name = get_script_name(environ).rstrip("/")
    return f"{script_name}/{environ['PATH_INFO'].replace('/', '', 1)}" if script_name else environ["PATH_INFO"]


_VIEW: list = []


def _view_name() -> str:
    """The buy endpoint's view name, as django-prometheus labels its requests."""
    if not _VIEW:
        _VIEW.append(resolve(SAMPLE_PATH).view_name)
    return _VIEW[0]


def _sold_out_answer(environ, start_response, started):
    import structlog

    from shopyard.core import logs
    from shopyard.core.metrics import count_early_response

    request_id = logs.accepted_request_id(environ.get(logs.REQUEST_ID_META))
    language = _language(environ)
    body = _body(language)
    start_response("409 Conflict", [
        ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
        ("Content-Language", language), ("Vary", "Accept-Language"), ("X-Content-Type-Options", "nosniff"),
        (logs.REQUEST_ID_HEADER, request_id),
    ])
    method = environ["REQUEST_METHOD"]
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        logs.log_request(method=method, path=_path(environ), status=409, started=started)
    finally:
        structlog.contextvars.clear_contextvars()
    try:
        request_bytes = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        request_bytes = 0
    count_early_response(method=method, transport=_Environ(environ).scheme, view=_view_name(), status=409,
                         request_bytes=request_bytes, response_bytes=len(body), seconds=time.monotonic() - started)
    return [body]


class FlashBuyHandler(SlimHandler):
    """The slim handler (core.slim_path) for the buy endpoint's API calls, with the URL resolved once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the route, resolved once with a sample id; each request gets a copy with its own id
        self._match = resolve(SAMPLE_PATH)
        [self._kwarg] = self._match.kwargs

    def resolve_request(self, request):
        m, kwargs = self._match, {self._kwarg: request.META[_RAW_ID]}
        request.resolver_match = ResolverMatch(m.func, (), kwargs, m.url_name, m.app_names, m.namespaces, m.route,
                                               captured_kwargs=kwargs)
        return request.resolver_match


def wrap(app, slim=None):
    """`app` (Django's WSGI handler) behind the sold-out gate; with `slim` (a
    FlashBuyHandler), the buy endpoint's cookieless POSTs go there instead."""

    def gate(environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            match = _PATH.match(environ.get("PATH_INFO", ""))
            if match is not None:
                started = time.monotonic()
                try:
                    sold_out = flash_store.sold_out(int(match.group(1)))
                except Exception:  # Redis unreachable: let Django answer
                    sold_out = False
                if sold_out:
                    return _sold_out_answer(environ, start_response, started)
                environ[CHECKED] = True  # asked once: the API handler need not ask again
                if slim is not None and cookieless(environ) and _SLIM_PATH.match(environ["PATH_INFO"]):
                    environ[_RAW_ID] = match.group(1)
                    return slim(environ, start_response)
        return app(environ, start_response)

    gate.django_app = app
    gate.slim_app = slim
    return gate
