"""Payment notifications survive outages: the gateway page writes the
notification to our outbox (QueuedNotification) in its transaction, a broker
outage is not a 500, the periodic job delivers what the broker did not, the
delivery task retries database and broker errors, staleness is judged
against when we received the notification (not our queue's delay), and a
payment nobody notified us about is queried from the gateway."""

import time
from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from shopyard.core.errors import BadRequest
from shopyard.orders.models import Order
from shopyard.payments import services, tasks
from shopyard.payments.models import Payment, PaymentNotification, QueuedNotification
from tests import factories as f


@pytest.fixture
def checkout(client, shopper, address, sku, other_shop):
    """The shopper checked out two shops' items through the pages; returns the pending payment."""
    other_sku = f.make_product(other_shop, price="30.00", stock=5).skus.get()
    client.force_login(shopper)
    for item in (sku, other_sku):
        client.post(reverse("storefront:cart_add"), {"sku_id": item.pk, "quantity": 1})
    client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "outbox-1"})
    return Payment.objects.get(user=shopper)


def _broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise BrokerError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.deliver_queued_notification, "delay", refuse)


def _approve(client, payment, capture):
    with capture(execute=True):
        return client.post(reverse("payments:simulated", args=[payment.reference]), {"action": "approve"})


def _statuses(payment):
    payment.refresh_from_db()
    return payment.status, sorted(Order.objects.filter(payments=payment).values_list("status", flat=True))


def test_broker_down_when_the_shopper_approves_is_no_500_and_the_periodic_job_delivers(
    client, checkout, monkeypatch, django_capture_on_commit_callbacks
):
    # given the broker is down
    _broker_down(monkeypatch)
    # when the shopper approves on the gateway page
    response = _approve(client, checkout, django_capture_on_commit_callbacks)
    # then the shopper is sent back to the shop as usual, and the notification waits in our outbox
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:return", args=[checkout.reference])
    assert _statuses(checkout) == ("pending", ["pending_payment", "pending_payment"])
    queued = QueuedNotification.objects.get()
    assert (queued.delivered_at, queued.attempts) == (None, 0)
    assert not PaymentNotification.objects.exists()
    # when the periodic job runs, then it delivers it once
    assert services.deliver_queued_notifications() == 1
    assert _statuses(checkout) == ("succeeded", ["paid", "paid"])
    queued.refresh_from_db()
    assert (queued.outcome, queued.attempts, queued.delivered_at is not None) == ("applied", 1, True)
    assert services.deliver_queued_notifications() == 0
    assert list(PaymentNotification.objects.values_list("outcome", flat=True)) == ["applied"]


def test_a_notification_that_waited_in_our_queue_is_not_stale_but_a_late_replay_is(
    client, checkout, monkeypatch, django_capture_on_commit_callbacks
):
    # given the notification was queued while the broker was down
    _broker_down(monkeypatch)
    _approve(client, checkout, django_capture_on_commit_callbacks)
    queued = QueuedNotification.objects.get()
    # when it is delivered an hour later (far beyond SHOPYARD_CALLBACK_MAX_AGE)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert services.deliver_queued(queued_id=queued.pk) == "applied"
    # then it was applied: the wait was ours, not the provider's
    assert _statuses(checkout) == ("succeeded", ["paid", "paid"])
    # while the same message replayed to the callback an hour later is refused as stale
    with pytest.raises(BadRequest) as exc:
        services.handle_notification(gateway="simulated", body=queued.body.encode(), headers=queued.headers)
    assert exc.value.code == "stale"
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == ["applied", "stale"]


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("gone"),
                                   BrokerError("connection reset")])
def test_the_delivery_task_retries_database_and_broker_errors(
    client, checkout, monkeypatch, django_capture_on_commit_callbacks, error
):
    # given a queued notification and a database that fails twice
    _broker_down(monkeypatch)
    _approve(client, checkout, django_capture_on_commit_callbacks)
    queued = QueuedNotification.objects.get()
    real, calls = services.deliver_queued, []

    def flaky(**kwargs):
        calls.append(kwargs["queued_id"])
        if len(calls) < 3:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(services, "deliver_queued", flaky)
    monkeypatch.setattr(tasks.deliver_queued_notification.app.conf, "task_eager_propagates", False)
    # when the task runs
    result = tasks.deliver_queued_notification.apply(args=[queued.pk])
    # then it retried until the notification was applied
    assert (result.state, result.result, calls) == ("SUCCESS", "applied", [queued.pk] * 3)
    assert _statuses(checkout) == ("succeeded", ["paid", "paid"])
    assert tasks.deliver_queued_notification.retry_backoff and tasks.deliver_queued_notification.max_retries == 8


