"""Seller console: freight templates (运费模板). The pages parse the form into
the data shipping.services takes and show its field errors beside each field;
the rules (fees, units, provinces) are the service's."""

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.core.validation import parse_id
from shopyard.shipping import queries as freight
from shopyard.shipping import services as freight_services
from shopyard.shipping.models import Basis, FreeShippingKind

from .access import seller_required
from .queries import shop_products
from .views import _messages_of, _page, _render

AMOUNTS = ("first_units", "first_fee", "additional_units", "additional_fee")
BLANK_REGION_ROWS = 2
BLANK_FREE_ROWS = 1
MAX_ROWS = 50
_ROW_KEY = re.compile(r"^(region_rules|free_rules)\[(\d+)\]\.(\w+)$")


@dataclass
class Row:
    """One regional or free-shipping rule row of the form."""

    values: dict = field(default_factory=dict)
    provinces: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        return not self.provinces and not any(str(v).strip() for v in self.values.values())


@dataclass
class TemplateForm:
    values: dict = field(default_factory=dict)
    undeliverable: list = field(default_factory=list)
    region_rows: list = field(default_factory=list)
    free_rows: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    other_errors: list = field(default_factory=list)


def _plain(value) -> str:
    return "" if value is None else f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)


def _from_template(template) -> TemplateForm:
    form = TemplateForm(values={"name": template.name, "basis": template.basis,
                                **{k: _plain(getattr(template, k)) for k in AMOUNTS}},
                        undeliverable=list(template.undeliverable))
    form.region_rows = [Row(values={k: _plain(getattr(r, k)) for k in AMOUNTS}, provinces=list(r.provinces))
                        for r in template.region_rules.all()]
    form.free_rows = [Row(values={"kind": r.kind, "threshold": _plain(r.threshold)}, provinces=list(r.provinces))
                      for r in template.free_rules.all()]
    return form


def _from_post(post) -> TemplateForm:
    def text(key, limit=100):
        return str(post.get(key, "") or "").strip()[:limit]

    form = TemplateForm(values={"name": text("name"), "basis": text("basis", 10), **{k: text(k, 30) for k in AMOUNTS}},
                        undeliverable=post.getlist("undeliverable")[:40])
    for i in range(MAX_ROWS):
        row = Row(values={k: text(f"region-{i}-{k}", 30) for k in AMOUNTS},
                  provinces=post.getlist(f"region-{i}-provinces")[:40])
        if not row.is_blank:
            form.region_rows.append(row)
        free = Row(values={"threshold": text(f"free-{i}-threshold", 30)},
                   provinces=post.getlist(f"free-{i}-provinces")[:40])
        if not free.is_blank:
            free.values["kind"] = text(f"free-{i}-kind", 10)
            form.free_rows.append(free)
    return form


def _data(form: TemplateForm) -> dict:
    return {**form.values, "undeliverable": form.undeliverable,
            "region_rules": [{**r.values, "provinces": r.provinces} for r in form.region_rows],
            "free_rules": [{**r.values, "provinces": r.provinces} for r in form.free_rows]}


def _attach(form: TemplateForm, errors: dict) -> None:
    for key, found in errors.items():
        found = [str(m) for m in (found if isinstance(found, list | tuple) else [found])]
        match = _ROW_KEY.match(key)
        if match:
            rows = form.region_rows if match.group(1) == "region_rules" else form.free_rows
            index = int(match.group(2))
            if index < len(rows):
                rows[index].errors.setdefault(match.group(3), []).extend(found)
                continue
        if key in (*form.values, "undeliverable", "basis"):
            form.errors.setdefault(key, []).extend(found)
        else:
            form.other_errors.extend(found)


def _editor_page(request, form, *, template=None, status=200):
    # blank rows to add rules without JavaScript
    region_rows = form.region_rows + [Row() for _i in range(BLANK_REGION_ROWS)]
    free_rows = form.free_rows + [Row(values={"kind": FreeShippingKind.AMOUNT}) for _i in range(BLANK_FREE_ROWS)]
    return _render(request, "console/freight_template_form.html", {
        "form": form, "template": template, "region_rows": region_rows, "free_rows": free_rows,
        "provinces": freight.province_choices(), "bases": Basis.choices, "free_kinds": FreeShippingKind.choices,
        "nav": "freight",
    }, status=status)


def _list_page(request, *, errors=None, status=200):
    shop = request.console.shop
    page = _page(request, shop_products(shop).select_related("freight_template"))
    return _render(request, "console/freight_templates.html", {
        "templates": freight.shop_templates(shop), "page": page, "nav": "freight", "errors": errors or [],
    }, status=status)


@seller_required("shipping")
def templates(request):
    """The shop's templates, and the bulk form that assigns one to products."""
    return _list_page(request)


@seller_required("shipping")
@require_http_methods(["GET", "POST"])
def template_create(request):
    if request.method != "POST":
        form = TemplateForm(values={"basis": Basis.PIECE, "first_units": "1", "additional_units": "1"})
        return _editor_page(request, form)
    form = _from_post(request.POST)
    try:
        freight_services.create_template(actor=request.user, shop=request.console.shop, data=_data(form))
    except DomainError as exc:
        _attach(form, exc.fields)
        return _editor_page(request, form, status=exc.status)
    messages.success(request, _("Freight template saved."))
    return redirect("console:freight_templates")


def _own_template(request, pk):
    template = freight.shop_template(request.console.shop, pk)
    if template is None:
        raise Http404
    return template


@seller_required("shipping")
@require_http_methods(["GET", "POST"])
def template_edit(request, pk):
    template = _own_template(request, pk)
    if request.method != "POST":
        return _editor_page(request, _from_template(template), template=template)
    form = _from_post(request.POST)
    try:
        freight_services.update_template(actor=request.user, shop=request.console.shop, template_id=template.pk,
                                         data=_data(form))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _attach(form, exc.fields)
        return _editor_page(request, form, template=template, status=exc.status)
    messages.success(request, _("Freight template saved."))
    return redirect("console:freight_templates")


@seller_required("shipping")
@require_POST
def template_delete(request, pk):
    try:
        freight_services.delete_template(actor=request.user, shop=request.console.shop, template_id=pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("Freight template deleted; its products use the shop's flat fee."))
    return redirect("console:freight_templates")


@seller_required("shipping")
@require_POST
def assign(request):
    """Bulk: the ticked products use the chosen template ("" : the shop's flat fee)."""
    ids = [parse_id(v) or v for v in request.POST.getlist("product_ids")]
    try:
        count = freight_services.assign_template(actor=request.user, shop=request.console.shop,
                                                 template_id=request.POST.get("template_id") or None, product_ids=ids)
    except DomainError as exc:
        return _list_page(request, errors=_messages_of(exc), status=exc.status)
    messages.success(request, ngettext("Shipping set for %(n)s product.", "Shipping set for %(n)s products.",
                                       count) % {"n": count})
    return redirect("console:freight_templates")
