"""Domain events through an outbox, delivered per subscriber.

`emit` writes the event (status `new`) inside the caller's transaction; after
commit a Celery task delivers it to every subscriber, and the periodic sweep
`dispatch_pending` delivers whatever is due later (new events a crashed process
or a down broker left behind, and retries). A new event is one row and nothing
else: the dispatch that delivers it to every subscriber marks it delivered.
Only when a subscriber fails does the dispatch write the event's
`OutboxDelivery` rows, one per subscriber, delivered or not, which keep each
one's attempts and errors from then on. In the embedded setup (no broker: tasks
run eagerly) an event committed while serving a request is delivered once the
response has been sent, not before it (`after_response`).

Guarantees (see docs/architecture.md, "Events"):
- at least once per subscriber, and exactly once for the database writes a
  handler makes: the handler runs inside the transaction that marks its
  delivery done (the event, for a new one), under a lock on the event's row, in
  a savepoint;
- one failing subscriber never blocks another subscriber or a later event: its
  failure is stored on its own delivery (attempts, last error, next attempt
  with exponential backoff) and it becomes a dead letter after
  `EVENT_MAX_ATTEMPTS`; an operator retries dead letters from the admin;
- an event nobody listens to is kept with the status `no_subscribers`.
"""

import atexit
import contextvars
import functools
import logging
import traceback
from contextlib import contextmanager, nullcontext
from itertools import groupby

import structlog
from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from . import retries
from .bulk_sql import create_rows
from .durability import RELAX, relaxed_atomic
from .held import HeldBatch, forget_in_children
from .logs import current_request_id
from .models import OutboxDelivery, OutboxEvent
from .prepared import PreparedReads

log = logging.getLogger("shopyard.events")

# event name -> {subscriber key -> handler(payload)}; apps subscribe in AppConfig.ready
_SUBSCRIBERS: dict[str, dict] = {}
# keys of handlers called as handler(payload, event=OutboxEvent): those that key
# their own idempotency on the event (notifications, webhooks)
_WANT_EVENT: set[str] = set()
# subscriber key -> the same handler for several events at once, many([(payload, event), ...])
_MANY: dict[str, object] = {}

ERROR_MAX_CHARS = 4000


def subscriber_key(handler) -> str:
    """The default stable name of a handler: its dotted path."""
    return f"{handler.__module__}.{handler.__qualname__}"


def subscribe(name: str, handler, *, key: str | None = None, pass_event: bool = False, many=None) -> str:
    """Register `handler(payload)` for events called `name` under a stable `key`
    (stored on each delivery, so renaming a handler's function must keep its key).
    With `pass_event` the handler is called as `handler(payload, event=event)`, for
    handlers that need the event's id (a unique key per event and recipient).
    `many`, when given, is the same handler for several events: `many(items)` with
    (payload, event) pairs in the events' order, called once for a batch of held
    events (`dispatch_many`) so that its reads and writes are one statement for the
    batch, not one per event. It must do exactly what `handler` does for each item
    (the simplest `handler` calls it with one). Giving it also says the subscriber
    accepts that its events wait up to SHOPYARD_EVENT_DISPATCH_SECONDS to be delivered
    (`may_hold`). Subscribing the same key again replaces the handler."""
    key = key or subscriber_key(handler)
    _SUBSCRIBERS.setdefault(name, {})[key] = handler
    if pass_event:
        _WANT_EVENT.add(key)
    else:
        _WANT_EVENT.discard(key)
    if many is not None:
        _MANY[key] = many
    else:
        _MANY.pop(key, None)
    return key


def unsubscribe(name: str, key: str) -> None:
    """Remove a subscriber (tests; a deployment that drops a subscriber keeps
    its key out of `subscribe`, and its pending deliveries become dead letters)."""
    _SUBSCRIBERS.get(name, {}).pop(key, None)


def subscription(name: str, key: str) -> dict | None:
    """What `subscribe(name, **subscription)` takes to subscribe `key` to `name` again as it
    is now (handler, key, pass_event, many), or None when it is not subscribed: a test that
    replaces a subscriber for a while puts it back whole."""
    handler = handler_for(name, key)
    if handler is None:
        return None
    return {"handler": handler, "key": key, "pass_event": key in _WANT_EVENT, "many": _MANY.get(key)}


