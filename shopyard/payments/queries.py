"""Payment reads shown to the shopper, scoped to the order or payment they already reached."""

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import Refund, RefundLine
from .state import RefundStatus


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


def refunded_amount(order_ref="order_id"):
    """An expression for querysets that point at an order (`order_ref`, an OuterRef
    path): the money its completed refunds returned, 0 without any. The one rule of
    "refunded" for reports (pending and failed refunds returned nothing yet)."""
    done = (Refund.objects.filter(order_id=OuterRef(order_ref), status=RefundStatus.SUCCEEDED)
            .order_by().values("order_id").annotate(total=Sum("amount")).values("total")[:1])
    money = DecimalField(max_digits=20, decimal_places=4)
    return Coalesce(Subquery(done, output_field=money), Value(Decimal("0"), output_field=money), output_field=money)
