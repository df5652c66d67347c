"""Order reads, always scoped to the caller: a buyer's own orders, or a shop's."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Prefetch, Q

from shopyard.core.errors import ValidationFailed
from shopyard.core.validation import check_id

from .models import Order, OrderAdjustment, OrderLine, OrderStatusChange
from .state import BUYER_TABS, Action, allowed_actions


def _id(value):
    """A valid id or None (a malformed one finds nothing, like a foreign one)."""
    try:
        return check_id(value, "order_id")
    except ValidationFailed:
        return None


def _detail_qs():
    return Order.objects.select_related("shop").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("lines__adjustments", queryset=OrderAdjustment.objects.order_by("id")),
        Prefetch("history", queryset=OrderStatusChange.objects.order_by("id")),
        # the parcels (shipping.Shipment, by their reverse name) with what each holds and its timeline
        Prefetch("shipments", queryset=Order.shipments.rel.related_model.objects.order_by("id")),
        "shipments__lines__line", "shipments__events",
    )


def buyer_orders(user, *, status=None):
    qs = Order.objects.filter(user=user).select_related("shop").prefetch_related("lines", "lines__adjustments")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def payment_deadline(order):
    """When an unpaid order is cancelled by the timeout job, or None once it
    cannot expire any more. The job cancels orders placed before
    now - timeout, so this is the moment the countdown on pages and the API's
    `pay_by` reach zero."""
    if Action.EXPIRE not in allowed_actions(order.status):
        return None
    return order.placed_at + timedelta(minutes=pay_minutes(order))


def pay_minutes(order) -> int:
    """The minutes an order has to be paid: the unpaid-order timeout, or less when an offer
    that priced it asked for less (Order.pay_within_minutes)."""
    timeout = settings.UNPAID_ORDER_TIMEOUT_MINUTES
    return min(timeout, order.pay_within_minutes) if order.pay_within_minutes else timeout


def buyer_tab_orders(user, tab):
    """A buyer's orders under an order-centre tab (see state.BUYER_TABS), with
    what the list shows: shop, lines, and each line's SKU, product and images
    (for the thumbnail), in a fixed number of queries."""
    from shopyard.catalog.models import ProductImage

    lines = OrderLine.objects.select_related("sku__product").prefetch_related(
        Prefetch("sku__product__images", queryset=ProductImage.objects.order_by("position", "id"))
    ).order_by("id")
    qs = Order.objects.filter(user=user).select_related("shop").prefetch_related(Prefetch("lines", queryset=lines))
    statuses = BUYER_TABS.get(tab)
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.order_by("-id")


def buyer_tab_counts(user) -> dict:
    """How many orders each order-centre tab holds, in one aggregate query."""
    aggregates = {
        tab: Count("pk", filter=Q(status__in=statuses)) if statuses else Count("pk")
        for tab, statuses in BUYER_TABS.items()
    }
    return Order.objects.filter(user=user).aggregate(**aggregates)


def buyer_order_detail(user, order_id):
    pk = _id(order_id)
    return _detail_qs().filter(user=user, pk=pk).first() if pk else None


def shop_orders(shop, *, status=None, q=None):
    qs = Order.objects.filter(shop=shop).select_related("user").prefetch_related("lines", "lines__adjustments")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(number__icontains=q)
    return qs.order_by("-id")


def shop_order_detail(shop, order_id):
    pk = _id(order_id)
    return _detail_qs().select_related("user").filter(shop=shop, pk=pk).first() if pk else None


def history_label_for_buyer(change, order) -> str:
    """Who made a status change, as the buyer may see it: never a seller's or
    staff member's login name, but "you", "system", or the shop's name."""
    from django.utils.translation import gettext as _

    from shopyard.core.i18n import localized

    from .state import PERFORMERS, Role

    if change.actor_id is None:
        return _("system")
    if change.actor_id == order.user_id:
        return _("you")
    if Role.SELLER in PERFORMERS.get(change.action, ()):
        return localized(order.shop, "name")
    return _("Shopyard staff")