def handler_for(name: str, key: str):
    """The handler subscribed to `name` as `key`, or None."""
    return _SUBSCRIBERS.get(name, {}).get(key)


def subscribed_names() -> list[str]:
    """Every event name someone subscribes to."""
    return sorted(name for name, handlers in _SUBSCRIBERS.items() if handlers)


def subscribers(name: str) -> list[str]:
    """The keys subscribed to `name`."""
    return list(_SUBSCRIBERS.get(name, {}))


# the events of the innermost `batched()` block, written when it ends; None outside one
_BATCH: contextvars.ContextVar[list | None] = contextvars.ContextVar("shopyard_outbox_batch", default=None)


@contextmanager
def batched():
    """Write the events emitted inside the block when it ends, in one INSERT, instead
    of one statement per event: a checkout's `order.placed` and `checkout.placed` cost
    one round trip, not two.

    Use it inside the transaction that writes what the events describe, around
    code that does not read an emitted event back (`emit` returns it unsaved
    there): the rows still commit or roll back with that transaction, and an
    exception leaving the block drops them. Nested blocks write with the outermost."""
    if _BATCH.get() is not None:
        yield
        return
    pending: list = []
    token = _BATCH.set(pending)
    try:
        yield
    finally:
        _BATCH.reset(token)
    _write(pending)


def _write(events) -> None:
    """The events in one INSERT (core.bulk_sql: SQL written once), each new one's
    dispatch scheduled for after the commit."""
    if not events:
        return
    create_rows(OutboxEvent, events)
    for event in events:
        if event.status == OutboxEvent.Status.NEW:
            _schedule_after_commit(event)


def emit(name: str, **payload) -> OutboxEvent:
    """Write the event `name` in the caller's transaction (inside `batched()`, when the
    block ends); its subscribers are those subscribed when it is first dispatched."""
    event = OutboxEvent(name=name, payload=payload,
                        status=OutboxEvent.Status.NEW if subscribers(name) else OutboxEvent.Status.NO_SUBSCRIBERS)
    batch = _BATCH.get()
    if batch is not None:
        batch.append(event)
        return event
    _write([event])
    return event


# ids of the events committed while serving the current request, delivered once its
# response is sent; None outside a request, or with a broker (a worker delivers them)
_AFTER_RESPONSE: contextvars.ContextVar[list | None] = contextvars.ContextVar("shopyard_after_response",
                                                                              default=None)


def _schedule_after_commit(event) -> None:
    def _schedule():
        from .tasks import dispatch_event

        waiting = _AFTER_RESPONSE.get()
        if waiting is not None:  # with the request's id: the request's log context is gone by then
            waiting.append((event.pk, current_request_id(), may_hold(event.name)))
            return
        try:
            dispatch_event.delay(event.pk)
        except Exception:  # broker down: the periodic sweep delivers it later
            log.warning("could not queue event %s; the sweep will deliver it", event.pk)

    transaction.on_commit(_schedule)


def request_started(**_kwargs) -> None:
    """`request_started` receiver: without a broker, the events this request
    commits wait for its response to be sent (`request_finished`), so the
    shopper does not wait for every subscriber of `order.placed` before the
    201. With a broker, queuing the task is all the request does anyway."""
    from .tasks import dispatch_event

    _AFTER_RESPONSE.set([] if dispatch_event.app.conf.task_always_eager else None)


