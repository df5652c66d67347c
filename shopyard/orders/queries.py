"""Order reads, always scoped to the caller: a buyer's own orders, or a shop's."""

from django.db.models import Prefetch

from shopyard.core.errors import ValidationFailed
from shopyard.core.validation import check_id

from .models import Order, OrderLine, OrderStatusChange


def _id(value):
    """A valid id or None (a malformed one finds nothing, like a foreign one)."""
    try:
        return check_id(value, "order_id")
    except ValidationFailed:
        return None


def _detail_qs():
    return Order.objects.select_related("shop").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("history", queryset=OrderStatusChange.objects.order_by("id")),
    )


def buyer_orders(user, *, status=None):
    qs = Order.objects.filter(user=user).select_related("shop").prefetch_related("lines")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def buyer_order_detail(user, order_id):
    pk = _id(order_id)
    return _detail_qs().select_related("shipment").filter(user=user, pk=pk).first() if pk else None


def shop_orders(shop, *, status=None, q=None):
    qs = Order.objects.filter(shop=shop).select_related("user").prefetch_related("lines")
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
