"""Forgot-password pages: ask for a link, then choose a new password.

The request page answers the same whether or not the address has an account;
the link page checks the link before showing the form and again when it is
posted, and a used or expired link gets a message and writes nothing."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from shopyard.core.errors import DomainError

from . import password_reset as reset
from .throttle import TryLater


def _field_errors(exc: DomainError) -> dict:
    return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}


@require_http_methods(["GET", "POST"])
def password_reset(request):
    email = request.POST.get("email", "").strip()[:254]
    errors, error, status, sent = {}, "", 200, False
    if request.method == "POST":
        try:
            reset.request_reset(email=email, request=request)
        except TryLater as exc:
            error, status = str(exc.message), exc.status
            response = render(request, "accounts/password_reset.html",
                              {"email": email, "errors": errors, "error": error}, status=status)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except DomainError as exc:
            errors, status = _field_errors(exc), exc.status
        else:
            sent = True
    context = {"email": email, "errors": errors, "error": error, "sent": sent}
    return render(request, "accounts/password_reset.html", context, status=status)


@never_cache
@sensitive_post_parameters("new_password", "new_password2")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request, uid, token):
    invalid = reset.invalid_link_error()
    if reset.user_for_link(uid, token) is None:
        context = {"valid": False, "error": str(invalid.message)}
        return render(request, "accounts/password_reset_confirm.html", context, status=400)
    errors, status = {}, 200
    if request.method == "POST":
        new_password = request.POST.get("new_password", "")
        if new_password != request.POST.get("new_password2", ""):
            errors, status = {"new_password2": [_("The two passwords do not match.")]}, 422
        else:
            try:
                reset.confirm_reset(uid=uid, token=token, new_password=new_password)
            except DomainError as exc:
                if "token" in exc.fields:
                    context = {"valid": False, "error": str(exc.message)}
                    return render(request, "accounts/password_reset_confirm.html", context, status=400)
                errors, status = _field_errors(exc), exc.status
            else:
                messages.success(request, _("Your password was reset. Log in with the new password."))
                return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"valid": True, "errors": errors}, status=status)

