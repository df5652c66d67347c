"""Prometheus counters of our own (django-prometheus counts requests, queries
and cache hits). The business counters are fed by event subscribers
(the operations app), never from inside a service, so a service stays free
of monitoring code and a counter moves only once its event is delivered."""

from prometheus_client import Counter

TASKS = Counter("shopyard_celery_tasks_total", "Celery task runs by task and outcome", ["task", "outcome"])
ORDERS_PLACED = Counter("shopyard_orders_placed_total", "Orders placed")
PAYMENTS = Counter("shopyard_payments_total", "Payments that reached a final outcome", ["outcome"])
STOCK_OUTS = Counter("shopyard_stock_outs_total", "Times an order took the last unit of a SKU")

for _outcome in ("succeeded", "failed"):
    PAYMENTS.labels(outcome=_outcome)  # both series exist from the start, at 0


def task_outcome(task: str, outcome: str) -> None:
    TASKS.labels(task=task, outcome=outcome).inc()
