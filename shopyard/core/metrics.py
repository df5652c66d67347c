"""Prometheus counters of our own (django-prometheus counts requests, queries
and cache hits). The business counters are fed by event subscribers
(the operations app), never from inside a service, so a service stays free
of monitoring code and a counter moves only once its event is delivered."""

import functools

from prometheus_client import Counter

TASKS = Counter("shopyard_celery_tasks_total", "Celery task runs by task and outcome", ["task", "outcome"])
ORDERS_PLACED = Counter("shopyard_orders_placed_total", "Orders placed")
PAYMENTS = Counter("shopyard_payments_total", "Payments that reached a final outcome", ["outcome"])
STOCK_OUTS = Counter("shopyard_stock_outs_total", "Times an order took the last unit of a SKU")

for _outcome in ("succeeded", "failed"):
    PAYMENTS.labels(outcome=_outcome)  # both series exist from the start, at 0


def task_outcome(task: str, outcome: str) -> None:
    TASKS.labels(task=task, outcome=outcome).inc()


def count_early_response(*, method: str, transport: str, view: str, status: int, request_bytes: int,
                         response_bytes: int, seconds: float, charset: str = "utf-8") -> None:
    """Count an answer given in front of Django (the flash-sale gate's sold-out
    409) in the series django-prometheus's two middlewares count every other
    request in, as they would have counted it, so dashboards and alerts see
    every request. Called only where the middlewares did not run."""
    m, counters, by_view_latency = _early_series(method if method in _METHODS else "<invalid method>", transport,
                                                 view, str(status), charset)
    for counter in counters:
        counter.inc()
    m.requests_body_bytes.observe(request_bytes)
    m.responses_body_bytes.observe(response_bytes)
    by_view_latency.observe(seconds)
    m.requests_latency_before.observe(seconds)


@functools.lru_cache(maxsize=64)
def _early_series(method, transport, view, status, charset):
    """The labelled series an early answer moves (labels() looked up once per combination)."""
    from django_prometheus.middleware import Metrics

    m = Metrics.get_instance()
    counters = (
        m.requests_total, m.requests_by_method.labels(method=method), m.requests_by_transport.labels(transport=transport),
        m.requests_by_view_transport_method.labels(view=view, transport=transport, method=method),
        m.responses_by_status.labels(status=status),
        m.responses_by_status_view_method.labels(status=status, view=view, method=method),
        m.responses_by_charset.labels(charset=charset), m.responses_total,
    )
    return m, counters, m.requests_latency_by_view_method.labels(view=view, method=method)


_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"}
