"""Gateway notifications: verified (HMAC over timestamp + body), checked against
the amount we expect, applied once, and stored whatever their fate."""

import logging
import threading
import time
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from shopyard.catalog.models import Product
from shopyard.checkout.services import place_order
from shopyard.core.errors import BadRequest, NotFound
from shopyard.core.models import OutboxEvent
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order, OrderStatusChange
from shopyard.orders.services import cancel_by_buyer, cancel_expired_unpaid_orders
from shopyard.payments import refunds
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.gateways.base import RefundAnswer
from shopyard.payments.models import (
    Payment,
    PaymentNotification,
    PaymentStatusChange,
    Refund,
    RefundStatusChange,
    SimulatedRefund,
)

from . import factories as f


@pytest.fixture
def checkout(shopper, address, sku, other_shop):
    """Two orders (two shops) paid by one payment of 59.90×2+10 + 35.50+8 = 173.30."""
    other_sku = f.make_product(other_shop, price="35.50", stock=5).skus.get()
    placed = place_order(
        actor=shopper,
        address_id=address.pk,
        lines=[
            {"sku_id": sku.pk, "quantity": 2},
            {"sku_id": other_sku.pk, "quantity": 1},
        ],
    )
    return SimpleNamespace(
        payment=Payment.objects.get(pk=placed.payment_id),
        orders=list(Order.objects.filter(pk__in=placed.order_ids).order_by("pk")),
        skus=[sku, other_sku],
    )


def _deliver(body, headers):
    return payments.handle_notification(gateway="simulated", body=body, headers=headers)


def _world(checkout):
    """What a notification could change (notifications themselves are checked separately)."""
    return {
        "payment": Payment.objects.values("status", "completed_at").get(pk=checkout.payment.pk),
        "payment_history": PaymentStatusChange.objects.count(),
        "orders": list(
            Order.objects.filter(pk__in=[o.pk for o in checkout.orders])
            .order_by("pk")
            .values_list("status", "paid_at")
        ),
        "order_history": OrderStatusChange.objects.count(),
        "sales": list(Product.objects.order_by("pk").values_list("pk", "sales_count")),
        "stock": dict(StockLevel.objects.values_list("sku_id", "quantity")),
        "movements": StockMovement.objects.count(),
        "events": sorted(OutboxEvent.objects.values_list("name", flat=True)),
    }


def _notifications():
    return list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True))


def test_valid_success_marks_payment_and_all_orders_paid(checkout):
    # given the pending payment of a two-shop checkout
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    # when the gateway reports success
    assert _deliver(body, headers) == "applied"
    # then the payment succeeded and every order is paid
    checkout.payment.refresh_from_db()
    assert checkout.payment.status == "succeeded" and checkout.payment.completed_at is not None
    for order in checkout.orders:
        order.refresh_from_db()
        assert order.status == "paid" and order.paid_at is not None
        assert order.history.last().action == "pay"
        assert order.history.last().actor_label == "system"
        assert order.history.last().note == checkout.payment.reference
    # sales counted once per unit sold
    assert [Product.objects.get(pk=s.product_id).sales_count for s in checkout.skus] == [2, 1]
    assert list(PaymentStatusChange.objects.values_list("from_status", "to_status")) == [
        ("pending", "succeeded")
    ]
    assert _notifications() == ["applied"]
    assert OutboxEvent.objects.filter(
        name="payment.succeeded", payload__payment_id=checkout.payment.pk
    ).exists()
    assert OutboxEvent.objects.filter(name="order.paid").count() == 2


def test_forged_signature_is_rejected_and_recorded(checkout):
    before = _world(checkout)
    body, headers = simulated.build_notification(
        payment=checkout.payment, status="success", secret="not-the-secret"
    )
    with pytest.raises(BadRequest) as exc:
        _deliver(body, headers)
    assert (exc.value.status, exc.value.code) == (400, "bad_signature")
    assert _world(checkout) == before
    note = PaymentNotification.objects.get()
    assert (note.outcome, note.payment, note.detail) == (
        "bad_signature",
        None,
        "signature does not match",
    )
    assert note.body == body.decode()


