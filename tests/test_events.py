"""Events are delivered per subscriber: one failing subscriber never blocks the
others or later events, failures are retried with backoff and parked as dead
letters, an operator retries them from the admin, and no delivery runs twice."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from shopyard.core import events, tasks
from shopyard.core.models import IdempotencyRecord, OutboxDelivery, OutboxEvent

from . import factories as f
from .outbox_locks import run_while_another_worker_holds

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def _broker_down(*args, **kwargs):
    raise ConnectionError("broker unreachable")


def _deliveries():
    return sorted(
        OutboxDelivery.objects.values_list("event__name", "subscriber", "status", "attempts")
    )


@pytest.fixture
def listeners(subscribe_for_test):
    """Two subscribers of "thing.happened": one records payloads, one raises."""
    heard = []

    def record(payload):
        heard.append(payload["n"])

    def fail(payload):
        raise Boom(f"cannot handle {payload['n']}")

    subscribe_for_test("thing.happened", record, key="test.recorder")
    subscribe_for_test("thing.happened", fail, key="test.failing")
    return heard


def test_a_failing_subscriber_blocks_neither_the_others_nor_later_events(listeners, settings):
    settings.EVENT_RETRY_BASE_SECONDS = 30
    # given two events, each for a working and a failing subscriber
    first = events.emit("thing.happened", n=1)
    second = events.emit("thing.happened", n=2)
    now = timezone.now()
    # when the sweep runs
    delivered = events.dispatch_pending(now=now)
    # then the working subscriber got both events, in order
    assert delivered == 2
    assert listeners == [1, 2]
    # and each failure is stored on its own delivery, due again after the backoff
    failed = OutboxDelivery.objects.filter(subscriber="test.failing").order_by("event_id")
    assert [(d.event_id, d.status, d.attempts) for d in failed] == [
        (first.pk, "pending", 1), (second.pk, "pending", 1),
    ]
    assert [d.next_attempt_at for d in failed] == [now + timedelta(seconds=30)] * 2
    assert "Boom: cannot handle 1" in failed[0].last_error
    assert "Boom: cannot handle 2" in failed[1].last_error
    ok = OutboxDelivery.objects.filter(subscriber="test.recorder").order_by("event_id")
    assert [(d.status, d.attempts, d.last_error, d.delivered_at) for d in ok] == [("delivered", 1, "", now)] * 2
    # and the events wait for their failing subscriber
    assert list(OutboxEvent.objects.order_by("id").values_list("status", "dispatched_at")) == [
        ("pending", None), ("pending", None),
    ]


def test_failures_back_off_exponentially_then_park_as_dead_letters(subscribe_for_test, settings):
    settings.EVENT_MAX_ATTEMPTS = 4
    settings.EVENT_RETRY_BASE_SECONDS = 10
    settings.EVENT_RETRY_MAX_SECONDS = 25

    def fail(payload):
        raise Boom("still down")

    subscribe_for_test("thing.happened", fail, key="test.failing")
    event = events.emit("thing.happened", n=1)
    delivery = OutboxDelivery.objects.get(event=event)
    t = timezone.now()
    waits = []
    # when the sweep runs each time the delivery is due (and once early, which does nothing)
    for _ in range(4):
        assert events.dispatch_pending(now=t) == 0
        delivery.refresh_from_db()
        if delivery.status == "pending":
            waits.append((delivery.next_attempt_at - t).total_seconds())
            assert events.dispatch_pending(now=delivery.next_attempt_at - timedelta(seconds=1)) == 0
            t = delivery.next_attempt_at
    # then the waits double from the base up to the cap, and the fourth failure is final
    assert waits == [10, 20, 25]
    assert (delivery.status, delivery.attempts) == ("dead", 4)
    assert "Boom: still down" in delivery.last_error
    event.refresh_from_db()
    assert event.status == "dead" and event.dispatched_at == t
    # and a dead letter is never attempted again by the sweep
    assert events.dispatch_pending(now=t + timedelta(days=30)) == 0
    delivery.refresh_from_db()
    assert delivery.attempts == 4


def test_a_failed_handler_leaves_no_writes_behind(subscribe_for_test, shopper):
    def half_done(payload):
        IdempotencyRecord.objects.create(user_id=payload["user_id"], scope="test", key="half", request_hash="x")
        raise Boom("after writing")

    subscribe_for_test("thing.happened", half_done, key="test.half")
    events.emit("thing.happened", user_id=shopper.pk)
    assert events.dispatch_pending() == 0
    assert not IdempotencyRecord.objects.exists()
    assert OutboxDelivery.objects.get().attempts == 1


def test_an_event_nobody_listens_to_is_recorded_as_such(db):
    event = events.emit("nobody.listens", n=1)
    event.refresh_from_db()
    assert (event.status, event.dispatched_at, event.payload) == ("no_subscribers", None, {"n": 1})
    assert not OutboxDelivery.objects.exists()
    assert events.dispatch_pending() == 0
    event.refresh_from_db()
    assert event.status == "no_subscribers"


def test_events_left_without_deliveries_get_them_from_the_sweep(subscribe_for_test, db):
    # given an event row written before per-subscriber deliveries existed
    heard = []
    subscribe_for_test("thing.happened", lambda p: heard.append(p["n"]), key="test.recorder")
    legacy = OutboxEvent.objects.create(name="thing.happened", payload={"n": 7})
    orphan = OutboxEvent.objects.create(name="nobody.listens", payload={})
    # when the sweep runs, then it is delivered to today's subscribers
    assert events.dispatch_pending() == 1
    assert heard == [7]
    legacy.refresh_from_db()
    orphan.refresh_from_db()
    assert (legacy.status, orphan.status) == ("delivered", "no_subscribers")


def test_an_operator_retries_dead_letters_from_the_admin(subscribe_for_test, settings, client):
    settings.EVENT_MAX_ATTEMPTS = 1
    broken = {"on": True}
    heard = []

    def flaky(payload):
        if broken["on"]:
            raise Boom("downstream is down")
        heard.append(payload["n"])

    subscribe_for_test("thing.happened", flaky, key="test.flaky")
    event = events.emit("thing.happened", n=5)
    events.dispatch_pending()
    delivery = OutboxDelivery.objects.get()
    assert delivery.status == "dead"
    operator = f.make_user("ops", is_staff=True, is_superuser=True)
    client.force_login(operator)
    # the dead letter is listed with its error
    page = client.get(reverse("admin:core_outboxdelivery_changelist"), {"status": "dead"})
    assert page.status_code == 200
    assert "Boom: downstream is down" in page.content.decode()
    # when the cause is fixed and the operator retries it
    broken["on"] = False
    response = client.post(
        reverse("admin:core_outboxdelivery_changelist"),
        {"action": "retry_deliveries", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    event.refresh_from_db()
    assert (event.status, event.dispatched_at) == ("pending", None)
    # then the next sweep delivers it
    assert events.dispatch_pending() == 1
    assert heard == [5]
    event.refresh_from_db()
    assert event.status == "delivered"


def test_subscribers_have_stable_names(subscribe_for_test, db):
    def handler(payload):
        pass

    key = subscribe_for_test("thing.happened", handler)
    assert key == f"{__name__}.test_subscribers_have_stable_names.<locals>.handler"
    assert events.subscribers("thing.happened") == [key]
    # and the storefront's page cache listens under its declared name
    assert "storefront.page_cache" in events.subscribers("product.updated")


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_deliver_each_delivery_exactly_once(subscribe_for_test, monkeypatch):
    # given 12 events for one subscriber that writes a row per payload, left to the
    # sweep because the broker was down when they were emitted
    user = f.make_user("events-race")
    monkeypatch.setattr(tasks.dispatch_event, "delay", _broker_down)

    def write(payload):
        IdempotencyRecord.objects.create(user_id=user.pk, scope="race", key=str(payload["n"]), request_hash="x")

    subscribe_for_test("thing.happened", write, key="test.writer")
    for n in range(12):
        events.emit("thing.happened", n=n)
    # when 6 workers sweep at the same moment
    barrier = threading.Barrier(6)
    outcomes = [None] * 6

    def sweep(i):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = ("ok", events.dispatch_pending())
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    # then every event was handled exactly once, and the counts add up
    assert Counter(o[0] for o in outcomes) == {"ok": 6}, outcomes
    assert sum(o[1] for o in outcomes) == 12
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True), key=int) == [str(n) for n in range(12)]
    assert set(OutboxDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}


def test_an_event_delivered_after_commit_keeps_each_subscribers_outcome_apart(subscribe_for_test, shopper, settings):
    # given three subscribers of one event: one writes and succeeds, one writes then fails, one only listens
    settings.EVENT_RETRY_BASE_SECONDS = 30
    heard = []

    def writes(payload):
        IdempotencyRecord.objects.create(user_id=payload["user_id"], scope="test", key="kept", request_hash="x")

    def half_done(payload):
        IdempotencyRecord.objects.create(user_id=payload["user_id"], scope="test", key="half", request_hash="x")
        raise Boom("after writing")

    subscribe_for_test("thing.happened", writes, key="test.a_writes")
    subscribe_for_test("thing.happened", half_done, key="test.b_half")
    subscribe_for_test("thing.happened", lambda payload: heard.append(payload["user_id"]), key="test.c_listens")
    event = events.emit("thing.happened", user_id=shopper.pk)
    now = timezone.now()
    # when the task that runs after commit delivers the event (all its deliveries at once)
    assert events.dispatch(event.pk, now=now) == 2
    # then the working subscribers' writes are kept and they are delivered; the failing one's write is gone,
    # its error and its next attempt stored, and the event still pending for it
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["kept"]
    assert heard == [shopper.pk]
    rows = {d.subscriber: d for d in OutboxDelivery.objects.all()}
    assert [(k, rows[k].status, rows[k].attempts, rows[k].delivered_at) for k in sorted(rows)] == [
        ("test.a_writes", "delivered", 1, now), ("test.b_half", "pending", 1, None),
        ("test.c_listens", "delivered", 1, now)]
    assert "after writing" in rows["test.b_half"].last_error
    assert rows["test.b_half"].next_attempt_at == now + timedelta(seconds=30)
    event.refresh_from_db()
    assert (event.status, event.dispatched_at) == ("pending", None)
    # and a second dispatch before the retry is due runs nothing again
    assert events.dispatch(event.pk, now=now) == 0
    assert heard == [shopper.pk]


def test_a_subscriber_whose_statement_fails_between_two_others_undoes_only_its_own_work(
        subscribe_for_test, shopper, django_capture_on_commit_callbacks):
    # given three subscribers that each write: the middle one's second write breaks a unique
    # constraint (on PostgreSQL that aborts the transaction until a rollback to a savepoint)
    # after it asked for something to run on commit
    after_commit = []

    def record(key):
        return lambda payload: IdempotencyRecord.objects.create(
            user_id=payload["user_id"], scope="test", key=key, request_hash="x")

    def breaks(payload):
        record("middle")(payload)
        connection.on_commit(lambda: after_commit.append("middle"))
        record("middle")(payload)

    def first(payload):
        record("first")(payload)
        connection.on_commit(lambda: after_commit.append("first"))

    subscribe_for_test("thing.happened", first, key="test.a_first")
    subscribe_for_test("thing.happened", breaks, key="test.b_breaks")
    subscribe_for_test("thing.happened", record("last"), key="test.c_last")
    event = events.emit("thing.happened", user_id=shopper.pk)
    # when the event is delivered
    with django_capture_on_commit_callbacks(execute=True):
        assert events.dispatch(event.pk) == 2
    # then the first and the last subscriber's writes are kept, the middle one's are gone with its callback
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["first", "last"]
    assert after_commit == ["first"]
    assert dict(OutboxDelivery.objects.values_list("subscriber", "status")) == {
        "test.a_first": "delivered", "test.b_breaks": "pending", "test.c_last": "delivered"}


@pytest.mark.parametrize("second", ["succeeds", "fails", "fails for the last time"])
def test_a_dispatch_sums_the_deliveries_up_on_the_event(subscribe_for_test, shopper, settings, second):
    # given an event with two subscribers, the second of which succeeds, fails, or fails its last attempt
    settings.EVENT_MAX_ATTEMPTS = 1 if second == "fails for the last time" else 5
    heard = []

    def maybe(payload):
        if second != "succeeds":
            raise Boom("no")
        heard.append("b")

    subscribe_for_test("thing.happened", lambda payload: heard.append("a"), key="test.a_works")
    subscribe_for_test("thing.happened", maybe, key="test.b_maybe")
    event = events.emit("thing.happened", user_id=shopper.pk)
    now = timezone.now()
    # when the event is delivered after commit
    assert events.dispatch(event.pk, now=now) == (2 if second == "succeeds" else 1)
    # then each delivery has its outcome, and the event says what they sum up to
    statuses = dict(OutboxDelivery.objects.values_list("subscriber", "status"))
    event.refresh_from_db()
    expected = {"succeeds": ("delivered", "delivered", now), "fails": ("pending", "pending", None),
                "fails for the last time": ("dead", "dead", now)}[second]
    assert (statuses["test.b_maybe"], event.status, event.dispatched_at) == expected
    assert statuses["test.a_works"] == "delivered"
    assert OutboxDelivery.objects.get(subscriber="test.a_works").attempts == 1


def test_a_batch_of_events_is_written_with_one_delivery_per_subscriber_of_each(subscribe_for_test, django_capture_on_commit_callbacks):
    from django.db import transaction

    # given two subscribers of one name, one of another, and a name nobody listens to
    for name, key in (("thing.a", "test.first"), ("thing.a", "test.second"), ("thing.b", "test.only")):
        subscribe_for_test(name, lambda payload: None, key=key)
    # when a transaction emits them in one batch, the same name twice, and one more alone
    with django_capture_on_commit_callbacks() as scheduled, transaction.atomic():
        with events.batched():
            written = [events.emit("thing.a", n=1), events.emit("thing.b", n=2), events.emit("thing.none", n=3),
                       events.emit("thing.a", n=4)]
        alone = events.emit("thing.b", n=5)
    # then each instance holds its own row's id, and its row its name, payload and status
    assert [(e.name, e.payload["n"], e.status) for e in OutboxEvent.objects.filter(
        pk__in=[e.pk for e in [*written, alone]]).order_by("payload__n")] == [
        ("thing.a", 1, "pending"), ("thing.b", 2, "pending"), ("thing.none", 3, "no_subscribers"),
        ("thing.a", 4, "pending"), ("thing.b", 5, "pending")]
    assert [OutboxEvent.objects.get(pk=e.pk).payload["n"] for e in [*written, alone]] == [1, 2, 3, 4, 5]
    assert all(not e._state.adding for e in [*written, alone])
    # and each event has one pending delivery per subscriber of its name, due now, never tried
    assert sorted(OutboxDelivery.objects.values_list("event__payload__n", "subscriber", "status", "attempts")) == [
        (1, "test.first", "pending", 0), (1, "test.second", "pending", 0), (2, "test.only", "pending", 0),
        (4, "test.first", "pending", 0), (4, "test.second", "pending", 0), (5, "test.only", "pending", 0)]
    assert not OutboxDelivery.objects.filter(next_attempt_at__isnull=True).exists()
    # and the events with subscribers are handed over for delivery after commit, the silent one not
    assert len(scheduled) == 4


def test_a_failing_subscriber_leaves_the_others_effects_done_once(subscribe_for_test, shopper,
                                                                   django_capture_on_commit_callbacks):
    # given a subscriber that writes and asks for an effect after commit, then one that fails after
    # writing, then one more that writes: the first try of the delivery (no savepoints) fails
    effects = []

    def first(payload):
        IdempotencyRecord.objects.create(user_id=payload["user_id"], scope="test", key="first", request_hash="x")
        connection.on_commit(lambda: effects.append("first"))

    def fails(payload):
        IdempotencyRecord.objects.create(user_id=payload["user_id"], scope="test", key="fails", request_hash="x")
        raise Boom("after writing")

    subscribe_for_test("thing.happened", first, key="test.a_first")
    subscribe_for_test("thing.happened", fails, key="test.b_fails")
    subscribe_for_test("thing.happened", lambda payload: IdempotencyRecord.objects.create(
        user_id=payload["user_id"], scope="test", key="last", request_hash="x"), key="test.c_last")
    event = events.emit("thing.happened", user_id=shopper.pk)
    # when it is delivered
    with django_capture_on_commit_callbacks(execute=True):
        assert events.dispatch(event.pk) == 2
    # then the others' writes and effects happened once, the failing one's write is gone,
    # and each delivery counts one attempt
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["first", "last"]
    assert effects == ["first"]
    assert sorted(OutboxDelivery.objects.values_list("subscriber", "status", "attempts")) == [
        ("test.a_first", "delivered", 1), ("test.b_fails", "pending", 1), ("test.c_last", "delivered", 1)]


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_skips_an_event_another_worker_is_delivering_without_waiting_for_it(subscribe_for_test, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite's transaction locks the whole file (the PostgreSQL stage runs it)")
    # given an event with two subscribers, emitted while the broker was down, whose row another
    # worker has locked (as `deliver` locks a delivery with its event while it runs a handler)
    monkeypatch.setattr(tasks.dispatch_event, "delay", _broker_down)
    heard = []
    subscribe_for_test("thing.happened", lambda payload: heard.append("a"), key="test.a")
    subscribe_for_test("thing.happened", lambda payload: heard.append("b"), key="test.b")
    event = events.emit("thing.happened", n=1)
    # when this worker dispatches the event meanwhile
    waited, outcome = run_while_another_worker_holds(event.pk, lambda: events.dispatch(event.pk))
    # then it delivered nothing and returned at once, leaving the event and its deliveries as they were
    assert (waited, outcome, heard) == (False, [0], [])
    assert set(OutboxDelivery.objects.values_list("status", "attempts")) == {("pending", 0)}
    assert OutboxEvent.objects.get(pk=event.pk).status == "pending"