def after_response(**_kwargs) -> None:
    """`request_finished` receiver (Django sends it when the server closes the
    response, after the body went out): deliver the request's events. Their rows
    were committed with the request's writes, so a process that dies first leaves
    them new for the sweep, and a delivery that fails here waits for its retry,
    with the same attempts, backoff and dead letters as any delivery.

    With `EVENT_DISPATCH_SECONDS` the process keeps the events it `may_hold` with its
    other requests' (core/held.py) and delivers `EVENT_DISPATCH_BATCH` of them together,
    or that many seconds after the first, in one transaction (`dispatch_many`): an
    order's own delivery (a task run, a transaction, a locking read and a settling
    UPDATE around its five subscribers) was nearly half of what placing it cost.
    A buyer's "order placed" message then appears up to that long later; a worker
    killed before it delivers leaves them to the sweep. The others (a seller's edit,
    which the page cache and the search index must see at once), and all of them with
    0 seconds, are delivered once the response is sent."""
    waiting = _AFTER_RESPONSE.get()
    _AFTER_RESPONSE.set(None)
    if not waiting:
        return
    keep_health_checks()
    hold = settings.EVENT_DISPATCH_SECONDS > 0
    now = [(pk, request_id) for pk, request_id, holdable in waiting if not (hold and holdable)]
    if now:
        _deliver(now)
    if hold and len(now) < len(waiting):
        _held.add([(pk, request_id) for pk, request_id, holdable in waiting if holdable],
                  limit=settings.EVENT_DISPATCH_BATCH, seconds=settings.EVENT_DISPATCH_SECONDS)


def may_hold(name: str) -> bool:
    """Whether events called `name` may wait to be delivered with others: when each of
    their subscribers takes batches (`subscribe(..., many=)`), which is how a subscriber
    says it also accepts the wait. One that does not (the page cache, the search index,
    promotions' and payments' state) has its events delivered once the response is sent."""
    keys = subscribers(name)
    return bool(keys) and all(key in _MANY for key in keys)


def _deliver(waiting) -> None:
    """Deliver (event id, request id) pairs through the tasks, eagerly in this process: as
    delay() would run them, through Celery's tracer (its signals: the task's log line and
    outcome metric), without delay()'s rehearsal of a publish (a producer acquired, the
    arguments through a JSON round trip), which was half of Celery's CPU per order. One
    event keeps its request's id on the task's log line; several are one task, whose
    line names their requests (`request_ids`), and a handler run for one event at a
    time logs with its request's id."""
    from .tasks import dispatch_event, dispatch_events

    try:
        if len(waiting) == 1:
            [(event_id, request_id)] = waiting
            with _for_request(request_id):
                dispatch_event.apply(args=(event_id,))
        else:  # its log line names every request whose events it delivers
            request_ids = [rid for _pk, rid in waiting]
            with structlog.contextvars.bound_contextvars(request_ids=sorted({rid for rid in request_ids if rid})):
                dispatch_events.apply(args=([pk for pk, _rid in waiting], request_ids))
    except Exception:  # the response is gone; the sweep delivers what is still pending
        log.exception("could not deliver events %s after the response; the sweep will", [pk for pk, _ in waiting])


def _for_request(request_id):
    """The log context of the request that committed an event (its id), around its delivery."""
    return structlog.contextvars.bound_contextvars(request_id=request_id) if request_id else nullcontext()


# the events this process's requests committed, waiting to be delivered together (core/held.py);
# a normal exit delivers them, a forked child leaves them to its parent
_held = HeldBatch(_deliver, what="events to deliver (the sweep delivers them)")
atexit.register(_held.flush)
forget_in_children(_held)


def deliver_held_events() -> int:
    """Deliver the events this process holds now (tests; an exit does it too); returns how many."""
    return _held.flush()


def keep_health_checks() -> None:
    """What django.db's `close_old_connections` does when a request finishes (it runs after
    this receiver, `CoreConfig.ready` orders them), done before the deliveries: a connection
    that broke or outlived its age is closed, so a delivery opens a fresh one. A connection
    this request health-checked and used without an error keeps its check, so the deliveries
    do not send a second `SELECT 1` a few milliseconds after the first (one round trip
    after every order); `close_old_connections` then resets it for the next request."""
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:  # a test's transaction around the request: Django's test client leaves it be too
            continue
        checked = conn.health_check_done and not conn.errors_occurred
        conn.close_if_unusable_or_obsolete()
        if checked and conn.connection is not None:
            conn.health_check_done = True


def _due(now):
    """Due deliveries, locked; one another worker holds (or whose event it holds) is skipped."""
    return (
        OutboxDelivery.objects.select_for_update(skip_locked=True)
        .select_related("event")
        .filter(status=OutboxDelivery.Status.PENDING, next_attempt_at__lte=now)
    )


