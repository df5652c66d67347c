"""The security page: the user's logged-in sessions and API tokens, each
revocable, and "log out everywhere else" (parse, call accounts.sessions or
accounts.services, render)."""

from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.core.errors import NotFound

from . import services, sessions
from .queries import active_tokens


@login_required
def security(request):
    current = getattr(request, "user_session_id", None)
    rows = sessions.active_sessions(request.user)
    for row in rows:
        row.device = sessions.describe(row.user_agent) or _("Unknown device")
        row.is_current = row.pk == current
    rows.sort(key=lambda r: not r.is_current)
    context = {"sessions": rows, "tokens": active_tokens(request.user)}
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def revoke_session(request, pk):
    is_current = pk == getattr(request, "user_session_id", None)
    try:
        sessions.revoke_session(actor=request.user, session_id=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    if is_current:
        auth_logout(request)
        messages.info(request, _("You have logged out."))
        return redirect("storefront:home")
    messages.success(request, _("That session was logged out."))
    return redirect("accounts:security")


@login_required
@require_POST
def revoke_token(request, pk):
    try:
        services.revoke_token(actor=request.user, token_id=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    messages.success(request, _("The API token was revoked."))
    return redirect("accounts:security")


@login_required
@require_POST
def log_out_others(request):
    sessions.revoke_other_sessions(actor=request.user, keep_session_id=getattr(request, "user_session_id", None))
    messages.success(request, _("Every other session and every API token was logged out."))
    return redirect("accounts:security")
