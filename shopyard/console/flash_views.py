"""Seller console pages for the shop's flash sales (秒杀): the sessions with
their status, time and items; a new session; adding the shop's SKUs with a
flash price, flash stock and a limit per buyer; a preview of list → flash price
per item; publish (which sets the units aside from normal stock) and cancel
before the start. Every write is one promotions.flash call."""

from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.promotions import flash, flash_queries
from shopyard.promotions.flash_state import Status

from . import queries
from .access import seller_required
from .deal_support import act, default_window, error_context, field_errors, text
from .views import _page, _render

SESSION_FIELDS = ("name", "name_en", "starts_at", "ends_at")
ITEM_FIELDS = ("sku_id", "flash_price", "flash_stock", "per_user_limit")


@seller_required("promotions")
def flash_list(request):
    page = _page(request, flash_queries.seller_sessions(request.console.shop))
    now = timezone.now()
    for sale in page.object_list:
        sale.phase = flash_queries.phase(sale, now)
    return _render(request, "console/flash_sales.html", {"page": page, "nav": "promotions", "tab": "flash"})


@seller_required("promotions")
@require_http_methods(["GET", "POST"])
def flash_create(request):
    context = {"nav": "promotions", "tab": "flash"}
    if request.method != "POST":
        starts, _end = default_window(start_in_minutes=60)
        ends = default_window(start_in_minutes=120)[0]
        return _render(request, "console/flash_form.html", {"form": {"starts_at": starts, "ends_at": ends}, **context})
    form = {name: text(request.POST, name) for name in SESSION_FIELDS}
    try:
        sale = flash.create_sale(actor=request.user, shop=request.console.shop, data=dict(form))
    except DomainError as exc:
        return _render(request, "console/flash_form.html", {"form": form, **context, **error_context(field_errors(exc))},
                       status=exc.status)
    messages.success(request, _("Flash sale “%(name)s” saved as a draft: add its items, then publish it.")
                     % {"name": sale.name})
    return redirect("console:flash_detail", pk=sale.pk)


def _own(request, pk):
    try:
        return flash_queries.seller_session(request.console.shop, pk)
    except NotFound:
        raise Http404 from None


def preview_rows(sale) -> list:
    """Each item's list price → flash price and what a buyer saves, for the seller to check."""
    rows = []
    for item in sale.items.all():
        list_price = item.sku.price
        off = (Decimal(100) * (list_price - item.flash_price) / list_price).quantize(Decimal("1")) if list_price else 0
        rows.append({"item": item, "sku": item.sku, "list_price": list_price, "flash_price": item.flash_price,
                     "saving": list_price - item.flash_price, "percent_off": off, "currency": item.currency})
    return rows


def _detail(request, sale, *, form=None, errors=None, status=200):
    now = timezone.now()
    return _render(request, "console/flash_detail.html", {
        "sale": sale, "phase": flash_queries.phase(sale, now), "rows": preview_rows(sale),
        "editable": sale.status == Status.DRAFT,
        "cancellable": sale.status == Status.DRAFT or (sale.status == Status.SCHEDULED and now < sale.starts_at),
        "skus": queries.promotion_skus(request.console.shop), "form": form or {"per_user_limit": "1"},
        "nav": "promotions", "tab": "flash", **error_context(errors)}, status=status)


@seller_required("promotions")
def flash_detail(request, pk):
    return _detail(request, _own(request, pk))


@seller_required("promotions")
@require_POST
def flash_add_item(request, pk):
    sale = _own(request, pk)
    form = {name: text(request.POST, name) for name in ITEM_FIELDS}
    try:
        flash.add_item(actor=request.user, sale=sale, data=dict(form))
    except DomainError as exc:  # an unknown or foreign SKU is the service's NotFound with a field message
        status = 422 if isinstance(exc, NotFound) else exc.status
        return _detail(request, _own(request, pk), form=form, errors=field_errors(exc), status=status)
    messages.success(request, _("Item added."))
    return redirect("console:flash_detail", pk=sale.pk)


@seller_required("promotions")
@require_POST
def flash_publish(request, pk):
    sale = _own(request, pk)
    return act(request, lambda: flash.publish(actor=request.user, sale=sale),
               done=_("“%(name)s” is published: its units are set aside from normal stock."),
               back=reverse("console:flash_detail", kwargs={"pk": pk}))


@seller_required("promotions")
@require_POST
def flash_cancel(request, pk):
    sale = _own(request, pk)
    return act(request, lambda: flash.cancel(actor=request.user, sale=sale),
               done=_("“%(name)s” is cancelled."), back=reverse("console:flash_detail", kwargs={"pk": pk}))
