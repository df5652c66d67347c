"""Refund totals never exceed what was paid when refunds race: real threads
refund the same order at the same instant, on SQLite (IMMEDIATE transactions)
and PostgreSQL (the payment row, then the order row, locked FOR UPDATE)."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from shopyard.checkout.services import place_order
from shopyard.core.errors import Conflict, ValidationFailed
from shopyard.orders.models import Order
from shopyard.payments import refunds
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment, Refund, RefundLine

from . import factories as f


def _paid_order():
    seller = f.make_user("race-seller")
    shop = f.make_shop(owner=seller, shipping_fee="0")
    sku = f.make_product(shop, price="50.00", stock=10).skus.get()
    buyer = f.make_user("race-buyer")
    placed = place_order(actor=buyer, address_id=f.make_address(buyer).pk, lines=[{"sku_id": sku.pk, "quantity": 2}])
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    assert payments.handle_notification(gateway="simulated", body=body, headers=headers) == "applied"
    order = Order.objects.get(pk=placed.order_ids[0])
    assert order.status == "paid" and order.total == Decimal("100")
    return seller, shop, order


def _race(n, refund):
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = ("ok", refund(i).pk)
        except (ValidationFailed, Conflict) as exc:
            outcomes[i] = ("refused", exc.status)
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a refund thread hung"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_refunds_whose_sum_exceeds_what_is_left_one_wins():
    seller, shop, order = _paid_order()
    line = order.lines.get()
    outcomes = _race(2, lambda i: refunds.refund_order_lines(
        actor=seller, shop=shop, order_id=order.pk, reason=f"race {i}",
        lines=[{"line_id": line.pk, "amount": "60.00"}]))
    assert Counter(o[0] for o in outcomes) == {"ok": 1, "refused": 1}, outcomes
    assert [o[1] for o in outcomes if o[0] == "refused"] == [422]
    # nothing partial: one refund, one refund line, 60.00 in all
    assert Refund.objects.count() == 1 and RefundLine.objects.count() == 1
    assert Refund.objects.aggregate(s=Sum("amount"))["s"] == Decimal("60")


@pytest.mark.django_db(transaction=True)
def test_eight_racing_refunds_never_exceed_the_captured_amount():
    seller, shop, order = _paid_order()
    line = order.lines.get()
    outcomes = _race(8, lambda i: refunds.refund_order_lines(
        actor=seller, shop=shop, order_id=order.pk, reason=f"race {i}",
        lines=[{"line_id": line.pk, "amount": "30.00"}]))
    print(f"\n8 refunds of 30.00 against 100.00 on {connection.vendor}: {Counter(o[0] for o in outcomes)}")
    assert Counter(o[0] for o in outcomes) == {"ok": 3, "refused": 5}, outcomes
    payment = Payment.objects.get(orders=order)
    refunded = Refund.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]
    assert refunded == Decimal("90") <= payment.amount
    assert RefundLine.objects.filter(line=line).aggregate(s=Sum("amount"))["s"] == Decimal("90")
