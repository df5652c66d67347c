"""Outgoing webhooks against a real HTTP endpoint on 127.0.0.1: signed,
retried with backoff while the endpoint is down, delivered in order per
endpoint with nothing lost, logged with response codes, and replayable."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.utils import timezone

from shopyard.core import events
from shopyard.notifications import webhooks
from shopyard.notifications.models import WebhookAttempt, WebhookDelivery
from tests import factories as f

from .helpers import pay, place

pytestmark = pytest.mark.django_db


class Receiver:
    """An integrator's endpoint: answers with the queued status codes (then 200)
    and records what it received."""

    def __init__(self):
        self.codes, self.received = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                code = receiver.codes.pop(0) if receiver.codes else 200
                receiver.received.append({"code": code, "headers": dict(self.headers), "body": body})
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def delivered(self):
        return [json.loads(r["body"]) for r in self.received if r["code"] == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    r = Receiver()
    yield r
    r.close()


def _fan_out():
    events.dispatch_pending()


def _later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def test_deliveries_are_signed_with_the_endpoint_secret(receiver, seller, shop, shopper, address, sku):
    endpoint, secret = webhooks.register_endpoint(actor=seller, shop=shop, url=receiver.url,
                                                  event_types=["order.placed"])
    order = place(shopper, address, sku)
    _fan_out()
    webhooks.send_pending()
    [hit] = receiver.received
    headers, body = hit["headers"], hit["body"]
    # the receiver verifies: HMAC-SHA256 over "<timestamp>.<body>" with the secret it was shown once
    expected = hmac.new(secret.encode(), f"{headers['X-Shopyard-Timestamp']}.{body}".encode(), hashlib.sha256)
    assert headers["X-Shopyard-Signature"] == "sha256=" + expected.hexdigest()
    assert headers["X-Shopyard-Event"] == "order.placed"
    payload = json.loads(body)
    assert headers["X-Shopyard-Event-Id"] == str(payload["id"])
    assert payload["type"] == "order.placed"
    assert payload["data"]["order_number"] == order.number and payload["data"]["total"] == f"{order.total:.2f}"
    assert abs(int(headers["X-Shopyard-Timestamp"]) - timezone.now().timestamp()) < 60
    # and a body signed with another secret does not verify
    forged = hmac.new(b"whsec_other", f"{headers['X-Shopyard-Timestamp']}.{body}".encode(), hashlib.sha256)
    assert headers["X-Shopyard-Signature"] != "sha256=" + forged.hexdigest()


def test_an_endpoint_that_fails_then_recovers_gets_everything_in_order(receiver, seller, shop, shopper, address,
                                                                     sku):
    # given an endpoint that answers 503 twice, then is healthy
    endpoint, _secret = webhooks.register_endpoint(actor=seller, shop=shop, url=receiver.url,
                                                   event_types=["order.placed", "order.paid"])
    receiver.codes = [503, 503]
    # when three events happen
    first = place(shopper, address, sku)
    pay(first)
    second = place(shopper, address, sku)
    _fan_out()
    webhooks.send_pending()
    # then only the oldest was tried, and it waits for its retry; the others wait behind it
    rows = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id"))
    assert [(r.event_name, r.status, r.attempts, r.last_status_code) for r in rows] == [
        ("order.placed", "pending", 1, 503), ("order.paid", "pending", 0, None), ("order.placed", "pending", 0, None)]
    assert rows[0].next_attempt_at > timezone.now()
    webhooks.send_pending()  # not due yet: nothing is sent
    assert len(receiver.received) == 1
    # when the retry is due (1 s), the second 503 doubles the wait (2 s)
    webhooks.send_pending(now=_later(1.5))
    rows[0].refresh_from_db()
    assert (rows[0].attempts, rows[0].last_status_code) == (2, 503)
    assert rows[0].next_attempt_at - _later(1.5) > timedelta(seconds=1.5)
    # and when the endpoint is back, everything arrives, in the order it happened
    assert webhooks.send_pending(now=_later(5)) == 3
    assert [(p["type"], p["data"]["order_id"]) for p in receiver.delivered()] == [
        ("order.placed", first.pk), ("order.paid", first.pk), ("order.placed", second.pk)]
    # with the attempts logged by response code
    assert list(WebhookAttempt.objects.filter(delivery=rows[0]).values_list("status_code", flat=True)) == [503, 503, 200]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_an_endpoint_that_is_down_loses_nothing(receiver, seller, shop, shopper, address, sku):
    endpoint, _secret = webhooks.register_endpoint(actor=seller, shop=shop, url=receiver.url,
                                                   event_types=["order.placed"])
    receiver.close()  # nothing listens: connection refused
    place(shopper, address, sku)
    place(shopper, address, sku)
    _fan_out()
    webhooks.send_pending()
    head = WebhookDelivery.objects.order_by("id").first()
    assert head.attempts == 1 and head.last_status_code is None and head.last_error
    assert WebhookDelivery.objects.filter(attempts=0).count() == 1  # the later one waited behind it
    # when the integrator is back (on a new port: the endpoint's URL is updated)
    back = Receiver()
    endpoint.url = back.url
    endpoint.save()
    try:
        assert webhooks.send_pending(now=_later(2)) == 2
        assert len(back.delivered()) == 2
    finally:
        back.close()


def test_the_retry_limit_marks_a_delivery_failed_lets_the_next_go_and_replay_sends_it(
    receiver, settings, seller, shop, shopper, address, sku
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    endpoint, _secret = webhooks.register_endpoint(actor=seller, shop=shop, url=receiver.url,
                                                   event_types=["order.placed"])
    receiver.codes = [500, 500]
    place(shopper, address, sku)
    second = place(shopper, address, sku)
    _fan_out()
    webhooks.send_pending()
    webhooks.send_pending(now=_later(2))
    failed, sent = WebhookDelivery.objects.order_by("id")
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("failed", 2)
    sent.refresh_from_db()
    assert sent.status == "delivered"
    assert [p["data"]["order_id"] for p in receiver.delivered()] == [second.pk]
    # when the seller replays the failed one
    webhooks.replay(actor=seller, shop=shop, delivery_id=failed.pk)
    assert webhooks.send_pending() == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("delivered", 1)
    assert len(receiver.delivered()) == 2
    # another shop cannot replay it
    other = f.make_shop(owner=f.make_user())
    with pytest.raises(webhooks.NotFound):
        webhooks.replay(actor=seller, shop=other, delivery_id=failed.pk)


def test_a_shop_endpoint_gets_only_its_shop_events_and_a_platform_endpoint_gets_all(
    receiver, seller, shop, other_shop, shopper, address, sku, other_sku
):
    ours, _s1 = webhooks.register_endpoint(actor=seller, shop=shop, url=receiver.url, event_types=["order.placed"])
    operator = f.make_user("operator", is_staff=True)
    platform, _s2 = webhooks.register_endpoint(actor=operator, shop=None, url=receiver.url,
                                               event_types=["order.placed"])
    place(shopper, address, sku)
    place(shopper, address, other_sku)
    _fan_out()
    assert WebhookDelivery.objects.filter(endpoint=ours).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=platform).count() == 2
    # a redelivered event adds no delivery
    event_id = WebhookDelivery.objects.filter(endpoint=ours).get().event_id
    event = events.OutboxEvent.objects.get(pk=event_id)
    webhooks.on_event(event.payload, event=event)
    assert WebhookDelivery.objects.count() == 3


def test_private_targets_are_refused_unless_allowed(receiver, settings, seller, shop, shopper, address, sku):
    endpoint, _secret = webhooks.register_endpoint(actor=seller, shop=shop, url=receiver.url,
                                                   event_types=["order.placed"])
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    place(shopper, address, sku)
    _fan_out()
    webhooks.send_pending()
    delivery = WebhookDelivery.objects.get()
    assert "private address" in delivery.last_error
    assert receiver.received == []
    with pytest.raises(webhooks.ValidationFailed) as exc:
        webhooks.register_endpoint(actor=seller, shop=shop, url="http://10.0.0.5/hook", event_types=["order.placed"])
    assert "url" in exc.value.fields


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_deliver_each_event_once_and_in_order(receiver, seller, shop, shopper, address, sku):
    # given five events waiting for one endpoint
    endpoint, _secret = webhooks.register_endpoint(actor=seller, shop=shop, url=receiver.url,
                                                   event_types=["order.placed"])
    placed = [place(shopper, address, sku).pk for _n in range(5)]
    _fan_out()
    # when four workers send the endpoint's deliveries at the same moment
    barrier, errors = threading.Barrier(4), []

    def work():
        try:
            barrier.wait(timeout=30)
            webhooks.send_endpoint(endpoint_id=endpoint.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    webhooks.send_pending()  # a worker that found the endpoint locked left the rest to the next run
    # then each event arrived once, in the order it happened
    assert errors == []
    assert [p["data"]["order_id"] for p in receiver.delivered()] == placed
    assert WebhookAttempt.objects.count() == 5