def test_tampered_body_and_missing_header_are_rejected(checkout):
    before = _world(checkout)
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    tampered = body.replace(b'"success"', b'"failed"')
    for b, h in (
        (tampered, headers),
        (body, {}),
        (body, {simulated.SIGNATURE_HEADER: "t=abc,v1="}),
    ):
        with pytest.raises(BadRequest) as exc:
            _deliver(b, h)
        assert exc.value.code == "bad_signature"
    assert _world(checkout) == before
    assert _notifications() == ["bad_signature"] * 3


@pytest.mark.parametrize("skew", [-600, +600])
def test_stale_or_future_timestamp_is_rejected(checkout, skew):
    before = _world(checkout)
    body, headers = simulated.build_notification(
        payment=checkout.payment, status="success", timestamp=time.time() + skew
    )
    with pytest.raises(BadRequest) as exc:
        _deliver(body, headers)
    assert exc.value.code == "stale"
    assert _world(checkout) == before
    assert _notifications() == ["stale"]


def test_replayed_notification_is_a_duplicate_and_changes_nothing_again(checkout):
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    assert _deliver(body, headers) == "applied"
    after_first = _world(checkout)
    # when the very same notification arrives again
    assert _deliver(body, headers) == "duplicate"
    # then nothing changes a second time (sales are not counted twice)
    assert _world(checkout) == after_first
    assert _notifications() == ["applied", "duplicate"]


def test_amount_mismatch_is_rejected_and_logged(checkout, caplog):
    before = _world(checkout)
    body, headers = simulated.build_notification(
        payment=checkout.payment, status="success", amount="0.01"
    )
    with caplog.at_level(logging.ERROR, logger="shopyard.payments"):
        with pytest.raises(BadRequest) as exc:
            _deliver(body, headers)
    assert exc.value.code == "amount_mismatch"
    assert _world(checkout) == before
    note = PaymentNotification.objects.get()
    assert (note.outcome, note.payment_id) == ("amount_mismatch", checkout.payment.pk)
    assert note.detail == "expected 173.30 CNY, got 0.01 CNY"
    [record] = [r for r in caplog.records if r.name == "shopyard.payments"]
    assert record.levelno == logging.ERROR
    assert checkout.payment.reference in record.getMessage()
    assert "amount mismatch" in record.getMessage()


def test_amount_with_extra_precision_or_other_currency_is_a_mismatch(checkout):
    before = _world(checkout)
    for amount in ("173.301", "173.29", "-173.30", "abc", "NaN"):
        body, headers = simulated.build_notification(
            payment=checkout.payment, status="success", amount=amount
        )
        with pytest.raises(BadRequest) as exc:
            _deliver(body, headers)
        assert exc.value.code == "amount_mismatch"
    usd = SimpleNamespace(
        reference=checkout.payment.reference, amount=checkout.payment.amount, currency="USD"
    )
    body, headers = simulated.build_notification(payment=usd, status="success")
    with pytest.raises(BadRequest) as exc:
        _deliver(body, headers)
    assert exc.value.code == "amount_mismatch"
    assert _world(checkout) == before


def test_failed_status_fails_the_payment_and_leaves_orders_unpaid(checkout, shopper):
    body, headers = simulated.build_notification(payment=checkout.payment, status="failed")
    assert _deliver(body, headers) == "applied"
    checkout.payment.refresh_from_db()
    assert checkout.payment.status == "failed"
    assert [o.status for o in Order.objects.filter(pk__in=[o.pk for o in checkout.orders])] == [
        "pending_payment"
    ] * 2
    assert all(Product.objects.get(pk=s.product_id).sales_count == 0 for s in checkout.skus)
    assert OutboxEvent.objects.filter(name="payment.failed").count() == 1
    # and the shopper can try again with a new payment for the same orders
    retry = payments.start_payment(actor=shopper, order_ids=[o.pk for o in checkout.orders])
    assert (
        retry.pk != checkout.payment.pk
        and retry.status == "pending"
        and retry.amount == checkout.payment.amount
    )


def _refunds():
    return list(Refund.objects.order_by("order_id").values_list("order_id", "amount", "status"))


