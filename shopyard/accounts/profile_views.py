"""The profile page: nickname and avatar (parse, call accounts.profile, render)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shopyard.core.errors import DomainError

from . import profile as profile_service


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    nickname = request.user.nickname
    errors, status = {}, 200
    if request.method == "POST":
        nickname = request.POST.get("nickname", "")
        try:
            profile_service.update_profile(
                actor=request.user, nickname=nickname, avatar=request.FILES.get("avatar"),
                remove_avatar=bool(request.POST.get("remove_avatar")),
            )
        except DomainError as exc:
            errors = {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}
            status = exc.status
        else:
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:profile")
    context = {"nickname": nickname, "errors": errors, "nickname_max": profile_service.NICKNAME_MAX}
    return render(request, "accounts/profile_edit.html", context, status=status)
