"""Settlement fixtures: a two-shop checkout paid through the simulated gateway, with a
platform coupon, driven by the same services shoppers, sellers and the gateway use."""

from decimal import Decimal

import pytest

from shopyard.core.events import dispatch_pending
from shopyard.orders import services as order_services
from shopyard.orders.models import Order
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment
from shopyard.settlement.models import Entry
from tests import factories as f


def deliver():
    """Deliver every pending event now (the tests' stand-in for the after-commit task)."""
    while dispatch_pending():
        pass


def pay(placed):
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    assert payments.handle_notification(gateway="simulated", body=body, headers=headers) == "applied"
    deliver()


def complete(order, shopper):
    owner = order.shop.members.first().user
    order_services.ship(actor=owner, shop=order.shop, order_id=order.pk, carrier="sf",
                        tracking_number="SF1428839201775")
    order_services.confirm_receipt(actor=shopper, order_id=order.pk)
    deliver()
    order.refresh_from_db()
    return order


def ledger_sum() -> Decimal:
    return sum(Entry.objects.values_list("amount", flat=True), Decimal("0"))


@pytest.fixture
def operator(db):
    return f.make_user("operator", is_staff=True)


@pytest.fixture
def two_shop_checkout(shopper, address, shop, other_shop, sku, other_sku):
    """One checkout of 2 × ¥59.90 from the shop and 2 × ¥35.50 from the other shop with a
    platform coupon of ¥10 off ¥100 (the platform funds it, split over both orders),
    paid. Returns (shop's order, other shop's order)."""
    from shopyard.checkout.services import place_order

    template = f.make_coupon_template(None)
    f.give_coupon(shopper, template)
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": 2}, {"sku_id": other_sku.pk, "quantity": 2}])
    pay(placed)
    orders = {o.shop_id: o for o in Order.objects.filter(pk__in=placed.order_ids)}
    return orders[shop.pk], orders[other_shop.pk]
