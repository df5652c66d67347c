"""Order reads, always scoped to the caller: a buyer's own orders, or a shop's."""

from django.db.models import Prefetch

from .models import Order, OrderLine, OrderStatusChange


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
    return _detail_qs().select_related("shipment").filter(user=user, pk=order_id).first() if str(order_id).isdigit() else None


def shop_orders(shop, *, status=None, q=None):
    qs = Order.objects.filter(shop=shop).select_related("user").prefetch_related("lines")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(number__icontains=q)
    return qs.order_by("-id")


def shop_order_detail(shop, order_id):
    return _detail_qs().select_related("user").filter(shop=shop, pk=order_id).first() if str(order_id).isdigit() else None
