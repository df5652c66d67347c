"""Without a broker (the embedded setup) the events a request commits are
delivered once its response has been sent, not before it: the shopper gets
the 201 without waiting for every subscriber of `order.placed`. The outbox
guarantees stay: a subscriber failing there is retried with backoff, and
events a process never delivered (it died after the commit) are delivered by
the sweep, exactly once per subscriber."""

import io
import json
import sys
from datetime import timedelta

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.utils import timezone

from shopyard.core import events
from shopyard.core.models import OutboxDelivery, OutboxEvent
from shopyard.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)  # the order's transaction really commits


class Boom(Exception):
    pass


def _order_request(token, address, sku, key, app=None):
    """POST /api/v1/orders as a WSGI server makes it (to Django's handler, or to `app`):
    returns the status, the body (sent to the client) and the response, whose close()
    the server calls after."""
    raw = json.dumps({"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/orders", "QUERY_STRING": "", "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr, "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)),
        "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": key,
    }
    statuses = []
    response = (app or WSGIHandler())(environ, lambda status, headers, exc_info=None: statuses.append(status))
    body = b"".join(response)
    return statuses[0], json.loads(body), response


def _order_placed_deliveries(subscriber):
    return list(OutboxDelivery.objects.filter(event__name="order.placed", subscriber=subscriber)
                .values_list("status", "attempts"))


def _order_placed_statuses():
    """The order.placed events' statuses, and whether any delivery row was written for them."""
    return (set(OutboxEvent.objects.filter(name="order.placed").values_list("status", flat=True)),
            OutboxDelivery.objects.filter(event__name="order.placed").exists())


@pytest.mark.parametrize("deployed", [False, True], ids=["whole stack", "deployed application"])
def test_order_placed_is_delivered_after_the_response_is_sent(subscribe_for_test, shopper_token, address, sku,
                                                               deployed):
    heard = []
    subscribe_for_test("order.placed", lambda payload: heard.append(payload["order_id"]), key="test.listens")
    # when an order is placed (an API client's goes through the deployed front's slim handler)
    # and the server has the whole 201 in hand
    app = None
    if deployed:
        from shopyard.wsgi import application as app
    status, body, response = _order_request(shopper_token, address, sku, "after-1", app)
    [order] = body["orders"]
    # then the order is committed but no subscriber has run yet
    assert status.startswith("201")
    assert Order.objects.filter(pk=order["id"]).exists()
    assert (heard, _order_placed_statuses()) == ([], ({"new"}, False))
    # and once the server closes the response, each subscriber has it exactly once, and it is delivered
    # (to every subscriber at the first attempt: no delivery row is written)
    response.close()
    assert (heard, _order_placed_statuses()) == ([order["id"]], ({"delivered"}, False))


def test_a_subscriber_failing_after_the_response_is_retried(subscribe_for_test, shopper_token, address, sku,
                                                            settings):
    settings.EVENT_RETRY_BASE_SECONDS = 30
    calls = []

    def flaky(payload):
        calls.append(payload["order_id"])
        if len(calls) == 1:
            raise Boom("the first attempt fails")

    subscribe_for_test("order.placed", flaky, key="test.flaky")
    # when the subscriber fails on the delivery that follows the response
    status, body, response = _order_request(shopper_token, address, sku, "after-2")
    response.close()
    # then the shopper still got the order, the failure is kept with its next attempt, the others are delivered
    assert status.startswith("201")
    failed = OutboxDelivery.objects.get(subscriber="test.flaky")
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert "the first attempt fails" in failed.last_error
    assert failed.next_attempt_at > timezone.now()
    assert set(OutboxDelivery.objects.exclude(subscriber="test.flaky").values_list("status", flat=True)) == {
        "delivered"}
    # and the sweep delivers it once it is due, and only once
    later = failed.next_attempt_at + timedelta(seconds=1)
    assert events.dispatch_pending(now=later) == 1
    assert events.dispatch_pending(now=later) == 0
    assert _order_placed_deliveries("test.flaky") == [("delivered", 2)]
    assert calls == [body["orders"][0]["id"]] * 2


def test_events_of_a_process_that_died_before_delivering_are_delivered_by_the_sweep(
        subscribe_for_test, shopper_token, address, sku):
    heard = []
    subscribe_for_test("order.placed", lambda payload: heard.append(payload["order_id"]), key="test.listens")
    # given an order committed by a process that died before closing the response
    status, body, _never_closed = _order_request(shopper_token, address, sku, "after-3")
    assert status.startswith("201")
    request_started.send(sender=WSGIHandler)  # the next request in that thread starts afresh
    assert heard == []
    # when the sweep runs
    events.dispatch_pending()
    # then every subscriber got order.placed exactly once
    assert heard == [body["orders"][0]["id"]]
    assert _order_placed_statuses() == ({"delivered"}, False)
    events.dispatch_pending()
    assert heard == [body["orders"][0]["id"]]


def test_with_a_broker_the_request_queues_the_delivery_at_commit(shopper_token, address, sku, settings,
                                                                 monkeypatch):
    from shopyard.core import tasks

    queued = []
    monkeypatch.setattr(tasks.dispatch_event.app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks.dispatch_event, "delay", lambda event_id: queued.append(event_id))
    # when an order is placed with a broker configured
    status, body, response = _order_request(shopper_token, address, sku, "after-4")
    # then its order.placed was handed to the broker before the response went out
    assert status.startswith("201")
    assert queued == [OutboxEvent.objects.get(name="order.placed").pk]
    response.close()
    assert len(queued) == 1


def _count_health_checks(monkeypatch):
    """Each health check of the default connection, counted: each time a statement is about to
    run on a kept connection not checked since its request began (Django's
    `close_if_health_check_failed` with the check still to do)."""
    from django.db import connections

    checks = []
    check = type(connections["default"]).close_if_health_check_failed

    def counted(conn):
        if conn.connection is not None and conn.health_check_enabled and not conn.health_check_done:
            checks.append(1)
        return check(conn)

    monkeypatch.setattr(type(connections["default"]), "close_if_health_check_failed", counted)
    return checks


def test_the_deliveries_after_the_response_use_the_request_s_checked_connection(shopper_token, address, sku,
                                                                                monkeypatch):
    from django.db import connection

    connection.ensure_connection()  # a worker's connection, kept between requests
    checks = _count_health_checks(monkeypatch)
    # when an order is placed and the server closes its response
    status, body, response = _order_request(shopper_token, address, sku, "after-5")
    response.close()
    # then the request checked its connection once, and the deliveries after it ran on it unchecked again
    assert status.startswith("201")
    assert len(checks) == 1
    assert _order_placed_statuses() == ({"delivered"}, False)
    # and the next request checks it afresh
    before = len(checks)
    status, _body, response = _order_request(shopper_token, address, sku, "after-6")
    response.close()
    assert status.startswith("201") and len(checks) == before + 1


@pytest.mark.parametrize("usable", [True, False])
def test_a_connection_that_failed_in_the_request_is_checked_before_the_deliveries(usable, monkeypatch):
    from django.db import connections

    connection = connections["default"]
    connection.ensure_connection()
    connection.health_check_done = True  # the request checked it
    connection.errors_occurred = True  # and then a statement failed
    checks = []
    monkeypatch.setattr(type(connection), "is_usable", lambda conn: checks.append(1) or usable)
    # when the request's events are about to be delivered
    events.keep_health_checks()
    # then the connection was checked again: kept (and counted as checked) when it answers, else closed
    assert len(checks) == 1
    assert (connection.connection is not None, connection.health_check_done) == (usable, usable)
