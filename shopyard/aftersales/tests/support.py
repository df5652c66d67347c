"""Plain helpers (not fixtures) the after-sales tests share: orders paid through the
simulated gateway (so payments can refund them), moved on to shipped or delivered."""

from datetime import timedelta

from django.utils import timezone

from shopyard.aftersales.defaults import ensure_default_reasons
from shopyard.aftersales.models import Reason
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment


def paid_order(buyer, address, lines) -> Order:
    """An order of `lines` ([(sku, quantity)]) placed and paid by the simulated gateway."""
    placed = place_order(actor=buyer, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": qty} for sku, qty in lines])
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    assert payments.handle_notification(gateway="simulated", body=body, headers=headers) == "applied"
    return Order.objects.get(pk=placed.order_ids[0])


def delivered(order, *, days_ago=1) -> Order:
    """The order as the carrier leaves it: shipped and delivered `days_ago` days ago."""
    when = timezone.now() - timedelta(days=days_ago)
    Order.objects.filter(pk=order.pk).update(status="delivered", shipped_at=when - timedelta(days=1),
                                             delivered_at=when)
    order.refresh_from_db()
    return order


def reason(code) -> Reason:
    ensure_default_reasons()  # a transactional test flushed the seeded rows
    return Reason.objects.get(code=code)


def one_line(order, quantity=1):
    return [{"line_id": order.lines.order_by("pk").first().pk, "quantity": quantity}]