def test_a_payment_nobody_notified_us_about_is_queried_from_the_gateway(
    client, checkout, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # given the shopper approved but the provider's notification never reached us
    _broker_down(monkeypatch)
    _approve(client, checkout, django_capture_on_commit_callbacks)
    lost = QueuedNotification.objects.get()
    QueuedNotification.objects.all().delete()
    settings.PAYMENT_QUERY_AFTER_MINUTES = 5
    # when the periodic job runs within the configured minutes, then nothing is asked
    assert services.query_unconfirmed_payments(now=timezone.now() + timedelta(minutes=4)) == 0
    assert _statuses(checkout) == ("pending", ["pending_payment", "pending_payment"])
    # when it runs after them, then the gateway's answer is applied like a notification
    assert services.query_unconfirmed_payments(now=timezone.now() + timedelta(minutes=6)) == 1
    assert _statuses(checkout) == ("succeeded", ["paid", "paid"])
    note = PaymentNotification.objects.get()
    assert (note.outcome, note.payment_id) == ("applied", checkout.pk)
    assert '"source":"status_query"' in note.body
    # and the notification, if it finally arrives, is a duplicate of what the query applied
    assert services.handle_notification(gateway="simulated", body=lost.body.encode(), headers=lost.headers) == "duplicate"
    assert services.query_unconfirmed_payments(now=timezone.now() + timedelta(minutes=20)) == 0


def test_a_declined_payment_found_by_query_fails_and_an_undecided_one_stays_pending(
    client, checkout, shopper, address, sku, monkeypatch, django_capture_on_commit_callbacks
):
    from shopyard.checkout.services import place_order

    # given one payment the shopper declined (notification lost) and one nobody decided yet
    _broker_down(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("payments:simulated", args=[checkout.reference]), {"action": "decline"})
    QueuedNotification.objects.all().delete()
    undecided = Payment.objects.get(pk=place_order(actor=shopper, address_id=address.pk,
                                                   lines=[{"sku_id": sku.pk, "quantity": 1}]).payment_id)
    # when the query job runs later
    assert services.query_unconfirmed_payments(now=timezone.now() + timedelta(minutes=10)) == 1
    # then the declined one failed, the undecided one is still open (and its query time noted)
    assert _statuses(checkout) == ("failed", ["pending_payment", "pending_payment"])
    undecided.refresh_from_db()
    assert undecided.status == "pending" and undecided.status_checked_at is not None


def test_the_gateway_page_refuses_a_payment_one_of_whose_orders_was_cancelled(
    client, checkout, shopper, django_capture_on_commit_callbacks
):
    from shopyard.orders.services import cancel_by_buyer

    # given one order of the two-shop payment was cancelled and the payment is somehow
    # still pending (its order.cancelled event not delivered yet)
    first, second = Order.objects.filter(payments=checkout).order_by("pk")
    cancel_by_buyer(actor=shopper, order_id=first.pk)
    checkout.refresh_from_db()
    assert checkout.status == "pending"
    # when the shopper approves the old total on the gateway page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("payments:simulated", args=[checkout.reference]), {"action": "approve"})
    # then nothing is charged: the payment is cancelled and the shopper told to pay again
    assert response.status_code == 409
    assert "can no longer be paid" in response.content.decode()
    assert _statuses(checkout) == ("cancelled", ["cancelled", "pending_payment"])
    assert not QueuedNotification.objects.exists() and not PaymentNotification.objects.exists()
    assert not simulated_charges()
    # and a new payment for the remaining order has its amount only
    new = services.start_payment(actor=shopper, order_ids=[second.pk])
    assert new.pk != checkout.pk and new.amount == second.total
    assert client.get(reverse("payments:simulated", args=[checkout.reference])).status_code == 409


def simulated_charges():
    from shopyard.payments.models import SimulatedCharge

    return list(SimulatedCharge.objects.all())


def test_a_cancelled_order_closes_its_pending_payment_at_once(client, checkout, shopper, django_capture_on_commit_callbacks):
    from shopyard.orders.services import cancel_by_buyer

    first = Order.objects.filter(payments=checkout).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=first.pk)
    checkout.refresh_from_db()
    assert checkout.status == "cancelled"
    page = client.get(reverse("payments:simulated", args=[checkout.reference]))
    assert page.status_code == 409 and 'value="approve"' not in page.content.decode()
