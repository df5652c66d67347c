"""Domain errors: raised by services, turned into 4xx JSON by the API and into
form messages by pages. Each carries a stable machine code, a translated
message and optional per-field details.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = _("The request is invalid.")

    def __init__(self, message=None, *, fields=None, code=None):
        self.message = message or self.default_message
        self.fields = fields or {}
        if code:
            self.code = code
        super().__init__(str(self.message))

    def as_dict(self):
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in self.fields.items()},
        }


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"
    default_message = _("Some fields are invalid.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class InvalidTransition(Conflict):
    code = "invalid_transition"


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("Not enough stock.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many attempts. Please try again later.")


class BadRequest(DomainError):
    status = 400
    code = "bad_request"