def test_success_after_the_orders_timed_out_is_captured_and_refunded(checkout, django_capture_on_commit_callbacks):
    # given the orders were cancelled by the unpaid-order timeout (payment cancelled too)
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_expired_unpaid_orders(now=timezone.now() + timedelta(minutes=31)) == 2
    checkout.payment.refresh_from_db()
    assert checkout.payment.status == "cancelled"
    stock = dict(StockLevel.objects.values_list("sku_id", "quantity"))
    # when the provider still reports that it captured the money
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    with django_capture_on_commit_callbacks(execute=True):
        assert _deliver(body, headers) == "applied"
    # then the capture is recorded, and every order's total is refunded through the gateway
    checkout.payment.refresh_from_db()
    assert checkout.payment.status == "succeeded"
    assert list(checkout.payment.history.values_list("from_status", "to_status", "action")) == [
        ("pending", "cancelled", "cancel"), ("cancelled", "succeeded", "capture_late"),
    ]
    first, second = checkout.orders
    assert _refunds() == [(first.pk, Decimal("129.8000"), "succeeded"), (second.pk, Decimal("43.5000"), "succeeded")]
    assert all(r.gateway_reference.startswith("SIMR") for r in Refund.objects.all())
    assert sum(r.amount for r in SimulatedRefund.objects.all()) == checkout.payment.amount
    assert sorted(OutboxEvent.objects.filter(name__startswith="refund.").values_list("name", flat=True)) == [
        "refund.requested", "refund.requested", "refund.succeeded", "refund.succeeded"]
    # and the orders stay cancelled, their stock and sales untouched
    assert [o.status for o in Order.objects.filter(pk__in=[o.pk for o in checkout.orders])] == [
        "cancelled"
    ] * 2
    assert dict(StockLevel.objects.values_list("sku_id", "quantity")) == stock
    assert all(Product.objects.get(pk=s.product_id).sales_count == 0 for s in checkout.skus)


def test_success_after_one_order_was_cancelled_pays_the_other_and_refunds_the_cancelled_one(
    checkout, shopper, django_capture_on_commit_callbacks
):
    # given one order of the two-shop payment was cancelled, while the provider had
    # already taken the old total (the payment was closed meanwhile)
    first, second = checkout.orders
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=first.pk)
    checkout.payment.refresh_from_db()
    assert checkout.payment.status == "cancelled"
    # when the capture arrives
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    with django_capture_on_commit_callbacks(execute=True):
        assert _deliver(body, headers) == "applied"
    # then the order still awaiting payment is paid and the cancelled one refunded
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("cancelled", "paid")
    assert _refunds() == [(first.pk, Decimal("129.8000"), "succeeded")]


def test_a_refund_the_gateway_refuses_is_retried_then_parked_for_an_operator(
    checkout, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given a late capture whose refund the gateway keeps refusing
    settings.REFUND_MAX_ATTEMPTS = 2
    settings.REFUND_RETRY_BASE_SECONDS = 300
    monkeypatch.setattr(simulated, "refund", lambda **kw: RefundAnswer(ok=False, detail="gateway says no"))
    with django_capture_on_commit_callbacks(execute=True):
        cancel_expired_unpaid_orders(now=timezone.now() + timedelta(minutes=31))
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(body, headers)
    assert [(r.status, r.attempts, r.last_error) for r in Refund.objects.all()] == [("pending", 1, "gateway says no")] * 2
    # the periodic job leaves them alone until the wait after the refusal is over
    assert refunds.retry_pending_refunds() == 0
    assert [(r.status, r.attempts) for r in Refund.objects.all()] == [("pending", 1)] * 2
    # when it retries them after it, then the second refusal parks them as failed
    assert refunds.retry_pending_refunds(now=timezone.now() + timedelta(seconds=301)) == 0
    assert [(r.status, r.attempts, r.next_attempt_at) for r in Refund.objects.all()] == [("failed", 2, None)] * 2
    assert refunds.retry_pending_refunds(now=timezone.now() + timedelta(days=1)) == 0
    # and once the gateway answers again, an operator's retry refunds them
    monkeypatch.undo()
    operator = f.make_user("operator", is_staff=True)
    for refund in Refund.objects.order_by("pk"):
        with django_capture_on_commit_callbacks(execute=True):
            refunds.retry_refund(actor=operator, refund_id=refund.pk)
    assert [r.status for r in Refund.objects.all()] == ["succeeded"] * 2
    change = RefundStatusChange.objects.filter(action="retry").first()
    assert (change.actor, change.from_status, change.to_status) == (operator, "failed", "pending")


def test_a_refund_outlives_an_hour_of_gateway_refusals_and_goes_through_once_the_gateway_is_back(
    checkout, shopper, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """With the shipped settings (5 attempts, 300 s doubling), the periodic job running every
    minute asks a refusing gateway 4 times in 70 minutes, not 70, and the refund is still
    pending; every periodic run was one attempt before, so 5 minutes of outage parked it."""
    assert (settings.REFUND_MAX_ATTEMPTS, settings.REFUND_RETRY_BASE_SECONDS) == (5, 300)
    asked = []

    def refusing(**kw):
        asked.append(timezone.now())
        return RefundAnswer(ok=False, detail="gateway down")

    monkeypatch.setattr(simulated, "refund", refusing)
    first, _second = checkout.orders
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=first.pk)
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(body, headers)  # the capture of a cancelled order: its refund is tried at once
    start = timezone.now()
    for minute in range(1, 71):
        refunds.retry_pending_refunds(now=start + timedelta(minutes=minute, seconds=1))
    refund = Refund.objects.get()
    assert (refund.status, refund.attempts, len(asked)) == ("pending", 4, 4)
    # the gateway is back: the next due run refunds it
    monkeypatch.undo()
    assert refunds.retry_pending_refunds(now=refund.next_attempt_at) == 1
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 5)