def _due_of_events(event_ids, now):
    return _due(now).filter(event_id__in=event_ids).order_by("event_id", "id")


def _open_events(event_ids):
    """The events still to deliver (new, or waiting for a retry), locked; one another worker
    holds is skipped. The lock is what every delivery of an event runs under: `deliver` takes
    it with its delivery row, and a status a concurrent dispatch committed is read after the
    lock is granted (PostgreSQL reads the locked row's newest version), so a new event whose
    delivery rows were just written is never taken for new again."""
    return (OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk__in=event_ids, status__in=[OutboxEvent.Status.NEW, OutboxEvent.Status.PENDING])
            .order_by("id"))


# the events to deliver, locked: read after every commit that emitted one (`dispatch`) and for
# every batch of held ones (`dispatch_many`), compiled once per count of events; the second
# also makes the relaxed commit's setting (durability.relaxed_atomic's `carried`). Then the due
# delivery rows of those that have them (a retry's), in a second read.
_OPEN_EVENTS = PreparedReads(OutboxEvent, _open_events)
_OPEN_EVENTS_RELAXED = PreparedReads(
    OutboxEvent, lambda event_ids: _open_events(event_ids).annotate(relaxed=RawSQL(RELAX, ())))
_DUE_OF_EVENTS = PreparedReads(OutboxDelivery, _due_of_events, kinds=("moment",))


def _work_of(event_ids, now, relax):
    """What a dispatch of the events attempts, under their locks: for a new event one unsaved
    delivery per key subscribed to its name now (`_keep` writes them only when one fails),
    for one waiting for a retry its due delivery rows, locked. A new event nobody subscribes
    to any more is kept as `no_subscribers`. Returns (the deliveries, in event order, the ids
    of the events they belong to, to settle)."""
    events = (_OPEN_EVENTS_RELAXED if relax else _OPEN_EVENTS).objects(sorted(set(event_ids)))
    retried = [event.pk for event in events if event.status == OutboxEvent.Status.PENDING]
    rows: dict[int, list] = {}
    for delivery in _DUE_OF_EVENTS.objects(retried, now) if retried else ():
        rows.setdefault(delivery.event_id, []).append(delivery)
    work, nobody = [], []
    for event in events:
        if event.status == OutboxEvent.Status.NEW:
            keys = subscribers(event.name)
            work += [OutboxDelivery(event=event, subscriber=key, next_attempt_at=now) for key in keys]
            if not keys:
                nobody.append(event.pk)
        else:
            work += rows.get(event.pk, [])
    if nobody:
        OutboxEvent.objects.filter(pk__in=nobody).update(status=OutboxEvent.Status.NO_SUBSCRIBERS)
    return work, sorted({d.event_id for d in work})


def _keep(work) -> list:
    """Write down what a dispatch's attempts came to: the failed delivery rows saved and,
    for a new event one of whose subscribers failed, every one of its deliveries as a row
    (the delivered ones too, so that only the failed ones are tried again); a new event
    whose subscribers all succeeded needs no row. Returns the ids of the rows that were
    there and are delivered now, for `_mark_and_settle`."""
    rows = [d for d in work if d.pk is not None]
    failed_new = {d.event_id for d in work if d.pk is None and d.status != OutboxDelivery.Status.DELIVERED}
    if failed_new:
        create_rows(OutboxDelivery, [d for d in work if d.pk is None and d.event_id in failed_new])
    for failed in (d for d in rows if d.status != OutboxDelivery.Status.DELIVERED):
        failed.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated_at"])
    return [d.pk for d in rows if d.status == OutboxDelivery.Status.DELIVERED]


def deliver(delivery_id: int, now=None) -> bool:
    """Attempt one due delivery; True when the handler ran without error.

    The row lock (skipped if another worker holds it) plus the status filter
    make two workers never run one delivery twice; the savepoint rolls back a
    failed handler's writes while its attempt and error are kept."""
    now = now or timezone.now()
    with relaxed_atomic(router.db_for_write(OutboxDelivery)):  # a lost commit is delivered again
        delivery = _due(now).filter(pk=delivery_id).first()
        if delivery is None:
            return False
        ok = _attempt(delivery, now)
        delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "delivered_at", "updated_at"])
        _settle([delivery.event_id], now)
    return ok


