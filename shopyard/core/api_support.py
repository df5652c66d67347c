"""What every API router shares: bearer auth, the error body, pagination."""

import logging
from typing import Annotated

from django.conf import settings
from django.http import Http404
from django.http.request import RawPostDataException
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from ninja import Field, Path, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import model_validator

from .errors import DomainError
from .pagination import page_rows
from .validation import parse_int

log = logging.getLogger("shopyard.api")


ID_MAX = 2**53  # larger ids cannot exist; refusing them early keeps SQLite from overflowing

Id = Annotated[int, Path(..., ge=1, le=ID_MAX)]
BodyId = Annotated[int, Field(ge=1, le=ID_MAX, strict=True)]


def ascii_digits_only(value):
    """A `mode="before"` field validator for Decimal fields: pydantic's Decimal
    (like Python's) reads "٣" or "３" as 3; amounts are written in ASCII."""
    if isinstance(value, str) and not value.isascii():
        raise ValueError(_("Use the digits 0-9."))
    return value


class InSchema(Schema):
    """A request body: must be a JSON object (ninja's Schema would otherwise
    read attributes off a list and accept it as all-defaults)."""

    @model_validator(mode="before")
    @classmethod
    def _must_be_object(cls, data):
        raw = object.__getattribute__(data, "_obj") if type(data).__name__ == "DjangoGetter" else data
        if isinstance(raw, list | str | int | float | bool) or raw is None:
            raise ValueError(_("Send a JSON object."))
        return data


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class BearerAuth(HttpBearer):
    """Resolves a token through `settings.API_TOKEN_AUTHENTICATOR` (a dotted
    path to `fn(token) -> api token | None`, so core needs no accounts import;
    expired, revoked and pre-password-change tokens get 401). The token itself
    is kept on the request as `api_token`, so DELETE /auth/token can revoke it."""

    def authenticate(self, request, token):
        api_token = import_string(settings.API_TOKEN_AUTHENTICATOR)(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user


bearer = BearerAuth()

# every documented 4xx shares one body shape
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def responses(ok: dict) -> dict:
    return {**ok, **ERRORS}


def _body(code, message, fields=None):
    return {"code": code, "message": str(message), "fields": fields or {}}


def _loc_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "file", "payload", "data", "filters")]
    name = ""
    for p in parts:
        name += f"[{p}]" if parse_int(p) is not None else (f".{p}" if name else p)
    return name or "__all__"


def install_error_handlers(api):
    @api.exception_handler(DomainError)
    def domain_error(request, exc):
        response = api.create_response(request, exc.as_dict(), status=exc.status)
        if getattr(exc, "retry_after", None) is not None:  # a rate limit says when to come back
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request, exc):
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            fields.setdefault(_loc_name(err.get("loc", ())), []).append(str(err.get("msg", "invalid")))
        return api.create_response(request, _body("validation_error", _("Some fields are invalid."), fields), status=422)

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc):
        return api.create_response(
            request, _body("not_authenticated", _("Send a valid token: Authorization: Bearer <token>.")), status=401
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        code = "malformed_request" if exc.status_code == 400 else "http_error"
        message = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
        return api.create_response(request, _body(code, message), status=exc.status_code)

    @api.exception_handler(RawPostDataException)
    def body_already_parsed(request, exc):
        # a large multipart form sent where a JSON body is expected: its stream went to the form parser
        return api.create_response(request, _body("malformed_request", _("The request body is not valid JSON.")), status=400)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, _body("not_found", _("Not found.")), status=404)

    @api.exception_handler(Exception)
    def server_error(request, exc):
        log.exception("unhandled API error on %s %s", request.method, request.path)
        if settings.DEBUG:
            raise exc
        from .unavailable import RETRY_AFTER_SECONDS, database_down

        if database_down(exc):
            response = api.create_response(
                request, _body("service_unavailable", _("The service is unavailable; try again shortly.")), status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return api.create_response(request, _body("server_error", _("Something went wrong on our side.")), status=500)


class PageMeta(Schema):
    count: int
    page: int
    page_size: int
    pages: int


def paginate(qs, page: int, page_size: int, *, count=None):
    """One page of `qs` and its meta; `page_size` is capped at
    `settings.MAX_PAGE_SIZE` (the meta reports the size used). `count`, when
    given, is a callable returning the number of rows (a kept count: counting a
    large catalogue again for every page is what makes deep listings slow)."""
    page_size = min(page_size, settings.MAX_PAGE_SIZE)
    count = count() if count is not None else qs.count()
    pages = max(1, (count + page_size - 1) // page_size)
    start = (page - 1) * page_size
    items = list(page_rows(qs, start, start + page_size, count))  # a deep page read from the nearer end
    return items, {"count": count, "page": page, "page_size": page_size, "pages": pages}