def test_failed_notification_for_a_closed_payment_is_rejected(checkout):
    body, headers = simulated.build_notification(payment=checkout.payment, status="success")
    _deliver(body, headers)
    before = _world(checkout)
    body, headers = simulated.build_notification(payment=checkout.payment, status="failed")
    with pytest.raises(BadRequest) as exc:
        _deliver(body, headers)
    assert exc.value.code == "invalid_transition"
    assert _world(checkout) == before
    assert _notifications() == ["applied", "rejected"]


def test_unknown_payment_gateway_and_malformed_payloads_are_rejected(checkout):
    before = _world(checkout)
    ghost = SimpleNamespace(
        reference="PAYNOSUCHTHING", amount=checkout.payment.amount, currency="CNY"
    )
    body, headers = simulated.build_notification(payment=ghost, status="success")
    with pytest.raises(BadRequest) as exc:
        _deliver(body, headers)
    assert exc.value.code == "unknown_payment"
    with pytest.raises(NotFound):
        payments.handle_notification(gateway="alipay", body=body, headers=headers)
    # a correctly signed body that is not JSON, or has an unknown status
    for raw in (b"not json", b'{"status": "refunded"}'):
        ts = str(int(time.time()))
        with pytest.raises(BadRequest) as exc:
            _deliver(raw, f.sign_simulated(raw, ts))
        assert exc.value.code == "malformed"
    assert _world(checkout) == before
    assert _notifications() == ["unknown_payment", "malformed", "malformed"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_notification_apply_once():
    # given a placed order and one success notification the provider sends 4 times at once
    shop = f.make_shop(owner=f.make_user("notify-seller"), shipping_fee="0")
    sku = f.make_product(shop, price="30.00", stock=5).skus.get()
    buyer = f.make_user("notify-buyer")
    placed = place_order(
        actor=buyer, address_id=f.make_address(buyer).pk, lines=[{"sku_id": sku.pk, "quantity": 2}]
    )
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    n = 4
    barrier = threading.Barrier(n)
    results = [None] * n

    def deliver(i):
        try:
            barrier.wait(timeout=60)
            results[i] = _deliver(body, headers)
        except BadRequest as exc:
            results[i] = exc.code
        except Exception as exc:
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # then it was applied exactly once; the others were told it is a duplicate
    assert sorted(results) == ["applied"] + ["duplicate"] * (n - 1)
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"
    assert Order.objects.get().status == "paid"
    assert Product.objects.get(pk=sku.product_id).sales_count == 2
    assert PaymentNotification.objects.filter(outcome="applied").count() == 1
