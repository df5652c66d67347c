"""Operator pages under /console/operator/: the seller-application review queue
and one application with its documents, history and the review form
(approve / reject with a reason / ask for more). Operators only
(core.access.operator_required); the rules live in shops.applications."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.core.access import operator_required
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.validation import page_number
from shopyard.shops import applications
from shopyard.shops.application_state import Status, operator_actions
from shopyard.shops.queries import application_for_operator, applications_for_operator

PAGE_SIZE = 20


@operator_required
def applications_queue(request):
    status = request.GET.get("status") or ""
    if status and status not in Status.values:
        status = ""
    qs = applications_for_operator(request.user, status=status or None)
    page = Paginator(qs, PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    return render(request, "console/operator_applications.html",
                  {"page": page, "status": status, "statuses": Status.choices})


def _detail(request, pk, *, errors=None, form=None, status=200):
    try:
        application = application_for_operator(request.user, pk)
    except NotFound:
        raise Http404 from None
    return render(request, "console/operator_application.html", {
        "application": application, "actions": [str(a) for a in operator_actions(application.status)],
        "errors": errors or {}, "form": form or {}}, status=status)


@operator_required
def application_detail(request, pk):
    return _detail(request, pk)


@operator_required
@require_POST
def application_review(request, pk):
    action, reason = request.POST.get("action", ""), request.POST.get("reason", "")
    try:
        application_for_operator(request.user, pk)
    except NotFound:
        raise Http404 from None
    try:
        application = applications.review(actor=request.user, application_id=pk, action=action, reason=reason)
    except DomainError as exc:
        errors = {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}
        return _detail(request, pk, errors=errors or {"general": [str(exc.message)]},
                       form={"reason": reason, "action": action}, status=exc.status)
    messages.success(request, _("Application %(name)s: %(status)s.") % {
        "name": application.shop_name, "status": application.get_status_display()})
    return redirect("console:operator_applications")
