"""The periodic jobs: unpaid orders are cancelled after the timeout (stock and
payment released, actor "system"), idempotently; `run_periodic` prints counts."""

import json
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from shopyard import cli
from shopyard.checkout.services import place_order
from shopyard.core import events
from shopyard.core.models import OutboxDelivery, OutboxEvent
from shopyard.core.periodic import PeriodicTimer
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order, OrderStatusChange
from shopyard.orders.services import cancel_expired_unpaid_orders
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment
from shopyard.payments.services import handle_notification

from . import factories as f


def _place(user, address, sku, quantity=1, *, minutes_ago=0):
    placed = place_order(
        actor=user, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": quantity}]
    )
    order = Order.objects.get(pk=placed.order_ids[0])
    if minutes_ago:
        Order.objects.filter(pk=order.pk).update(
            placed_at=timezone.now() - timedelta(minutes=minutes_ago)
        )
        order.refresh_from_db()
    return order


def _pay(order):
    payment = Payment.objects.get(orders=order)
    body, headers = simulated.build_notification(payment=payment, status="success")
    assert handle_notification(gateway="simulated", body=body, headers=headers) == "applied"


def _world():
    return {
        "orders": sorted(Order.objects.values_list("id", "status", "cancelled_at")),
        "history": OrderStatusChange.objects.count(),
        "payments": sorted(Payment.objects.values_list("id", "status")),
        "stock": dict(StockLevel.objects.values_list("sku_id", "quantity")),
        "movements": StockMovement.objects.count(),
    }


@pytest.fixture
def three_orders(shopper, address, shop):
    """An unpaid order 31 minutes old, an unpaid one 5 minutes old, a paid one 2 hours old."""
    skus = [f.make_product(shop, price="20.00", stock=10).skus.get() for _i in range(3)]
    old = _place(shopper, address, skus[0], 2, minutes_ago=31)
    fresh = _place(shopper, address, skus[1], 3, minutes_ago=5)
    paid = _place(shopper, address, skus[2], 4)
    _pay(paid)
    Order.objects.filter(pk=paid.pk).update(placed_at=timezone.now() - timedelta(hours=2))
    return old, fresh, paid, skus


def test_only_orders_older_than_the_timeout_are_cancelled(three_orders, django_capture_on_commit_callbacks):
    old, fresh, paid, skus = three_orders
    old_payment = Payment.objects.get(orders=old)
    # when the periodic job runs (payments close the payment when order.cancelled reaches them)
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_expired_unpaid_orders() == 1
    # then the old unpaid order is cancelled by "system", its stock back, its payment closed
    old.refresh_from_db()
    assert old.status == "cancelled" and old.cancelled_at is not None
    change = old.history.last()
    assert (change.from_status, change.to_status, change.action) == (
        "pending_payment",
        "cancelled",
        "expire",
    )
    assert (change.actor, change.actor_label) == (None, "system")
    assert change.note == "Not paid in time"
    assert StockLevel.objects.get(sku=skus[0]).quantity == 10
    assert StockMovement.objects.filter(order=old, reason="release").get().delta == 2
    old_payment.refresh_from_db()
    assert old_payment.status == "cancelled"
    # the fresh unpaid order and the paid one are left alone
    fresh.refresh_from_db()
    paid.refresh_from_db()
    assert (fresh.status, paid.status) == ("pending_payment", "paid")
    assert StockLevel.objects.get(sku=skus[1]).quantity == 7
    assert StockLevel.objects.get(sku=skus[2]).quantity == 6
    assert Payment.objects.get(orders=fresh).status == "pending"
    assert Payment.objects.get(orders=paid).status == "succeeded"
    assert OutboxEvent.objects.filter(name="order.cancelled", payload__action="expire").count() == 1


def test_second_run_cancels_nothing_and_changes_nothing(three_orders):
    assert cancel_expired_unpaid_orders() == 1
    before = _world()
    assert cancel_expired_unpaid_orders() == 0
    assert _world() == before


def test_timeout_boundary_is_strictly_older_than_thirty_minutes(shopper, address, sku, settings):
    assert settings.UNPAID_ORDER_TIMEOUT_MINUTES == 30
    order = _place(shopper, address, sku)
    before = _world()
    # exactly 30 minutes after placement: not yet
    assert cancel_expired_unpaid_orders(now=order.placed_at + timedelta(minutes=30)) == 0
    assert _world() == before
    # one second later: cancelled
    assert cancel_expired_unpaid_orders(now=order.placed_at + timedelta(minutes=30, seconds=1)) == 1
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert StockLevel.objects.get(sku=sku).quantity == 10


