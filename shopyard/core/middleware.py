import json
import time

import structlog
from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from . import logs
from .validation import ID_MAX, parse_int


def _content_length(request) -> int:
    """The declared body size; one that is not a plain number counts as too large."""
    raw = request.META.get("CONTENT_LENGTH") or "0"
    length = parse_int(raw)
    return ID_MAX if length is None else length


class BodySizeLimitMiddleware:
    """Refuse oversized bodies before anything reads them (413, JSON)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = _content_length(request)
        limit = settings.MAX_REQUEST_BODY_BYTES
        if request.content_type and request.content_type.startswith("multipart/"):
            limit = settings.MAX_UPLOAD_BYTES * 6 + limit
        if length > limit:
            return JsonResponse(
                {"code": "payload_too_large", "message": _("The request body is too large."), "fields": {}},
                status=413,
            )
        return self.get_response(request)


NUL = "\x00"


def _nul_in_json(value, path="") -> str | None:
    """The dotted path of the first string (or key) holding a NUL, else None."""
    if isinstance(value, str):
        return (path or "__all__") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return name.replace(NUL, "\\0")
            found = _nul_in_json(item, name)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in_json(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _nul_in_querydict(data) -> str | None:
    for key, values in data.lists():
        if NUL in key or any(NUL in v for v in values):
            return key.replace(NUL, "\\0")
    return None


class NulByteMiddleware:
    """Refuse a NUL character anywhere in the input, once, before any view or
    service sees it: PostgreSQL text cannot hold one (psycopg raises, a 500),
    and no legitimate text contains it. Query parameters, form fields
    (urlencoded and the text fields of multipart forms: file contents are
    binary and not checked), JSON bodies (a raw NUL or a "\\u0000" escape),
    the path and request headers are checked; cookies holding a NUL are
    dropped. The API answers 422 with the field, pages 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [n for n, v in request.COOKIES.items() if NUL in n or NUL in v]:
            del request.COOKIES[name]
        try:
            field = self._find(request)
        except MultiPartParserError:
            return self._malformed(request)
        if field is not None:
            return self._refuse(request, field)
        return self.get_response(request)

    def _malformed(self, request):
        """A multipart body the form parser cannot read: the API says so in its own JSON shape."""
        with translation.override(translation.get_language_from_request(request)):
            message = _("The request body is not a valid form.")
            if request.path_info.startswith("/api/"):
                return JsonResponse({"code": "malformed_request", "message": message, "fields": {}}, status=400)
            return HttpResponseBadRequest(message)

    def _find(self, request) -> str | None:
        if NUL in request.path_info:
            return "path"
        for key, value in request.META.items():
            if key.startswith("HTTP_") and key != "HTTP_COOKIE" and isinstance(value, str) and NUL in value:
                return key[5:].replace("_", "-").title()
        if NUL in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            found = _nul_in_querydict(request.GET)
            if found:
                return found
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.content_type or ""
        if content_type == "multipart/form-data":
            if _content_length(request) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                request.body  # noqa: B018 - keep the raw body readable for the API's JSON parser
            return _nul_in_querydict(request.POST) if request.method == "POST" else None
        body = request.body
        if content_type == "application/x-www-form-urlencoded":
            return _nul_in_querydict(request.POST if request.method == "POST" else QueryDict(body))
        if b"\x00" in body:
            return "__all__"
        if b"\\u0000" in body:
            try:
                data = json.loads(body)
            except ValueError:
                return None  # not JSON: the API refuses it as such
            return _nul_in_json(data)
        return None

    def _refuse(self, request, field):
        with translation.override(translation.get_language_from_request(request)):
            message = _("Remove the NUL character (\\0) from this field: it is not allowed in text.")
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {"code": "validation_error", "message": _("Some fields are invalid."), "fields": {field: [message]}},
                    status=422,
                )
            html = render_to_string("core/bad_input.html", {"field": field, "message": message})
        return HttpResponseBadRequest(html)


def _loaded_user_id(request):
    """The user's id when the request already loaded its user: logging never
    costs a session or user query of its own."""
    from django.utils.functional import empty

    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """Give each request an id (the caller's X-Request-ID when it is a plain id,
    else a new one), return it in the X-Request-ID response header, and log one
    line when the response is ready: method, path, status, duration, user id and
    request id. Early in MIDDLEWARE, so every line logged while the request runs
    (and every task it queues) carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = logs.accepted_request_id(request.META.get(logs.REQUEST_ID_META))
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[logs.REQUEST_ID_HEADER] = request_id
            user_id = _loaded_user_id(request)
            logs.log_request(method=request.method, path=logs.loggable_path(request), status=response.status_code,
                             started=started, user_id=user_id)
            return response
        finally:
            structlog.contextvars.clear_contextvars()
