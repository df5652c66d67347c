"""Every write of the analytics app: behaviour events.

Pages and API handlers call `record(request, kind, ...)`, which only appends
to a list on the request (no query, nothing that can fail the page); once the
response has been sent the middleware hands that list to `write_events`, which
keeps it with the process's other requests' events and writes them together
(core/held.py: one INSERT per `BEHAVIOUR_BATCH_EVENTS` events or
`BEHAVIOUR_BATCH_SECONDS`; 0 seconds writes each request's at once). Purchases
and favourites arrive as events (`order.placed`, `favourite.added`) and are
written by their subscribers. A recording failure
is logged and swallowed: behaviour is a signal, never a reason to break a page.

Why holding events is acceptable: a product page's view event was its request's
only write, and one INSERT per view cost 0.3 ms of a 4 ms view on SQLite (a write
transaction of its own) and 0.6 ms of a 5.5 ms view on PostgreSQL, while a sync
gunicorn worker serves nobody meanwhile. Behaviour is a signal for recommendations
and analytics, never a record (core/durability.py says the same of its commit), so:
- an event reaches the database up to `BEHAVIOUR_BATCH_SECONDS` late:
  recommendations and dashboards, computed periodically anyway, see it then;
- a process killed without exiting loses what it still held: at most
  `BEHAVIOUR_BATCH_EVENTS` events or that many seconds of them;
- a login claims the visitor's anonymous events (`claim_visitor_events`) after this
  process has written what it held; events still held by another process are
  written unclaimed, under the visitor's cookie id, and the next login from that
  browser claims them.
"""

import atexit
import functools
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connections, router
from django.db.models.sql import InsertQuery
from django.utils import timezone

from shopyard.core.durability import relaxed_atomic, relaxed_statement
from shopyard.core.held import HeldBatch, forget_in_children

from .models import QUERY_MAX, VISITOR_MAX, BehaviourEvent

log = logging.getLogger("shopyard.analytics")

BUFFER_ATTR = "_behaviour_events"
MAX_PER_REQUEST = 50  # one request never writes more than this (a huge cart, a replayed batch)
RETENTION = timedelta(days=400)
KINDS = {k.value for k in BehaviourEvent.Kind}


def record(request, kind: str, *, product_id=None, query: str = "") -> None:
    """Remember one behaviour event of this request; the middleware writes the
    request's events together after the response. Never raises."""
    try:
        if kind not in KINDS:
            raise ValueError(f"unknown behaviour kind {kind!r}")
        buffer = request.__dict__.setdefault(BUFFER_ATTR, [])
        if len(buffer) < MAX_PER_REQUEST:
            pid = product_id if isinstance(product_id, int) and not isinstance(product_id, bool) else None
            buffer.append((kind, pid, str(query or "")[:QUERY_MAX], timezone.now()))
    except Exception:
        log.exception("could not buffer a behaviour event")


def pending(request) -> list:
    """The events `record` buffered on this request, taken off it."""
    return request.__dict__.pop(BUFFER_ATTR, None) or []


def write_events(*, events: list, user_id=None, visitor: str = "") -> int:
    """A request's events (kind, product id, query, at): kept with the process's others and
    written together (core/held.py), or at once when BEHAVIOUR_BATCH_SECONDS is 0. Returns how many
    were taken."""
    if not events or (user_id is None and not visitor):
        return 0
    rows = [BehaviourEvent(kind=kind, user_id=user_id, visitor=visitor[:VISITOR_MAX], product_id=pid, query=query,
                           created_at=at) for kind, pid, query, at in events[:MAX_PER_REQUEST]]
    if settings.BEHAVIOUR_BATCH_SECONDS > 0:
        _batch.add(rows, limit=settings.BEHAVIOUR_BATCH_EVENTS, seconds=settings.BEHAVIOUR_BATCH_SECONDS)
    else:
        _insert(rows)
    return len(rows)


def write_held_events() -> int:
    """Write the events this process keeps now (a login claims them; tests); returns how many."""
    return _batch.flush()


def held_events() -> int:
    """How many events this process keeps unwritten."""
    return _batch.held()


_INSERT_FIELDS = [f for f in BehaviourEvent._meta.concrete_fields if not f.primary_key]
_ONE_ROW = {}  # alias -> the INSERT bulk_create runs for one row ("" where it cannot be used)


