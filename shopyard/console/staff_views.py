"""The owner's staff page: who works for the shop and in which role, adding
someone by username or e-mail, changing a role, removing a member. Area
"staff" (owners only, shops.roles); the rules live in shops.staff."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.shops import staff
from shopyard.shops.queries import shop_members
from shopyard.shops.roles import PERMISSIONS, Area, Role

from .access import seller_required


def _errors(exc: DomainError) -> dict:
    return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()} \
        or {"general": [str(exc.message)]}


def _page(request, *, form=None, errors=None, status=200):
    shop = request.console.shop
    roles = [(value, label, [str(Area(a).label) for a in Area.values if a in PERMISSIONS[value]])
             for value, label in Role.choices]
    return render(request, "console/staff.html", {
        "console": request.console, "shop": shop, "nav": "staff", "members": shop_members(shop),
        "roles": roles, "role_choices": Role.choices, "form": form or {"role": Role.CS_AGENT},
        "errors": errors or {}}, status=status)


@seller_required("staff")
@require_http_methods(["GET", "POST"])
def staff_list(request):
    if request.method == "GET":
        return _page(request)
    form = {"login": request.POST.get("login", ""), "role": request.POST.get("role", "")}
    try:
        member = staff.invite_member(actor=request.user, shop=request.console.shop, login=form["login"],
                                     role=form["role"])
    except DomainError as exc:
        return _page(request, form=form, errors=_errors(exc), status=exc.status)
    messages.success(request, _("%(user)s joined the staff as %(role)s.") % {
        "user": member.user.username, "role": member.get_role_display()})
    return redirect("console:staff")


@seller_required("staff")
@require_POST
def staff_role(request, pk):
    try:
        member = staff.change_role(actor=request.user, shop=request.console.shop, member_id=pk,
                                   role=request.POST.get("role", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return _page(request, errors=_errors(exc), status=exc.status)
    messages.success(request, _("%(user)s is now %(role)s.") % {
        "user": member.user.username, "role": member.get_role_display()})
    return redirect("console:staff")


@seller_required("staff")
@require_POST
def staff_remove(request, pk):
    try:
        staff.remove_member(actor=request.user, shop=request.console.shop, member_id=pk)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return _page(request, errors=_errors(exc), status=exc.status)
    messages.success(request, _("Removed from the staff."))
    return redirect("console:staff")
