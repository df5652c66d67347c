"""Operator pages: the disputes waiting for the platform, and one dispute with both sides'
evidence (the timeline, the photos, the order) and the decision form. Staff only, in the
admin's look, like payments' reconciliation pages."""

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shopyard.core.errors import DomainError, NotFound

from . import queries, services
from .state import Role, Status, allowed_actions


@staff_member_required
def disputes(request):
    status = request.GET.get("status") or Status.DISPUTED
    status = status if status in Status.values else Status.DISPUTED
    cases = list(queries.operator_cases(request.user, status=status)[:200])
    return render(request, "aftersales/disputes.html", {
        **admin.site.each_context(request), "title": _("After-sales disputes"), "cases": cases,
        "status": status, "statuses": Status.choices,
    })


@staff_member_required
@require_http_methods(["GET", "POST"])
def dispute(request, pk):
    errors, error, form, status = {}, "", {}, 200
    if request.method == "POST":
        form = request.POST
        try:
            services.decide(actor=request.user, case_id=pk, decision=form.get("decision", ""),
                            amount=form.get("amount") or None, note=form.get("note", ""))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
            error, status = str(exc.message), exc.status
        else:
            messages.success(request, _("The decision was carried out."))
            return redirect("aftersales:dispute", pk=pk)
    case = queries.operator_case_detail(request.user, pk)
    if case is None:
        raise Http404
    events = queries.timeline(case, Role.OPERATOR)
    return render(request, "aftersales/dispute.html", {
        **admin.site.each_context(request), "title": _("After-sales dispute"), "case": case, "events": events,
        "buyer_photos": [p for p in case.photos.all() if p.role == Role.BUYER],
        "seller_photos": [p for p in case.photos.all() if p.role == Role.SELLER],
        "can_decide": bool(allowed_actions(case.kind, case.status, Role.OPERATOR)), "errors": errors, "error": error, "form": form,
    }, status=status)
