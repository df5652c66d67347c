"""One lock order for payments and orders (payment rows first, then their
orders in id order): a buyer cancelling an order while the gateway's success
notification for its payment arrives never deadlocks, every notification is
stored with its outcome, and the end states agree (a cancelled order's money
is refunded, a paid order's payment succeeded). Real threads; the deadlock
showed on PostgreSQL."""

import threading
from collections import Counter

import pytest
from django.db import connection

from shopyard.checkout.services import place_order
from shopyard.core.errors import DomainError
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.orders.services import cancel_by_buyer, cancel_expired_unpaid_orders
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment, PaymentNotification, Refund

from . import factories as f

PAIRS = 20


def _checkouts(n):
    """n buyers, each with one unpaid two-shop checkout (two orders, one payment)."""
    shops = [f.make_shop(owner=f.make_user(f"lock-seller{i}"), shipping_fee="0") for i in range(2)]
    skus = [f.make_product(shop, price="10.00", stock=n).skus.get() for shop in shops]
    out = []
    for i in range(n):
        buyer = f.make_user(f"lock-buyer{i}")
        placed = place_order(actor=buyer, address_id=f.make_address(buyer).pk,
                             lines=[{"sku_id": skus[0].pk, "quantity": 1}, {"sku_id": skus[1].pk, "quantity": 1}])
        out.append((buyer, sorted(placed.order_ids), Payment.objects.get(pk=placed.payment_id)))
    return out, skus


def _run_all(calls):
    """Start every call at the same instant on its own thread; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=60)
            results[i] = ("ok", call())
        except DomainError as exc:
            results[i] = ("refused", exc.code, exc.status)
        except Exception as exc:  # a deadlock or any other 500: kept for the assert message
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def _assert_consistent(checkouts):
    for _buyer, order_ids, payment in checkouts:
        payment.refresh_from_db()
        orders = list(Order.objects.filter(pk__in=order_ids).order_by("pk"))
        refunded = dict(Refund.objects.filter(payment=payment).values_list("order_id", "status"))
        assert payment.status == "succeeded", payment.reference  # the capture is never lost
        for order in orders:
            if order.status == "cancelled":
                # money taken for a cancelled order is given back
                assert refunded.get(order.pk) == "succeeded", (order.number, refunded)
            else:
                assert order.status == "paid" and order.pk not in refunded, (order.number, refunded)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_cancel_and_success_notification_pairs_neither_deadlock_nor_lose_money():
    # given 20 unpaid two-shop checkouts and, for each, a signed success notification
    checkouts, skus = _checkouts(PAIRS)
    bodies = [simulated.build_notification(payment=p, status="success") for _b, _o, p in checkouts]

    # when, for each, the buyer cancels the first order while the notification is applied
    calls = []
    for (buyer, order_ids, _payment), (body, headers) in zip(checkouts, bodies, strict=True):
        calls.append(lambda b=buyer, o=order_ids[0]: cancel_by_buyer(actor=b, order_id=o).status)
        calls.append(lambda body=body, headers=headers: payments.handle_notification(
            gateway="simulated", body=body, headers=headers))
    results = _run_all(calls)

    # then nothing escaped as an error (no deadlock, no 500)
    assert [r for r in results if r[0] == "error"] == []
    cancels, notifications = results[0::2], results[1::2]
    # each cancel either won (cancelled) or came after the payment (a clear 409)
    assert set(cancels) <= {("ok", "cancelled"), ("refused", "invalid_transition", 409)}
    # every notification was applied and stored with its outcome
    assert notifications == [("ok", "applied")] * PAIRS
    assert Counter(PaymentNotification.objects.values_list("outcome", flat=True)) == {"applied": PAIRS}
    # and the end states agree
    _assert_consistent(checkouts)
    won = sum(1 for c in cancels if c == ("ok", "cancelled"))
    assert Refund.objects.count() == won
    assert [StockLevel.objects.get(sku=s).quantity for s in skus] == [won, 0]
    print(f"\n{PAIRS} cancel/notify pairs on {connection.vendor}: {won} cancels first")


@pytest.mark.django_db(transaction=True)
def test_expiry_racing_success_notifications_neither_deadlocks_nor_loses_money():
    # given 10 unpaid checkouts past the timeout and their success notifications
    from datetime import timedelta

    from django.utils import timezone

    checkouts, _skus = _checkouts(10)
    Order.objects.update(placed_at=timezone.now() - timedelta(hours=1))
    bodies = [simulated.build_notification(payment=p, status="success") for _b, _o, p in checkouts]

    # when the timeout job runs while every notification is applied
    calls = [cancel_expired_unpaid_orders] + [
        (lambda body=body, headers=headers: payments.handle_notification(gateway="simulated", body=body, headers=headers))
        for body, headers in bodies
    ]
    results = _run_all(calls)

    # then no error escaped, every notification was applied, and the end states agree
    assert [r for r in results if r[0] == "error"] == []
    assert results[1:] == [("ok", "applied")] * 10
    _assert_consistent(checkouts)
