"""Payment reads shown to the shopper, scoped to the order or payment they already reached."""

from .models import Refund


def refunds_for_order(order) -> list[Refund]:
    return list(Refund.objects.filter(order=order).order_by("pk"))


def refunds_for_payment(payment) -> list[Refund]:
    return list(Refund.objects.filter(payment=payment).select_related("order").order_by("pk"))
