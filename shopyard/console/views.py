"""Seller console pages. Each view parses input, calls one service and
renders; everything is scoped to the current shop (request.console.shop) and a
foreign id is a 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.catalog import services as catalog
from shopyard.catalog.models import Product
from shopyard.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from shopyard.core.money import money_str
from shopyard.core.validation import page_number, parse_id
from shopyard.orders import queries as order_queries
from shopyard.orders import services as order_services
from shopyard.orders.state import (
    PARCEL_STATUSES,
    Action,
    Role,
    Status,
    actions_for,
    allowed_actions,
)
from shopyard.payments import queries as payment_queries
from shopyard.payments import refunds
from shopyard.shipping import queries as freight
from shopyard.shipping import services as freight_services
from shopyard.shipping.models import Carrier

from . import forms, queries
from . import services as console_services
from .access import seller_required

PAGE_SIZE = 20


def _render(request, template, context=None, status=200):
    ctx = {"console": request.console, "shop": request.console.shop}
    ctx.update(context or {})
    return render(request, template, ctx, status=status)


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(page_number(request.GET.get("page")))


def _messages_of(exc: DomainError) -> list[str]:
    out = []
    for value in exc.fields.values():
        out.extend(str(m) for m in (value if isinstance(value, list | tuple) else [value]))
    return out or [str(exc.message)]


def _safe_next(request, default):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


# --- dashboard -----------------------------------------------------------

@seller_required("overview")
def dashboard(request):
    return _render(request, "console/dashboard.html", {"stats": queries.dashboard(request.console.shop), "nav": "dashboard"})


# --- products ------------------------------------------------------------

def _products_page(request, *, status=200, error=None):
    q = (request.GET.get("q") or "").strip()[:100]
    status_filter = request.GET.get("status") or ""
    low_stock = request.GET.get("stock") == "low"
    page = _page(request, queries.shop_products(request.console.shop, q=q, status=status_filter, low_stock=low_stock))
    return _render(request, "console/products.html", {
        "page": page, "q": q, "status_filter": status_filter, "statuses": Product.Status.choices,
        "low_stock": low_stock,
        "error": error, "nav": "products",
    }, status=status)


@seller_required("catalog")
def products(request):
    return _products_page(request)


@seller_required("catalog")
@require_POST
def product_publish(request, pk):
    published = request.POST.get("published") == "1"
    try:
        product = catalog.set_published(actor=request.user, shop=request.console.shop, product_id=pk, published=published)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return _products_page(request, status=exc.status, error=" ".join(_messages_of(exc)))
    if published:
        messages.success(request, _("“%(title)s” is now on sale.") % {"title": product.label})
    else:
        messages.success(request, _("“%(title)s” was taken off sale.") % {"title": product.label})
    return redirect(_safe_next(request, reverse("console:products")))


def _editor_context(request, state, product=None, image_errors=None):
    return {
        "state": state, "product": product, "categories": queries.category_choices(),
        "brands": queries.brand_choices(), "image_errors": image_errors or [], "nav": "products",
        "max_attributes": forms.MAX_ATTRIBUTES,
        "freight_templates": freight.template_choices(request.console.shop),
    }


def _editor(request, *, product=None):
    """GET shows the editor; POST with action=generate/add_row rebuilds the
    SKU table; POST with action=save calls the create/update service."""
    shop = request.console.shop
    template = "console/product_form.html"
    if request.method != "POST":
        state = forms.from_product(product) if product else forms.EditorState(code_base=forms.new_code_base())
        if product is None:
            state.rows = [forms.SkuRow(code=f"{state.code_base}-1")]
        return _render(request, template, _editor_context(request, state, product))

    state = forms.parse_post(request.POST)
    action = request.POST.get("action", "save")
    if action == "generate":
        forms.regenerate_rows(state)
        return _render(request, template, _editor_context(request, state, product),
                       status=422 if state.has_errors else 200)
    if action == "apply_all":
        forms.apply_to_all(state)
        return _render(request, template, _editor_context(request, state, product),
                       status=422 if state.has_errors else 200)
    if action == "add_row":
        forms.add_blank_row(state)
        return _render(request, template, _editor_context(request, state, product))

    data, form_errors = forms.to_data(state)
    try:
        if form_errors:
            raise ValidationFailed(fields=form_errors)
        with transaction.atomic():  # the product and its freight template, or nothing
            if product is None:
                saved = catalog.create_product(actor=request.user, shop=shop, data=data)
            else:
                saved = catalog.update_product(actor=request.user, shop=shop, product_id=product.pk, data=data)
            if (product is None and state.freight_template) or (
                    product is not None and state.freight_template != str(product.freight_template_id or "")):
                freight_services.assign_template(actor=request.user, shop=shop, product_ids=[saved.pk],
                                                 template_id=state.freight_template or None)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        if "template_id" in exc.fields:
            state.errors["freight_template_id"] = [str(m) for m in exc.fields.pop("template_id")]
        forms.attach_errors(state, exc.fields)
        if not exc.fields:
            state.other_errors.append(str(exc.message))
        return _render(request, template, _editor_context(request, state, product), status=exc.status)
    messages.success(request, _("Product saved."))
    return redirect("console:product_edit", pk=saved.pk)


@seller_required("catalog")
@require_http_methods(["GET", "POST"])
def product_create(request):
    return _editor(request)


def _own_product(request, pk):
    product = queries.shop_product(request.console.shop, pk)
    if product is None:
        raise Http404
    return product


@seller_required("catalog")
@require_http_methods(["GET", "POST"])
def product_edit(request, pk):
    return _editor(request, product=_own_product(request, pk))


@seller_required("catalog")
@require_POST
def image_upload(request, pk):
    product = _own_product(request, pk)
    uploads = request.FILES.getlist("images")
    errors = []
    if not uploads:
        errors.append(_("Choose at least one image to upload."))
    added = 0
    for upload in uploads:
        try:
            catalog.add_image(actor=request.user, shop=request.console.shop, product_id=product.pk, upload=upload)
            added += 1
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            for message in _messages_of(exc):
                errors.append(_("%(file)s: %(error)s") % {"file": upload.name, "error": message})
    if errors:
        if added:
            errors.insert(0, _("%(n)s image(s) uploaded; some files were refused:") % {"n": added})
        product = _own_product(request, pk)  # fresh image list
        return _render(request, "console/product_form.html",
                       _editor_context(request, forms.from_product(product), product, image_errors=errors), status=422)
    messages.success(request, _("%(n)s image(s) uploaded.") % {"n": added})
    return redirect(reverse("console:product_edit", kwargs={"pk": product.pk}) + "#images")


@seller_required("catalog")
@require_POST
def image_delete(request, pk, image_id):
    try:
        catalog.delete_image(actor=request.user, shop=request.console.shop, product_id=pk, image_id=image_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("Image deleted."))
    return redirect(reverse("console:product_edit", kwargs={"pk": pk}) + "#images")


@seller_required("catalog")
@require_POST
def image_move(request, pk, image_id):
    """The arrows and "make cover" buttons: one step, no JavaScript needed."""
    try:
        catalog.move_image(actor=request.user, shop=request.console.shop, product_id=pk, image_id=image_id,
                           direction=request.POST.get("direction", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, " ".join(_messages_of(exc)))
        return redirect(reverse("console:product_edit", kwargs={"pk": pk}) + "#images")
    messages.success(request, _("Image order saved."))
    return redirect(reverse("console:product_edit", kwargs={"pk": pk}) + "#images")


@seller_required("catalog")
@require_POST
def image_order(request, pk):
    """The whole order at once (sent by drag and drop in console.js)."""
    try:
        catalog.reorder_images(actor=request.user, shop=request.console.shop, product_id=pk,
                               image_ids=request.POST.getlist("image_ids"))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, " ".join(_messages_of(exc)))
        return redirect(reverse("console:product_edit", kwargs={"pk": pk}) + "#images")
    messages.success(request, _("Image order saved."))
    return redirect(reverse("console:product_edit", kwargs={"pk": pk}) + "#images")


# --- orders --------------------------------------------------------------

ORDER_LIMIT = 100  # orders printed or shipped in one go


@seller_required("orders")
def orders(request):
    q = (request.GET.get("q") or "").strip()[:32]
    status_filter = request.GET.get("status") or ""
    if status_filter not in Status.values:
        status_filter = ""
    paid_today = request.GET.get("day") == "today"
    page = _page(request, queries.shop_orders(request.console.shop, status=status_filter, q=q, paid_today=paid_today))
    return _render(request, "console/orders.html", {
        "page": page, "q": q, "status_filter": status_filter, "statuses": Status.choices, "nav": "orders",
        "paid_today": paid_today,
    })


def _ids(values) -> list[int] | None:
    """Order ids from a query string; None when one is malformed (then it finds nothing, like a foreign one)."""
    ids = [parse_id(v) for v in values[:ORDER_LIMIT]]
    return None if any(i is None for i in ids) else sorted(set(ids))


@seller_required("orders")
def packing_list(request):
    ids = _ids(request.GET.getlist("ids"))
    if not ids:
        raise Http404
    found = queries.packing_orders(request.console.shop, ids)
    if len(found) != len(ids):
        raise Http404
    return _render(request, "console/packing_list.html", {"orders": found, "nav": "orders"})


def _bulk_form(request, order_ids):
    return {str(pk): {"carrier": request.POST.get(f"carrier-{pk}", ""),
                      "tracking_number": request.POST.get(f"tracking-{pk}", "")} for pk in order_ids}


@seller_required("orders")
@require_http_methods(["GET", "POST"])
def bulk_ship(request):
    """GET lists paid orders (all, or those ticked on the orders page); POST
    ships the ticked ones, each with its own carrier and tracking number."""
    shop = request.console.shop
    source = request.POST if request.method == "POST" else request.GET
    ids = _ids(source.getlist("ids"))
    if ids is None:
        raise Http404
    context = {"nav": "orders", "carriers": Carrier.choices, "errors": {}, "form": {}, "done": []}
    status = 200
    if request.method == "POST":
        if not ids:
            context["error"] = _("Tick at least one order to ship.")
            status = 422
        else:
            form = _bulk_form(request, ids)
            result = console_services.ship_orders(actor=request.user, shop=shop, shipments=[
                {"order_id": pk, **form[str(pk)]} for pk in ids])
            if not result.errors:
                messages.success(request, ngettext("%(n)s order marked as shipped.", "%(n)s orders marked as shipped.",
                                                   len(result.shipped)) % {"n": len(result.shipped)})
                # the list of orders in the status shipping led to
                return redirect(reverse("console:orders") + "?status=" + result.shipped[0].status)
            context.update(errors={str(k): v for k, v in result.errors.items()}, form=form, done=result.shipped)
            status = 422 if not result.shipped else 200
    if context["errors"]:
        # show again only the orders that failed: those still shippable with the typed values
        wanted = [int(pk) for pk in context["errors"]]
    else:
        wanted = ids or None
    context["orders"] = queries.shippable_orders(shop, wanted)
    listed = {o.pk for o in context["orders"]}
    context["failed"] = [(pk, context["errors"][pk]) for pk in context["errors"] if int(pk) not in listed]
    return _render(request, "console/bulk_ship.html", context, status=status)


def _order_page(request, pk, *, status=200, ship_errors=None, ship_error=None, form=None, refund_errors=None,
                refund_form=None):
    order = order_queries.shop_order_detail(request.console.shop, pk)
    if order is None:
        raise Http404
    parcels = list(order.shipments.all())
    shipped = {}
    for parcel in parcels:
        for row in parcel.lines.all():
            shipped[row.line_id] = shipped.get(row.line_id, 0) + row.quantity
    for line in order.lines.all():
        line.left_to_ship = line.quantity - shipped.get(line.pk, 0)
    left = payment_queries.left_to_refund(order)
    refund_errors, refund_form = refund_errors or {}, refund_form or {}
    for line in order.lines.all():
        line.left_to_refund = left.get(line.pk)
        line.refund_amount = refund_form.get(f"amount-{line.pk}", "")
        line.refund_errors = refund_errors.get(f"line-{line.pk}")
    can_ship = Action.SHIP in actions_for(order, Role.SELLER)
    # a shipped order whose lines are not all in parcels yet takes further parcels
    more = (not can_ship and not order.hold and order.status in PARCEL_STATUSES
            and any(line.left_to_ship > 0 for line in order.lines.all()))
    return _render(request, "console/order_detail.html", {
        "order": order, "shipment": parcels[0] if parcels else None, "parcels": parcels, "carriers": Carrier.choices,
        "can_ship": can_ship or more, "more_parcels": more,
        "awaiting_payment": Action.PAY in allowed_actions(order.status),
        "ship_errors": ship_errors or {}, "ship_error": ship_error, "form": form or {}, "nav": "orders",
        "address": order.shipping_address or {},
        "refunds": payment_queries.refunds_for_order(order),
        "can_refund": order.status in refunds.REFUNDABLE_ORDER_STATUSES and any(v > 0 for v in left.values()),
        "refund_errors": refund_errors, "refund_form": refund_form, "refund_general": refund_errors.get("__all__", []),
    }, status=status)


@seller_required("orders")
def order_detail(request, pk):
    return _order_page(request, pk)


@seller_required("orders")
@require_POST
def order_refund(request, pk):
    """Refund lines of the order: `amount-<line id>` and/or `qty-<line id>` per line, and a reason."""
    picked = {}
    for key, value in request.POST.items():
        for prefix, field in (("amount-", "amount"), ("rqty-", "quantity")):
            if key.startswith(prefix) and value.strip():
                picked.setdefault(key[len(prefix):], {})[field] = value.strip()
    lines = [{"line_id": line_id, **fields} for line_id, fields in picked.items()]
    form = {"reason": request.POST.get("reason", ""), **{k: v for k, v in request.POST.items()
                                                          if k.startswith(("amount-", "rqty-"))}}
    try:
        refund = refunds.refund_order_lines(actor=request.user, shop=request.console.shop, order_id=pk,
                                            lines=lines, reason=form["reason"])
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
        # lines[i].amount → the field of that line, so the message shows beside it
        for i, line in enumerate(lines):
            for field in ("line_id", "amount", "quantity"):
                if f"lines[{i}].{field}" in errors:
                    errors[f"line-{line['line_id']}"] = errors.pop(f"lines[{i}].{field}")
        return _order_page(request, pk, status=exc.status, refund_errors=errors, refund_form=form)
    except Conflict as exc:
        return _order_page(request, pk, status=exc.status, refund_errors={"__all__": [str(exc.message)]},
                           refund_form=form)
    messages.success(request, _("Refund of %(amount)s requested; the gateway completes it.")
                     % {"amount": money_str(refund.amount, refund.currency)})
    return redirect("console:order_detail", pk=pk)


@seller_required("orders")
@require_POST
def order_ship(request, pk):
    form = {"carrier": request.POST.get("carrier", ""), "tracking_number": request.POST.get("tracking_number", "")}
    # per-line quantities (qty-<line id>) make a parcel of those units; without them the order ships whole
    quantities = {key[4:]: value.strip() for key, value in request.POST.items() if key.startswith("qty-") and value.strip()}
    try:
        if quantities or "parcel" in request.POST:
            order = order_services.shop_order(shop=request.console.shop, order_id=pk)
            lines = [{"line_id": line_id, "quantity": qty} for line_id, qty in quantities.items() if qty != "0"]
            freight_services.ship_parcel(actor=request.user, order=order, lines=lines, **form)
        else:
            order = order_services.ship(actor=request.user, shop=request.console.shop, order_id=pk, **form)
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
        return _order_page(request, pk, status=exc.status, ship_errors=errors, form=form)
    except Conflict as exc:
        current = order_queries.shop_order_detail(request.console.shop, pk)
        label = current.get_status_display() if current else ""
        message = _("Only paid orders can be shipped; this order is “%(status)s”.") % {"status": label}
        if exc.code in ("order_on_hold", "nothing_to_ship"):  # the service says why
            message = str(exc.message)
        return _order_page(request, pk, status=409, ship_error=message, form=form)
    messages.success(request, _("Order %(number)s marked as shipped.") % {"number": order.number})
    return redirect("console:order_detail", pk=order.pk)
