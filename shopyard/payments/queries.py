"""Payment reads shown to the shopper, scoped to the order or payment they already reached."""

from decimal import Decimal

from django.db.models import Sum

from .models import Refund, RefundLine


def refunds_for_order(order) -> list[Refund]:
    """Every refund of the order, with the lines each returns."""
    return list(Refund.objects.filter(order=order).prefetch_related("lines__line").order_by("pk"))


def left_to_refund(order) -> dict:
    """Per order line id: how much of its net_total no refund returns yet."""
    taken = dict(RefundLine.objects.filter(line__order=order).values("line_id").annotate(total=Sum("amount"))
                 .values_list("line_id", "total"))
    return {line.pk: line.net_total - (taken.get(line.pk) or Decimal("0")) for line in order.lines.all()}


def refunds_for_payment(payment) -> list[Refund]:
    return list(Refund.objects.filter(payment=payment).select_related("order").prefetch_related("lines__line").order_by("pk"))