class _Isolate(Exception):
    """A handler failed in a batch run without savepoints: the batch is rolled back and run again,
    each handler in its own savepoint (`dispatch`); `failure` is (the subscriber, its error)."""

    def __init__(self, subscriber, error):
        super().__init__(subscriber, error)
        self.failure = (subscriber, error)


def _attempt(delivery, now, isolated=True, failed=None) -> bool:
    """Run a locked delivery's handler in a savepoint and record the outcome on
    the delivery (not saved): delivered, or the error and when to try again.
    Not `isolated`: without a savepoint, and any failure raises _Isolate. `failed`
    ({subscriber: error}) holds the failures of the dispatch's first try: recorded
    again, not run again."""
    delivery.attempts += 1
    handler = handler_for(delivery.event.name, delivery.subscriber)
    try:
        if handler is None:
            raise LookupError(f"no handler is subscribed as {delivery.subscriber!r} to {delivery.event.name!r}")
        if failed and delivery.subscriber in failed:
            raise failed[delivery.subscriber]
        with _handler_savepoint() if isolated else _all_or_nothing():
            if delivery.subscriber in _WANT_EVENT:
                handler(delivery.event.payload, event=delivery.event)
            else:
                handler(delivery.event.payload)
    except Exception as exc:
        if not isolated:
            raise _Isolate(delivery.subscriber, exc) from exc
        delivery.last_error = "".join(traceback.format_exception(exc))[-ERROR_MAX_CHARS:]
        again = retries.EVENTS.next_attempt(delivery.attempts, now)
        if again is None:
            delivery.status = OutboxDelivery.Status.DEAD
            log.error("event %s to %s is a dead letter after %s attempts: %s",
                      delivery.event_id, delivery.subscriber, delivery.attempts, exc)
        else:
            delivery.next_attempt_at = again
            log.warning("event %s to %s failed (attempt %s): %s",
                        delivery.event_id, delivery.subscriber, delivery.attempts, exc)
        return False
    delivery.status = OutboxDelivery.Status.DELIVERED
    delivery.delivered_at = now
    return True


@contextmanager
def _handler_savepoint():
    """`transaction.atomic()` for one handler inside the delivering transaction, less
    the RELEASE once it succeeds: a handler's failure rolls back to its savepoint (its
    own writes only, and its on-commit callbacks), a success keeps the savepoint open
    until the transaction ends. The next handler's savepoint opens inside it, and
    rolling back to that one leaves the earlier handler's writes alone, so one failing
    subscriber still never undoes another's work; an order's five subscribers cost five
    statements around them instead of ten."""
    connection = transaction.get_connection(router.db_for_write(OutboxDelivery))
    if not connection.in_atomic_block or connection.needs_rollback or not connection.features.uses_savepoints:
        with transaction.atomic():
            yield
        return
    sid = connection.savepoint()
    connection.savepoint_ids.append(sid)
    try:
        yield
    except BaseException:
        _back_to(connection, sid)
        raise
    else:
        if connection.needs_rollback:  # a swallowed failure inside: atomic() rolls back to its savepoint too
            _back_to(connection, sid)
    finally:
        connection.savepoint_ids.pop()


@contextmanager
def _all_or_nothing():
    """A handler run of `dispatch`'s first try, without a savepoint: a failure swallowed inside
    an atomic block (the transaction is left to be rolled back) is a failure too."""
    connection = transaction.get_connection(router.db_for_write(OutboxDelivery))
    yield
    if connection.needs_rollback:
        raise DatabaseError("a failure inside the handler left the transaction to be rolled back")


def _back_to(connection, sid) -> None:
    connection.needs_rollback = False
    try:
        connection.savepoint_rollback(sid)
    except DatabaseError:
        connection.needs_rollback = True  # the transaction is lost: the outer block rolls it back


