"""The seller's after-sales pages: the case queue (nearest deadline first, filtered by
status and type) and a case's detail with the shop's next steps. Each view parses the form,
calls one aftersales service and renders; errors show on the page with their 4xx status."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.aftersales import queries, services
from shopyard.aftersales.models import ShopPolicy
from shopyard.aftersales.state import Kind, Role, Status, allowed_actions
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.validation import page_number
from shopyard.shipping.models import Carrier

from .access import seller_required
from .views import PAGE_SIZE, _render


@seller_required("aftersales")
def cases(request):
    shop = request.console.shop
    status = request.GET.get("status") or ""
    kind = request.GET.get("kind") or ""
    status = status if status in Status.values else ""
    kind = kind if kind in Kind.values else ""
    page = Paginator(queries.shop_cases(shop, status=status, kind=kind), PAGE_SIZE).get_page(
        page_number(request.GET.get("page")))
    return _render(request, "console/aftersales_cases.html", {
        "page": page, "status_filter": status, "kind_filter": kind, "statuses": Status.choices,
        "kinds": Kind.choices, "nav": "aftersales",
    })


@seller_required("aftersales")
@require_http_methods(["GET", "POST"])
def policy(request):
    """The shop's after-sales windows and deadlines (empty: the platform default)."""
    shop = request.console.shop
    errors, form, status = {}, None, 200
    if request.method == "POST":
        form = request.POST
        try:
            services.save_policy(actor=request.user, shop=shop, data=form)
        except DomainError as exc:
            errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
            status = exc.status
        else:
            messages.success(request, _("After-sales policy saved."))
            return redirect("console:case_policy")
    row = ShopPolicy.objects.filter(shop=shop).first()
    effective = services.policy_for(shop)
    defaults = {"changed_mind_days": "changed_mind", "quality_days": "quality", "warranty_days": "warranty",
                "price_protection_days": "price_protection", "respond_hours": "respond_hours",
                "return_ship_days": "return_ship_days", "inspect_days": "inspect_days"}
    fields = [{
        "name": name, "label": ShopPolicy._meta.get_field(name).verbose_name,
        "value": (form.get(name, "") if form is not None else (getattr(row, name, None) if row else None)) or "",
        "effective": effective[key], "errors": errors.get(name, []),
    } for name, key in defaults.items()]
    return _render(request, "console/aftersales_policy.html", {"fields": fields, "nav": "aftersales"},
                   status=status)


def _case_page(request, pk, *, errors=None, form=None, error="", status=200):
    case = queries.shop_case_detail(request.console.shop, pk)
    if case is None:
        raise Http404
    actions = {str(a) for a in allowed_actions(case.kind, case.status, Role.SELLER)}
    return _render(request, "console/aftersales_case.html", {
        "case": case, "events": queries.timeline(case, Role.SELLER), "actions": actions,
        "carriers": Carrier.choices, "errors": errors or {}, "form": form or {}, "error": error, "nav": "aftersales",
        "returns_goods": queries.returns_goods(case),
    }, status=status)


@seller_required("aftersales")
def case_detail(request, pk):
    return _case_page(request, pk)


def _resaleable(value):
    return {"yes": True, "no": False}.get(value, value)


SELLER_STEPS = {
    "approve": lambda r, shop, pk: services.approve(actor=r.user, shop=shop, case_id=pk, note=r.POST.get("note", "")),
    "reject": lambda r, shop, pk: services.reject(actor=r.user, shop=shop, case_id=pk, note=r.POST.get("note", ""),
                                                  photos=r.FILES.getlist("photos")),
    "receive": lambda r, shop, pk: services.receive(actor=r.user, shop=shop, case_id=pk, note=r.POST.get("note", "")),
    "inspect": lambda r, shop, pk: services.inspect(actor=r.user, shop=shop, case_id=pk,
                                                    resaleable=_resaleable(r.POST.get("resaleable")),
                                                    note=r.POST.get("note", ""), photos=r.FILES.getlist("photos")),
    "ship_replacement": lambda r, shop, pk: services.ship_replacement(
        actor=r.user, shop=shop, case_id=pk, carrier=r.POST.get("carrier", ""),
        tracking_number=r.POST.get("tracking_number", ""), note=r.POST.get("note", "")),
    "escalate": lambda r, shop, pk: services.escalate(actor=r.user, shop=shop, case_id=pk,
                                                      note=r.POST.get("note", ""), photos=r.FILES.getlist("photos")),
    "photos": lambda r, shop, pk: services.add_photos(actor=r.user, shop=shop, case_id=pk,
                                                      photos=r.FILES.getlist("photos"), note=r.POST.get("note", "")),
}


@seller_required("aftersales")
@require_POST
def case_step(request, pk, step):
    if step not in SELLER_STEPS:
        raise Http404
    try:
        SELLER_STEPS[step](request, request.console.shop, pk)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.fields.items()}
        return _case_page(request, pk, errors={step: fields}, form=request.POST, error=str(exc.message),
                          status=exc.status)
    messages.success(request, _("Done."))
    return redirect("console:case_detail", pk=pk)
