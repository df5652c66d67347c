"""Business counters, moved by the domain events (delivered once each through
the outbox), never from inside the services that emit them, and only when the
delivery commits (`transaction.on_commit`): a delivery tried again counts once."""

import functools

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from shopyard.core import metrics
from shopyard.core.prepared import PreparedReads


def order_placed(payload):
    orders_placed([(payload, None)])


def orders_placed(items):
    """`order_placed` for several (payload, event) pairs (a batch of held events,
    core.events.dispatch_many): the stock-outs of all the orders in one read."""
    emptied = stock_outs_of(*[payload["order_id"] for payload, _event in items])
    placed = len(items)
    # counted when the delivery commits: a failed read, or another subscriber's failure that
    # sends the event's deliveries round again (core.events.dispatch), counts nothing twice
    transaction.on_commit(lambda: (metrics.ORDERS_PLACED.inc(placed), metrics.STOCK_OUTS.inc(emptied)))


def payment_succeeded(payload):
    transaction.on_commit(metrics.PAYMENTS.labels(outcome="succeeded").inc)  # once its delivery commits


def payment_failed(payload):
    transaction.on_commit(metrics.PAYMENTS.labels(outcome="failed").inc)


def stock_outs_of(*order_ids: int) -> int:
    """How many SKUs these orders took the last unit of. Read from the stock
    ledger when the event is delivered: the stock right after the order's own
    movement is what is on hand now minus every movement since, so an event
    delivered late still counts only the order that emptied the shelf."""
    rows = _taken_reads().rows(order_ids)
    return sum(1 for on_hand, since in rows if on_hand is not None and on_hand - since == 0)


def _taken(**orders):
    """(on hand now, moved since) for each stock movement of the orders that `orders` filters."""
    from shopyard.inventory.models import StockLevel, StockMovement

    on_hand = StockLevel.objects.filter(sku_id=OuterRef("sku_id")).values("quantity")[:1]
    since = (StockMovement.objects.filter(sku_id=OuterRef("sku_id"), pk__gt=OuterRef("pk")).order_by()
             .values("sku_id").annotate(n=Sum("delta")).values("n"))
    return (StockMovement.objects.filter(**orders, reason=StockMovement.Reason.ORDER)
            .annotate(on_hand=Subquery(on_hand), since=Coalesce(Subquery(since), 0))
            .values_list("on_hand", "since"))


@functools.cache
def _taken_reads():
    """One statement, compiled once per process and count of orders (core.prepared): it
    runs for every batch of orders placed, and building its two subqueries cost more
    than running them."""
    from shopyard.inventory.models import StockMovement

    return PreparedReads(StockMovement, lambda order_ids: _taken(order_id__in=order_ids))
