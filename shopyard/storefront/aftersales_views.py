"""The shopper's after-sales pages: apply from an order (申请退款 / 申请售后), the order
centre's 退款售后 tab (the case list), and a case's detail with its timeline and the next
steps the case's state machine allows the buyer. Each view parses the form, calls one
aftersales service and renders; a service error shows on the page with its 4xx status."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.aftersales import queries, services
from shopyard.aftersales.state import Action, Kind, Role, Status, allowed_actions
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.i18n import localized
from shopyard.core.validation import page_number
from shopyard.orders import queries as order_queries
from shopyard.shipping.models import Carrier

from .buying_views import order_centre_tabs

CASES_PER_PAGE = 10


def _errors(exc: DomainError) -> dict:
    return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}


# --- apply ---------------------------------------------------------------------------


def _apply_page(request, order, *, form=None, errors=None, error="", status=200):
    offers = queries.order_offers(order)
    kinds = [k for offer in offers.values() for k in offer]
    form = form or {}
    errors = errors or {}
    left = queries.lines_left(order)
    for line in order.lines.all():
        line.title_label = localized(line, "product_title")
        line.sku_label = localized(line, "sku_name")
        line.units_left = left.get(line.pk, 0)
        line.asked = form.get(f"qty-{line.pk}", "")
        line.errors = errors.get(f"line-{line.pk}", [])
    kind = form.get("kind") or (kinds[0] if kinds else "")
    return render(request, "storefront/aftersales_apply.html", {
        "order": order, "kinds": [(k, Kind(k).label) for k in kinds], "kind": kind,
        "reasons": queries.reasons(), "form": form, "errors": errors, "error": error,
        "refund_only": "refund" in offers,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, pk):
    """The apply form: which lines and how many, type, reason, description, photos."""
    order = order_queries.buyer_order_detail(request.user, pk)
    if order is None:
        raise Http404(_("Order not found."))
    if request.method == "GET":
        return _apply_page(request, order, form={"kind": request.GET.get("kind", "")})
    form = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    lines = [{"line_id": line.pk, "quantity": form[f"qty-{line.pk}"].strip()} for line in order.lines.all()
             if form.get(f"qty-{line.pk}", "").strip() not in ("", "0")]
    try:
        case = services.open_case(
            actor=request.user, order_id=order.pk, kind=form.get("kind", ""), reason_id=form.get("reason_id", ""),
            lines=lines, description=form.get("description", ""), amount=form.get("amount") or None,
            compensation=form.get("compensation", ""), photos=request.FILES.getlist("photos"))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        errors = _errors(exc)
        for i, line in enumerate(lines):
            for field in ("line_id", "quantity"):
                if f"lines[{i}].{field}" in errors:
                    errors[f"line-{line['line_id']}"] = errors.pop(f"lines[{i}].{field}")
        return _apply_page(request, order, form=form, errors=errors, status=exc.status,
                           error=str(exc.message) if not exc.fields or exc.status == 409 else "")
    messages.success(request, _("Your request was sent to the shop."))
    return redirect("storefront:case_detail", pk=case.pk)


# --- the order centre's 退款售后 tab -------------------------------------------------


@login_required
def cases(request):
    page = Paginator(queries.buyer_cases(request.user), CASES_PER_PAGE).get_page(page_number(request.GET.get("page")))
    for case in page.object_list:
        case.shop_label = localized(case.shop, "name")
        case.reason_label = case.reason.label()
    return render(request, "storefront/aftersales_cases.html", {
        "page": page, "cases": page.object_list, "tabs": order_centre_tabs(request.user), "current": "aftersales",
    })


# --- a case ----------------------------------------------------------------------------


def _case_page(request, pk, *, errors=None, form=None, error="", status=200):
    case = queries.buyer_case_detail(request.user, pk)
    if case is None:
        raise Http404(_("After-sales case not found."))
    case.shop_label = localized(case.shop, "name")
    actions = {str(a) for a in allowed_actions(case.kind, case.status, Role.BUYER)}
    return render(request, "storefront/aftersales_case.html", {
        "case": case, "events": queries.timeline(case, Role.BUYER), "actions": actions, "carriers": Carrier.choices,
        "errors": errors or {}, "form": form or {}, "error": error, "waiting_return": case.status == Status.APPROVED
        and Action.SHIP_RETURN in actions,
    }, status=status)


@login_required
def case_detail(request, pk):
    return _case_page(request, pk)


BUYER_STEPS = {
    "cancel": lambda request, pk: services.cancel_case(actor=request.user, case_id=pk,
                                                       note=request.POST.get("note", "")),
    "ship_return": lambda request, pk: services.ship_return(
        actor=request.user, case_id=pk, carrier=request.POST.get("carrier", ""),
        tracking_number=request.POST.get("tracking_number", ""), note=request.POST.get("note", ""),
        photos=request.FILES.getlist("photos")),
    "confirm": lambda request, pk: services.confirm_case(actor=request.user, case_id=pk),
    "escalate": lambda request, pk: services.escalate(actor=request.user, case_id=pk,
                                                      note=request.POST.get("note", ""),
                                                      photos=request.FILES.getlist("photos")),
    "photos": lambda request, pk: services.add_photos(actor=request.user, case_id=pk,
                                                      photos=request.FILES.getlist("photos"),
                                                      note=request.POST.get("note", "")),
}


@login_required
@require_POST
def case_step(request, pk, step):
    if step not in BUYER_STEPS:
        raise Http404
    try:
        BUYER_STEPS[step](request, pk)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return _case_page(request, pk, errors={step: _errors(exc) or {"__all__": [str(exc.message)]}},
                          form=request.POST, error=str(exc.message), status=exc.status)
    messages.success(request, _("Done."))
    return redirect("storefront:case_detail", pk=pk)