def _settle(event_ids, now) -> None:
    """Sum each event's delivery rows up on the event: pending while one is, else dead
    if one is, else delivered (a new event all of whose subscribers succeeded has none:
    delivered). Called by `deliver` and the dispatches only, inside the transaction
    whose read locked the event rows (the dispatches' `_open_events`; `deliver`'s `_due`,
    whose FOR UPDATE covers the joined event), so two deliveries of one event never
    settle at once; this statement, run after that lock was granted, sees every
    delivery as committed. One UPDATE where a lock, a read and a write were
    three: it runs after every order."""
    connection = connections[router.db_for_write(OutboxEvent)]
    with connection.cursor() as cursor:
        cursor.execute(_settle_sql(connection.alias, len(event_ids)), _settle_params(connection, event_ids, now))


def _settle_params(connection, event_ids, now) -> list:
    pending, dead = OutboxDelivery.Status.PENDING.value, OutboxDelivery.Status.DEAD.value
    return [pending, OutboxEvent.Status.PENDING.value, dead, OutboxEvent.Status.DEAD.value,
            OutboxEvent.Status.DELIVERED.value, pending, connection.ops.adapt_datetimefield_value(now), *event_ids]


@functools.lru_cache(maxsize=128)
def _settle_sql(alias, events: int, marked: bool = False) -> str:
    """`_settle`'s statement for `events` events, written once: Django built the same CASE
    over two EXISTS for 2.5 ms of CPU per order, five times what running it costs. `marked`:
    the deliveries in the `marked` WITH of the same statement count as delivered (the event's
    UPDATE reads the deliveries as they were before the statement)."""
    q = connections[alias].ops.quote_name
    event, delivery = q(OutboxEvent._meta.db_table), q(OutboxDelivery._meta.db_table)
    others = f" AND d.{q('id')} NOT IN (SELECT {q('id')} FROM marked)" if marked else ""
    has = (f"EXISTS (SELECT 1 FROM {delivery} d WHERE d.{q('event_id')} = {event}.{q('id')} "
           f"AND d.{q('status')} = %s{others})")
    return (f"UPDATE {event} SET {q('status')} = CASE WHEN {has} THEN %s WHEN {has} THEN %s ELSE %s END, "
            f"{q('dispatched_at')} = CASE WHEN {has} THEN NULL ELSE COALESCE({q('dispatched_at')}, %s) END "
            f"WHERE {q('id')} IN ({', '.join(['%s'] * events)})")


def dispatch(event_id: int, now=None) -> int:
    """Deliver an event to each subscriber it is due to (every one, when it is new; those
    whose delivery row is due, when it waits for a retry); returns how many succeeded.

    This runs after every commit that emitted an event (in the request, where
    tasks run eagerly), so its deliveries go in one transaction: one statement
    locks the event, the handlers run, the delivered rows (a retry's) are marked
    and the event is settled in one more. The handlers first run without savepoints:
    when all succeed (nearly always) that is the whole delivery, and an order's five
    subscribers cost 4 statements around their handlers on PostgreSQL (begin; the
    locking read, which also makes the relaxed commit's setting; the settle;
    commit) instead of 46. When one fails, that try is rolled back whole
    and the batch runs again with each handler in its own savepoint, as in
    `deliver` (`_handler_savepoint`), but for the failing one, which is not run
    again: its failure is recorded on its own delivery row (a new event's rows are
    written then, the delivered ones too) and the others are delivered. So
    `deliver`'s guarantees hold: a handler's writes commit exactly when its
    delivery is marked done, and a failing one undoes only its own. A
    handler that succeeded before the failing one runs twice then: its writes of
    the first try are gone with it, but an effect outside the database must wait
    for the commit (`transaction.on_commit`, discarded with a rolled-back try) or
    be idempotent, as every handler's must anyway. So a commit
    that a server crash loses only leaves the event new or its rows pending, to be
    delivered again: it does not wait for the disk (core/durability.py)."""
    now = now or timezone.now()
    try:
        return _dispatch(event_id, now, isolated=False)
    except _Isolate as first_try:  # rolled back whole: again, each handler in its savepoint
        subscriber, error = first_try.failure
        return _dispatch(event_id, now, isolated=True, failed={subscriber: error})


