"""A suspended shop's open orders still complete and its after-sales cases still
run: suspension stops the seller, not the buyers who already paid."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.aftersales import services as aftersales
from shopyard.aftersales.defaults import ensure_default_reasons
from shopyard.aftersales.models import Case, Reason
from shopyard.checkout.services import place_order
from shopyard.orders import services as order_services
from shopyard.orders.models import Order
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment, Refund
from shopyard.shops import services as shop_services
from tests import factories as f

pytestmark = pytest.mark.django_db


def _received_order(shopper, address, shop, seller):
    """An order paid through the (simulated) gateway, shipped and received: refundable."""
    sku = f.make_product(shop, price="90.00", stock=5).skus.get()
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    body, headers = simulated.build_notification(payment=Payment.objects.get(pk=placed.payment_id), status="success")
    payments.handle_notification(gateway="simulated", body=body, headers=headers)
    order = Order.objects.get(pk=placed.order_ids[0])
    order_services.ship(actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF1428839201775")
    order_services.confirm_receipt(actor=shopper, order_id=order.pk)
    return order


@pytest.fixture
def reviewer(db):
    return f.make_user("suspension-operator", is_staff=True)


def test_a_shipped_order_of_a_suspended_shop_is_received_and_completes(shopper, address, shop, seller, reviewer):
    sku = f.make_product(shop, price="59.90", stock=5).skus.get()
    order = f.make_paid_order(shopper, address, [(sku, 1)])
    order_services.ship(actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF1428839201775")
    shop_services.suspend_shop(actor=reviewer, shop_id=shop.pk, reason="资质过期")

    order_services.confirm_receipt(actor=shopper, order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "completed"


def test_a_case_on_a_suspended_shops_order_is_opened_and_its_deadline_approves_the_refund(
        shopper, address, shop, seller, reviewer):
    ensure_default_reasons()
    order = _received_order(shopper, address, shop, seller)
    shop_services.suspend_shop(actor=reviewer, shop_id=shop.pk, reason="资质过期")

    case = aftersales.open_case(actor=shopper, order_id=order.pk, kind="refund_only",
                                reason_id=Reason.objects.get(code="quality").pk,
                                lines=[{"line_id": order.lines.get().pk, "quantity": 1}])
    assert case.status == "requested"
    # the shop cannot answer while suspended; the deadline job answers for it
    assert aftersales.run_deadlines(now=timezone.now() + timedelta(days=30)) == 1
    case = Case.objects.get(pk=case.pk)
    assert case.status == "refunding", case.status
    assert Refund.objects.filter(order=order).count() == 1


def test_an_operator_decides_a_disputed_case_of_a_suspended_shop(shopper, address, shop, seller, reviewer):
    ensure_default_reasons()
    order = _received_order(shopper, address, shop, seller)
    case = aftersales.open_case(actor=shopper, order_id=order.pk, kind="refund_only",
                                reason_id=Reason.objects.get(code="quality").pk,
                                lines=[{"line_id": order.lines.get().pk, "quantity": 1}])
    aftersales.reject(actor=seller, shop=shop, case_id=case.pk, note="无质量问题")
    aftersales.escalate(actor=shopper, case_id=case.pk, note="请平台介入")
    shop_services.suspend_shop(actor=reviewer, shop_id=shop.pk, reason="资质过期")

    decided = aftersales.decide(actor=reviewer, case_id=case.pk, decision="full", note="质量问题属实")

    assert decided.status == "refunding", decided.status
    assert Refund.objects.filter(order=order).count() == 1
