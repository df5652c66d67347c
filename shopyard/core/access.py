"""Who is a platform operator: the one home of that rule.

Operators review seller applications, moderate, arbitrate disputes and suspend
shops. Today an operator is a staff user (`user.is_staff`); if that ever
changes (a group, a permission), only `is_operator` changes. Services ask
`is_operator` / `require_operator`, pages use `operator_required`, API handlers
call `api_operator(request)`.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _

from .errors import PermissionDenied


def is_operator(user) -> bool:
    """Whether `user` (possibly None or anonymous) acts for the platform."""
    return bool(user is not None and getattr(user, "is_active", True) and getattr(user, "is_staff", False))


def require_operator(user, message=None) -> None:
    """403 (PermissionDenied) unless `user` is an operator; services call this first."""
    if not is_operator(user):
        raise PermissionDenied(message or _("Only platform operators may do this."))


def api_operator(request, message=None):
    """The operator calling an API endpoint (request.auth), or a 403."""
    require_operator(request.auth, message)
    return request.auth


def operator_required(view):
    """Pages for operators: a visitor goes to the login page, anyone else gets 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not is_operator(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    wrapper.operator_only = True
    return wrapper
