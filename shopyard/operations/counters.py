"""Business counters, moved by the domain events (delivered once each through
the outbox), never from inside the services that emit them."""

from django.db.models import Sum

from shopyard.core import metrics


def order_placed(payload):
    emptied = stock_outs_of(payload["order_id"])  # first: a failed read retries without counting twice
    metrics.ORDERS_PLACED.inc()
    metrics.STOCK_OUTS.inc(emptied)


def payment_succeeded(payload):
    metrics.PAYMENTS.labels(outcome="succeeded").inc()


def payment_failed(payload):
    metrics.PAYMENTS.labels(outcome="failed").inc()


def stock_outs_of(order_id: int) -> int:
    """How many SKUs this order took the last unit of. Read from the stock
    ledger when the event is delivered: the stock right after the order's own
    movement is what is on hand now minus every movement since, so an event
    delivered late still counts only the order that emptied the shelf."""
    from shopyard.inventory.models import StockLevel, StockMovement

    taken = StockMovement.objects.filter(order_id=order_id, reason=StockMovement.Reason.ORDER)
    emptied = 0
    for movement_id, sku_id in taken.values_list("pk", "sku_id"):
        on_hand = StockLevel.objects.filter(sku_id=sku_id).values_list("quantity", flat=True).first()
        if on_hand is None:
            continue
        since = StockMovement.objects.filter(sku_id=sku_id, pk__gt=movement_id).aggregate(n=Sum("delta"))["n"] or 0
        if on_hand - since == 0:
            emptied += 1
    return emptied