def _insert(rows) -> None:
    """Write `rows` with the INSERT bulk_create runs for one row, its SQL built once per
    database: bulk_create's own work (a transaction around the statement, building and
    compiling the INSERT, 50 µs a row) cost more CPU than the write. One row (a request's
    event when nothing is batched) is one statement, atomic by itself, so no transaction is
    opened for it; several (a batch) are that statement executed for each row (executemany:
    SQLite's C loop, psycopg's pipeline) in one transaction. Either way, on PostgreSQL the
    commit does not wait for the disk (core/durability.py: a behaviour event is a signal;
    the wait was most of what a view's event cost)."""
    alias = router.db_for_write(BehaviourEvent)
    connection = connections[alias]
    params = [[f.get_db_prep_save(f.pre_save(row, True), connection) for f in _INSERT_FIELDS] for row in rows]
    sql = _ONE_ROW.get(alias)
    if sql is None:
        query = InsertQuery(BehaviourEvent)
        query.insert_values(_INSERT_FIELDS, rows[:1])
        [(sql, built)] = query.get_compiler(using=alias).as_sql()
        # "" for a backend that writes the values in another order or form
        sql = _ONE_ROW[alias] = sql if list(built) == params[0] else ""
    if not sql:
        with relaxed_atomic(alias):
            BehaviourEvent.objects.bulk_create(rows)
        return
    with connection.cursor() as cursor:
        if len(params) == 1:
            cursor.execute(relaxed_statement(connection, sql), params[0])
            return
        if connection.in_atomic_block:  # the caller's transaction commits them
            cursor.executemany(sql, params)
            return
        try:
            with relaxed_atomic(alias):
                cursor.executemany(sql, params)
        except IntegrityError:
            # a shopper who deleted their account since (the user's foreign key): the batch's
            # other rows still go in, each on its own
            for one in params:
                try:
                    cursor.execute(relaxed_statement(connection, sql), one)
                except IntegrityError:
                    log.warning("dropped a behaviour event of a user who is gone")


# this process's behaviour events waiting to be written together (core/held.py); a normal
# exit writes them, a forked child leaves them to its parent
_batch = HeldBatch(_insert, what="behaviour events")
atexit.register(_batch.flush)
forget_in_children(_batch)


def claim_visitor_events(*, visitor: str, user_id) -> int:
    """A shopper who logs in takes over what their browser did anonymously, so
    their home feed starts from it. Only rows without a user move: a shared
    computer's earlier shopper keeps theirs. What this process still keeps is
    written first, so it is claimed too (core/held.py: another process's is claimed
    at the next login)."""
    if not visitor or user_id is None:
        return 0
    write_held_events()
    return BehaviourEvent.objects.filter(visitor=visitor[:VISITOR_MAX], user__isnull=True).update(user_id=user_id)


def on_order_placed(payload) -> None:
    """`order.placed` subscriber: one purchase event per product of the order.
    Delivery runs once per subscriber (core.events), so no duplicate rows. It runs
    after every order, so the events are one INSERT … SELECT from the order's lines
    with its SQL written once (were a read of the lines, then an INSERT of them)."""
    on_orders_placed([(payload, None)])


def on_orders_placed(items) -> None:
    """`on_order_placed` for several (payload, event) pairs (a batch of held events,
    core.events.dispatch_many): the statement executed for each order in one call."""
    connection = connections[router.db_for_write(BehaviourEvent)]
    adapt = connection.ops.adapt_datetimefield_value
    params = [[BehaviourEvent.Kind.PURCHASE.value, payload["user_id"], "", "",
               adapt(datetime.fromisoformat(payload["placed_at"]) if payload.get("placed_at") else timezone.now()),
               payload["order_id"]]
              for payload, _event in items if payload.get("user_id")]
    if not params:
        return
    with connection.cursor() as cursor:
        if len(params) == 1:
            cursor.execute(_purchases_sql(connection.alias), params[0])
        else:
            cursor.executemany(_purchases_sql(connection.alias), params)


@functools.cache
def _purchases_sql(alias) -> str:
    """A purchase event per distinct product of an order's lines, in product id order."""
    from shopyard.orders.models import OrderLine

    q, meta = connections[alias].ops.quote_name, BehaviourEvent._meta
    columns = ", ".join(q(meta.get_field(name).column) for name in ("kind", "user", "visitor", "query", "created_at",
                                                                       "product"))
    product, order = (q(OrderLine._meta.get_field(name).column) for name in ("product_id_snapshot", "order"))
    return (f"INSERT INTO {q(meta.db_table)} ({columns}) SELECT DISTINCT %s, %s, %s, %s, %s, {product} "
            f"FROM {q(OrderLine._meta.db_table)} WHERE {order} = %s ORDER BY {product}")


def on_favourite_added(payload) -> None:
    """`favourite.added` subscriber (catalog.services.add_favourite)."""
    BehaviourEvent.objects.create(kind=BehaviourEvent.Kind.FAVOURITE, user_id=payload["user_id"],
                                  product_id=payload["product_id"], created_at=timezone.now())


def purge_old_events(now=None) -> int:
    """Periodic: drop behaviour older than RETENTION (recommendations learn from
    a shorter window anyway). Returns how many went."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _by_model = BehaviourEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
