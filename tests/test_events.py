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
    assert not OutboxDelivery.objects.exists()  # a new event is its one row
    t = timezone.now()
    waits = []
    # when the sweep runs each time the delivery is due (and once early, which does nothing)
    for _ in range(4):
        assert events.dispatch_pending(now=t) == 0
        delivery = OutboxDelivery.objects.get(event=event)  # written by the first failure
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


@pytest.mark.parametrize("status", ["new", "pending"])
def test_events_left_without_deliveries_get_them_from_the_sweep(subscribe_for_test, db, status):
    # given event rows a crashed process left new, or written pending before new events went without delivery
    # rows, one of them of a name nobody listens to any more
    heard = []
    subscribe_for_test("thing.happened", lambda p: heard.append(p["n"]), key="test.recorder")
    legacy = OutboxEvent.objects.create(name="thing.happened", payload={"n": 7}, status=status)
    orphan = OutboxEvent.objects.create(name="nobody.listens", payload={}, status=status)
    # when the sweep runs, then it is delivered to today's subscribers, with no delivery row written
    assert events.dispatch_pending() == 1
    assert heard == [7]
    legacy.refresh_from_db()
    orphan.refresh_from_db()
    assert (legacy.status, orphan.status) == ("delivered", "no_subscribers")
    assert legacy.dispatched_at is not None
    assert not OutboxDelivery.objects.exists()
    # and the next sweep delivers nothing again
    assert events.dispatch_pending() == 0
    assert heard == [7]


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
    # and an event delivered at once (no delivery row) names its subscribers on its admin page
    other = events.emit("thing.happened", n=6)
    assert events.dispatch(other.pk) == 1 and not other.deliveries.exists()
    page = client.get(reverse("admin:core_outboxevent_change", args=[other.pk]))
    assert page.status_code == 200
    assert "test.flaky" in page.content.decode()


def test_subscribers_have_stable_names(subscribe_for_test, db):
    def handler(payload):
        pass

    key = subscribe_for_test("thing.happened", handler)
    assert key == f"{__name__}.test_subscribers_have_stable_names.<locals>.handler"
    assert events.subscribers("thing.happened") == [key]
    # and the storefront's page cache listens under its declared name
    assert "storefront.page_cache" in events.subscribers("product.updated")


def _at_once(calls) -> list:
    """Run each call in a thread of its own, all released at the same moment (each thread on
    its own connection); returns [("ok", what it returned), ...] once all succeeded."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def work(i):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = ("ok", calls[i]())
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert Counter(o[0] for o in outcomes) == {"ok": len(calls)}, outcomes
    return outcomes


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
    outcomes = _at_once([events.dispatch_pending] * 6)
    # then every event was handled exactly once, and the counts add up
    assert sum(o[1] for o in outcomes) == 12
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True), key=int) == [str(n) for n in range(12)]
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}
    assert not OutboxDelivery.objects.exists()  # all delivered at the first attempt: no row needed


@pytest.mark.django_db(transaction=True)
def test_racing_dispatches_of_new_events_with_a_failing_subscriber_commit_each_effect_once(subscribe_for_test,
                                                                                             monkeypatch, settings):
    # given 12 new events whose second subscriber fails for the even ones, left to the workers (no broker)
    settings.EVENT_RETRY_BASE_SECONDS = 3600
    monkeypatch.setattr(tasks.dispatch_event, "delay", _broker_down)
    committed = []

    def writer(payload):  # an effect that happens once its delivery's transaction commits
        connection.on_commit(lambda: committed.append(("writer", payload["n"])))

    def flaky(payload):
        if payload["n"] % 2 == 0:
            raise Boom(f"cannot handle {payload['n']}")
        connection.on_commit(lambda: committed.append(("flaky", payload["n"])))

    subscribe_for_test("thing.happened", writer, key="test.a_writer")
    subscribe_for_test("thing.happened", flaky, key="test.b_flaky")
    ids = [events.emit("thing.happened", n=n).pk for n in range(12)]
    # when six workers deliver them at the same moment: three as one batch each, three as the sweep
    outcomes = _at_once([lambda: events.dispatch_many(ids), events.dispatch_pending] * 3)
    # then each effect was committed exactly once, and the successes add up to what the workers report
    assert Counter(committed) == Counter([("writer", n) for n in range(12)] + [("flaky", n) for n in range(1, 12, 2)])
    assert sum(o[1] for o in outcomes) == len(committed)
    # and only the events with a failure have delivery rows: the writer's delivered (not to be run again),
    # the failing one's waiting for its retry after one attempt
    by_n = {e.pk: e.payload["n"] for e in OutboxEvent.objects.filter(pk__in=ids)}
    rows = sorted((by_n[d.event_id], d.subscriber, d.status, d.attempts) for d in OutboxDelivery.objects.all())
    assert rows == sorted([(n, "test.a_writer", "delivered", 1) for n in range(0, 12, 2)]
                          + [(n, "test.b_flaky", "pending", 1) for n in range(0, 12, 2)])
    assert {by_n[pk]: status for pk, status in OutboxEvent.objects.values_list("pk", "status")} == {
        n: "pending" if n % 2 == 0 else "delivered" for n in range(12)}


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
    # then the event says what its deliveries sum up to; when one failed, each has its row and outcome
    # (the one that worked counts one attempt: it is not tried again), and when none did, no row is written
    assert heard == ["a", "b"] if second == "succeeds" else ["a"]
    rows = sorted(OutboxDelivery.objects.values_list("subscriber", "status", "attempts"))
    event.refresh_from_db()
    expected = {"succeeds": ([], "delivered", now),
                "fails": ([("test.a_works", "delivered", 1), ("test.b_maybe", "pending", 1)], "pending", None),
                "fails for the last time": ([("test.a_works", "delivered", 1), ("test.b_maybe", "dead", 1)], "dead",
                                            now)}[second]
    assert (rows, event.status, event.dispatched_at) == expected


def test_a_batch_of_events_is_written_new_without_delivery_rows(subscribe_for_test, django_capture_on_commit_callbacks):
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
        ("thing.a", 1, "new"), ("thing.b", 2, "new"), ("thing.none", 3, "no_subscribers"),
        ("thing.a", 4, "new"), ("thing.b", 5, "new")]
    assert [OutboxEvent.objects.get(pk=e.pk).payload["n"] for e in [*written, alone]] == [1, 2, 3, 4, 5]
    assert all(not e._state.adding for e in [*written, alone])
    # and no delivery row is written: a new event is due to every subscriber of its name
    assert not OutboxDelivery.objects.exists()
    # and the events with subscribers are handed over for delivery after commit, the silent one not
    assert len(scheduled) == 4
    # and delivered, each reaches each subscriber of its name
    heard = []
    for name, key in (("thing.a", "test.first"), ("thing.a", "test.second"), ("thing.b", "test.only")):
        subscribe_for_test(name, lambda payload, key=key: heard.append((payload["n"], key)), key=key)
    assert events.dispatch_many([e.pk for e in [*written, alone]]) == 6
    assert sorted(heard) == [(1, "test.first"), (1, "test.second"), (2, "test.only"), (4, "test.first"),
                             (4, "test.second"), (5, "test.only")]


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
    # then it delivered nothing and returned at once, leaving the event as it was
    assert (waited, outcome, heard) == (False, [0], [])
    assert not OutboxDelivery.objects.exists()
    assert OutboxEvent.objects.get(pk=event.pk).status == "new"