def _dispatch(event_id, now, *, isolated, failed=None) -> int:
    alias = router.db_for_write(OutboxDelivery)
    with relaxed_atomic(alias, carried=True) as relax:
        # the setting made by the read of the events: without one there is nothing to write
        work, settled = _work_of([event_id], now, relax)
        if not work:
            return 0
        delivered = sum(1 for d in work if _attempt(d, now, isolated, failed))
        _mark_and_settle(alias, _keep(work), settled, now)
    return delivered


def _mark_and_settle(alias, delivered_ids, event_ids, now) -> None:
    """The delivered ones marked and the events settled: one statement on PostgreSQL."""
    if delivered_ids and connections[alias].vendor == "postgresql":
        _mark_delivered_and_settle(delivered_ids, event_ids, now)
        return
    if delivered_ids:
        _mark_delivered(delivered_ids, now)
    _settle(event_ids, now)


def dispatch_many(event_ids, now=None, request_ids=None) -> int:
    """Deliver several events as `dispatch` delivers one; returns how many deliveries succeeded.

    The events a process's requests committed, held and handed over together
    (`after_response`): one transaction for all of them, where `dispatch` opens
    one per event. One statement locks the events (one another worker holds is
    skipped, as by `dispatch`), the handlers run without savepoints, event by
    event, each under the log context of the request that committed it
    (`request_ids`, in the order of `event_ids`), and one statement settles the
    events (a retry's delivered rows marked in it too; two statements on SQLite).
    When a handler fails, that try is rolled back whole and each event is
    dispatched on its own, so a failing subscriber is isolated exactly as there (and the handlers
    that had run before it run again, their first writes gone with the try)."""
    event_ids = list(event_ids)
    of_request = dict(zip(event_ids, request_ids or [], strict=False))
    now = now or timezone.now()
    if len(event_ids) == 1:
        with _for_request(of_request.get(event_ids[0])):
            return dispatch(event_ids[0], now)
    try:
        return _dispatch_together(event_ids, now, of_request)
    except _Isolate:
        delivered = 0
        for event_id in event_ids:
            with _for_request(of_request.get(event_id)):
                delivered += dispatch(event_id, now)
        return delivered


def _dispatch_together(event_ids, now, of_request) -> int:
    alias = router.db_for_write(OutboxDelivery)
    with relaxed_atomic(alias, carried=True) as relax:
        batch, settled = _work_of(event_ids, now, relax)
        if not batch:
            return 0
        singles = _attempt_each_many(batch, now)
        for event_id, deliveries in groupby(singles, key=lambda d: d.event_id):
            with _for_request(of_request.get(event_id)):
                for delivery in deliveries:
                    _attempt(delivery, now, isolated=False)  # a failure raises _Isolate: all rolled back
        _mark_and_settle(alias, _keep(batch), settled, now)  # every one delivered: a failure raised
    return len(batch)


def _attempt_each_many(batch, now) -> list:
    """Run each subscriber that has a `many` handler once for all its deliveries of the
    batch (two or more), without a savepoint; returns the deliveries left to run one by
    one, in their order. A failure raises _Isolate, as `_attempt` does."""
    by_key: dict[str, list] = {}
    for delivery in batch:
        by_key.setdefault(delivery.subscriber, []).append(delivery)
    together = {key for key, deliveries in by_key.items() if key in _MANY and len(deliveries) > 1
                and all(handler_for(d.event.name, key) is not None for d in deliveries)}
    for key in together:
        deliveries = by_key[key]
        for delivery in deliveries:
            delivery.attempts += 1
        try:
            with _all_or_nothing():
                _MANY[key]([(d.event.payload, d.event) for d in deliveries])
        except Exception as exc:
            raise _Isolate(key, exc) from exc
        for delivery in deliveries:
            delivery.status = OutboxDelivery.Status.DELIVERED
            delivery.delivered_at = now
    return [d for d in batch if d.subscriber not in together]


