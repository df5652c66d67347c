"""Helpers the notification tests share: place and pay an order through the
real services, so the events under test are the ones the product emits."""

from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment
from shopyard.payments.services import handle_notification


def place(user, address, sku, quantity=1) -> Order:
    placed = place_order(actor=user, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": quantity}])
    return Order.objects.get(pk=placed.order_ids[0])


def pay(order) -> Order:
    payment = Payment.objects.get(orders=order)
    body, headers = simulated.build_notification(payment=payment, status="success")
    assert handle_notification(gateway="simulated", body=body, headers=headers) == "applied"
    order.refresh_from_db()
    return order
