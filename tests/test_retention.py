"""What an order leaves behind is dropped once nobody needs it: settled outbox events
(with their deliveries) after SHOPYARD_EVENT_KEEP_DAYS, idempotency records after
SHOPYARD_IDEMPOTENCY_KEEP_DAYS; dead letters and pending deliveries stay."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import QuerySet
from django.utils import timezone

from shopyard.checkout.services import place_order
from shopyard.core import events, retention
from shopyard.core.models import IdempotencyRecord, OutboxDelivery, OutboxEvent
from shopyard.orders.models import Order

from . import factories as f

pytestmark = pytest.mark.django_db


def _aged(event_ids, days):
    OutboxEvent.objects.filter(pk__in=event_ids).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def one_subscriber(subscribe_for_test):
    failed_once = set()

    def handle(payload):
        if payload.get("fail") or (payload.get("fail_once") and payload["n"] not in failed_once):
            failed_once.add(payload["n"])
            raise RuntimeError("cannot")

    subscribe_for_test("thing.kept", handle, key="test.retention")


def _emit(**payload):
    return events.emit("thing.kept", **payload).pk


def test_settled_events_older_than_the_keep_days_go_with_their_deliveries_and_the_rest_stay(one_subscriber, settings):
    settings.EVENT_KEEP_DAYS = 30
    settings.EVENT_MAX_ATTEMPTS = 2  # the failing one is a dead letter at its second attempt
    old_delivered, young_delivered, old_dead, old_new = (_emit(n=1), _emit(n=2), _emit(n=3, fail=True), _emit(n=4))
    old_retried, young_retried = _emit(n=6, fail_once=True), _emit(n=7, fail_once=True)
    old_unheard = events.emit("nobody.listens", n=5).pk
    now = timezone.now()
    for pk in (old_delivered, young_delivered, old_dead, old_retried, young_retried):
        events.dispatch(pk, now=now)
    for delivery in OutboxDelivery.objects.filter(status="pending"):  # their retries (delivery rows since they failed)
        events.deliver(delivery.pk, now=delivery.next_attempt_at)
    statuses = dict(OutboxEvent.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in (old_delivered, young_delivered, old_dead, old_new, old_retried, young_retried,
                                    old_unheard)] == [
        "delivered", "delivered", "dead", "new", "delivered", "delivered", "no_subscribers"]
    _aged([old_delivered, old_dead, old_new, old_retried, old_unheard], days=31)
    _aged([young_delivered, young_retried], days=29)

    assert retention.purge_settled_events() == 3

    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {young_delivered, old_dead, old_new,
                                                                      young_retried}
    # the purged events' delivery rows went with them
    assert set(OutboxDelivery.objects.values_list("event_id", "status")) == {
        (old_dead, "dead"), (young_retried, "delivered")}
    assert retention.purge_settled_events() == 0


def test_the_purge_goes_a_bounded_number_of_chunks_per_run_and_the_next_run_goes_on(one_subscriber, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK", 3)
    monkeypatch.setattr(retention, "CHUNKS_PER_RUN", 2)
    ids = [events.emit("nobody.listens", n=n).pk for n in range(8)]
    _aged(ids, days=400)
    assert retention.purge_settled_events() == 6
    assert OutboxEvent.objects.count() == 2
    assert retention.purge_settled_events() == 2
    assert retention.purge_settled_events() == 0
    assert not OutboxEvent.objects.exists()


def test_an_event_put_back_in_line_between_the_purges_read_and_its_delete_is_kept(one_subscriber, monkeypatch):
    """The DELETE itself re-checks the status: an event reopened (an operator's retry)
    after the purge read its id stays."""
    pk = _emit(n=1)
    events.dispatch(pk)
    _aged([pk], days=400)
    delete = QuerySet.delete

    def reopened_first(queryset):
        OutboxEvent.objects.filter(pk=pk).update(status="pending")
        return delete(queryset)

    monkeypatch.setattr(QuerySet, "delete", reopened_first)
    assert retention.purge_settled_events() == 0
    assert OutboxEvent.objects.filter(pk=pk, status="pending").exists()


def test_an_idempotency_key_replays_for_the_keep_days_and_is_a_new_request_after(settings):
    settings.IDEMPOTENCY_KEEP_DAYS = 7
    shopper = f.make_user()
    address = f.make_address(shopper)
    sku = f.make_product(f.make_shop(), stock=10).skus.get()
    lines = [{"sku_id": sku.pk, "quantity": 1}]
    first = place_order(actor=shopper, address_id=address.pk, lines=lines, idempotency_key="k-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=6, hours=23))
    assert retention.purge_old_idempotency_records() == 0
    again = place_order(actor=shopper, address_id=address.pk, lines=lines, idempotency_key="k-1")
    assert again.replayed and again.order_ids == first.order_ids

    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=7, minutes=1))
    assert retention.purge_old_idempotency_records() == 1
    later = place_order(actor=shopper, address_id=address.pk, lines=lines, idempotency_key="k-1")
    assert not later.replayed and later.order_ids != first.order_ids
    assert Order.objects.filter(user=shopper).count() == 2


def test_both_purges_are_periodic_jobs(settings):
    settings.EVENT_KEEP_DAYS = 1
    ids = [events.emit("nobody.listens", n=n).pk for n in range(3)]
    _aged(ids, days=2)
    out = StringIO()
    call_command("run_periodic", stdout=out)
    ran = json.loads(out.getvalue())
    assert ran["purged_settled_events"] == 3
    assert ran["purged_old_idempotency_records"] == 0