def _mark_delivered(ids, now) -> None:
    """The delivered ones of a batch, in one UPDATE written once per batch size (the
    ORM built it after every order for more CPU than running it)."""
    connection = connections[router.db_for_write(OutboxDelivery)]
    with connection.cursor() as cursor:
        cursor.execute(_mark_delivered_sql(connection.alias, len(ids)), _mark_params(connection, ids, now))


def _mark_params(connection, ids, now) -> list:
    adapt = connection.ops.adapt_datetimefield_value
    return [OutboxDelivery.Status.DELIVERED.value, adapt(now), adapt(timezone.now()), *ids]


@functools.lru_cache(maxsize=256)
def _mark_delivered_sql(alias, count) -> str:
    q = connections[alias].ops.quote_name
    return (f"UPDATE {q(OutboxDelivery._meta.db_table)} SET {q('attempts')} = {q('attempts')} + 1, "
            f"{q('status')} = %s, {q('delivered_at')} = %s, {q('updated_at')} = %s "
            f"WHERE {q('id')} IN ({', '.join(['%s'] * count)})")


def _mark_delivered_and_settle(ids, event_ids, now) -> None:
    """`_mark_delivered` then `_settle` in one statement (PostgreSQL: the UPDATE of the
    deliveries is a data-modifying WITH, run exactly once), after every order. The
    events' UPDATE reads the deliveries as they were before the statement, so the
    ones marked by it are left out of "still pending" (they are delivered now); the
    failed ones were saved by earlier statements of the transaction, so it sees them."""
    connection = connections[router.db_for_write(OutboxEvent)]
    with connection.cursor() as cursor:
        cursor.execute(_mark_delivered_and_settle_sql(connection.alias, len(ids), len(event_ids)),
                       _mark_params(connection, ids, now) + _settle_params(connection, event_ids, now))


@functools.lru_cache(maxsize=256)
def _mark_delivered_and_settle_sql(alias, count, events) -> str:
    q = connections[alias].ops.quote_name
    return (f"WITH marked AS ({_mark_delivered_sql(alias, count)} RETURNING {q('id')}) "
            f"{_settle_sql(alias, events, marked=True)}")


def dispatch_pending(limit: int = 500, now=None) -> int:
    """The sweep: deliver up to `limit` new events (oldest first; ones a crashed process or
    a down broker left), then up to `limit` due deliveries (retries, oldest due first);
    returns how many deliveries succeeded. Each new event is delivered in its own
    transaction with each handler in its savepoint, as a retry is: the sweep is where
    failures are, and a handler that succeeded is not run again for another's failure.
    An event left pending without a delivery row (written before new events went without
    them) is new again."""
    now = now or timezone.now()
    OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, deliveries__isnull=True).update(
        status=OutboxEvent.Status.NEW)
    new = list(OutboxEvent.objects.filter(status=OutboxEvent.Status.NEW).order_by("id")
               .values_list("id", flat=True)[:limit])
    delivered = sum(_dispatch(pk, now, isolated=True) for pk in new)
    ids = list(
        OutboxDelivery.objects.filter(status=OutboxDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return delivered + sum(1 for pk in ids if deliver(pk, now=now))


def retry(delivery_ids, *, actor, now=None) -> int:
    """Put dead or waiting deliveries back in line, due now, with a fresh
    attempt budget (the operator's "retry" action); returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            OutboxDelivery.objects.select_for_update()
            .filter(pk__in=list(delivery_ids))
            .exclude(status=OutboxDelivery.Status.DELIVERED)
        )
        for row in rows:
            row.status, row.attempts, row.next_attempt_at = OutboxDelivery.Status.PENDING, 0, now
            row.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
        event_ids = sorted({row.event_id for row in rows})
        OutboxEvent.objects.filter(pk__in=event_ids).update(status=OutboxEvent.Status.PENDING, dispatched_at=None)
    log.info("%s put %s event deliveries back for retry", getattr(actor, "username", actor), len(rows))

    def _schedule():
        from .tasks import dispatch_event

        for event_id in event_ids:
            try:
                dispatch_event.delay(event_id)
            except Exception:
                log.warning("could not queue event %s; the sweep will deliver it", event_id)

    transaction.on_commit(_schedule)
    return len(rows)