def test_timeout_is_configurable(shopper, address, sku, settings):
    # given a 5 minute timeout and an order placed 6 minutes ago
    settings.UNPAID_ORDER_TIMEOUT_MINUTES = 5
    order = _place(shopper, address, sku, minutes_ago=6)
    # when the job runs, then the order is cancelled (the default 30 would keep it)
    assert cancel_expired_unpaid_orders() == 1
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert StockLevel.objects.get(sku=sku).quantity == 10


def test_multi_shop_checkout_payment_is_cancelled_once_one_of_its_orders_is(
    shopper, address, sku, other_shop, django_capture_on_commit_callbacks
):
    other = f.make_product(other_shop, price="9.90", stock=3).skus.get()
    placed = place_order(
        actor=shopper,
        address_id=address.pk,
        lines=[{"sku_id": sku.pk, "quantity": 1}, {"sku_id": other.pk, "quantity": 1}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_expired_unpaid_orders(now=timezone.now() + timedelta(minutes=31)) == 2
    assert set(Order.objects.filter(pk__in=placed.order_ids).values_list("status", flat=True)) == {
        "cancelled"
    }
    payment = Payment.objects.get(pk=placed.payment_id)
    assert payment.status == "cancelled"
    assert list(payment.history.values_list("from_status", "to_status", "note", "actor_label")) == [
        ("pending", "cancelled", "an order is no longer awaiting payment", "system")
    ]
    assert (
        StockLevel.objects.get(sku=sku).quantity,
        StockLevel.objects.get(sku=other).quantity,
    ) == (10, 3)


def test_an_order_paid_meanwhile_is_not_cancelled(shopper, address, sku):
    # given an old unpaid order that gets paid just before the job runs
    order = _place(shopper, address, sku, minutes_ago=45)
    _pay(order)
    before = _world()
    # when the job runs, then it is left alone
    assert cancel_expired_unpaid_orders() == 0
    assert _world() == before


def test_run_periodic_command_prints_json_counts(three_orders, subscribe_for_test):
    # given an event a crashed process left undelivered (on_commit never fires inside the
    # test transaction, so every event with listeners is still new too)
    heard = []
    subscribe_for_test("test.left_behind", heard.append, key="test.left_behind")
    events.emit("test.left_behind", n=1)
    waiting = OutboxEvent.objects.filter(status="new")
    due = sum(len(events.subscribers(name)) for name in waiting.values_list("name", flat=True))
    last_id = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first()
    out = StringIO()
    # when the command runs
    call_command("run_periodic", stdout=out)
    # then it prints the counts as JSON: one order cancelled, every waiting event delivered to
    # each of its subscribers (events emitted during the run are delivered in the same run, or in
    # the next one when a handler emitted them after the run had picked its events)
    assert not OutboxEvent.objects.filter(pk__lte=last_id, status__in=["new", "pending"]).exists()
    delivered = sum(len(events.subscribers(name)) for name in
                    OutboxEvent.objects.filter(status="delivered").values_list("name", flat=True))
    assert delivered >= due
    assert json.loads(out.getvalue()) == {
        "failed_expired_groups": 0,
        "delivered_payment_notifications": 0,
        "queried_payments": 0,
        "refunds_performed": 0,
        "cancelled_unpaid_orders": 1,
        "aftersales_deadlines": 0,
        "dispatched_events": delivered,
        "purged_expired_api_tokens": 0,
        "purged_stale_user_sessions": 0,
        "purged_old_channel_touches": 0,
        "held_flash_orders": 0,
        "expired_flash_orders": 0,
        "ended_flash_sales": 0,
        "tracking_poll": 0,
        "auto_confirm_delivered": 0,
        "sent_pending_notifications": 0,
        "sent_pending_webhooks": 0,
        "escalated_overdue_tickets": 0,
        "refreshed_search_signals": 0,
        "closed_settlement_statements": 0,
        "purged_old_behaviour_events": 0,
        "purged_settled_events": 0,  # settled today: kept for SHOPYARD_EVENT_KEEP_DAYS
        "purged_old_idempotency_records": 0,
        "recomputed_recommendations": 0,
        "rebuilt_category_counts": 0,  # every count already true (the services keep them)
    }
    assert heard == [{"n": 1}]
    assert not OutboxDelivery.objects.exists()  # nothing failed: no delivery row
    late = sum(len(events.subscribers(name)) for name in
               OutboxEvent.objects.filter(status="new").values_list("name", flat=True))
    # and a second run delivers what the first one's handlers emitted, then nothing is left
    out = StringIO()
    call_command("run_periodic", stdout=out)
    assert json.loads(out.getvalue()) == {
        "failed_expired_groups": 0, "delivered_payment_notifications": 0, "queried_payments": 0,
        "refunds_performed": 0, "cancelled_unpaid_orders": 0, "aftersales_deadlines": 0, "dispatched_events": late, "purged_expired_api_tokens": 0,
        "purged_stale_user_sessions": 0, "purged_old_channel_touches": 0, "held_flash_orders": 0,
        "expired_flash_orders": 0, "ended_flash_sales": 0, "tracking_poll": 0, "auto_confirm_delivered": 0, "sent_pending_notifications": 0, "sent_pending_webhooks": 0,
        "escalated_overdue_tickets": 0, "refreshed_search_signals": 0,
        "closed_settlement_statements": 0,
        "purged_old_behaviour_events": 0, "purged_settled_events": 0, "purged_old_idempotency_records": 0,
        "recomputed_recommendations": 0,
        "rebuilt_category_counts": 0,  # at most hourly
    }
    assert not OutboxEvent.objects.filter(status__in=["new", "pending"]).exists()
    assert not OutboxEvent.objects.filter(status="pending").exists()


@pytest.mark.django_db(transaction=True)
def test_the_serving_process_runs_the_periodic_jobs_on_a_timer(shopper, address, sku, settings):
    # given no Celery beat (no broker) and an unpaid order past the timeout
    settings.BROKER_URL = ""
    settings.PERIODIC_INTERVAL_SECONDS = 0.05
    order = _place(shopper, address, sku, minutes_ago=45)
    # when the command that serves the site starts its timer
    timer = cli.start_periodic_timer()
    try:
        deadline = time.monotonic() + 60
        while Order.objects.get(pk=order.pk).status != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.05)
        # then the order is cancelled by the jobs running in-process, and the timer keeps going
        assert Order.objects.get(pk=order.pk).status == "cancelled"
        assert timer.is_alive()
    finally:
        timer.stop(timeout=30)
    assert not timer.is_alive()


def test_no_in_process_timer_when_celery_beat_runs_the_jobs(settings):
    settings.BROKER_URL = "redis://127.0.0.1:6379/1"
    assert cli.start_periodic_timer() is None
    settings.BROKER_URL = ""
    settings.PERIODIC_INTERVAL_SECONDS = 0
    assert cli.start_periodic_timer() is None


def test_a_failing_periodic_run_does_not_stop_the_timer():
    # given a job run that fails the first time
    calls = []
    second_run = threading.Event()

    def run():
        calls.append(len(calls) + 1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        second_run.set()

    timer = PeriodicTimer(0.01, run=run).start()
    try:
        # then the next run still happens
        assert second_run.wait(timeout=60)
        assert calls[:2] == [1, 2]
    finally:
        timer.stop(timeout=30)


def test_an_order_paid_while_the_timeout_job_picks_its_candidates_is_skipped_not_an_error(
        shopper, address, sku, monkeypatch):
    # given an order past the timeout, paid by its gateway just after the job listed it
    from shopyard.orders import queries as order_queries
    from shopyard.orders import services as order_services

    order = _place(shopper, address, sku, minutes_ago=45)
    real = order_queries.payment_deadline
    payment = Payment.objects.get(orders=order)

    def paid_meanwhile(candidate):
        if Order.objects.get(pk=candidate.pk).status == "pending_payment":
            body, headers = simulated.build_notification(payment=payment, status="success")
            handle_notification(gateway="simulated", body=body, headers=headers)
        return real(candidate)

    monkeypatch.setattr(order_services, "payment_deadline", paid_meanwhile)
    # when the job runs, then it cancels nothing and raises nothing: the row lock sees the payment
    assert cancel_expired_unpaid_orders() == 0
    assert Order.objects.get(pk=order.pk).status == "paid"
