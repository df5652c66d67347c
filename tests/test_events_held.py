"""Without a broker, the events a worker's requests commit are held by the process and
delivered together (core/events.py `after_response`, core/held.py): one transaction for
several orders' `order.placed`, still exactly once per subscriber, a failing subscriber
still isolated, and nothing lost when the process never gets to deliver them (the sweep)."""

import logging
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shopyard.core import events
from shopyard.core.models import OutboxDelivery, OutboxEvent
from tests import factories as f
from tests.outbox_locks import run_while_another_worker_holds
from tests.test_events_after_response import _order_request

pytestmark = pytest.mark.django_db(transaction=True)  # the orders' transactions really commit


@pytest.fixture
def held(settings):
    """Events held as in production, three to a batch; whatever a test leaves held is
    delivered before the next one."""
    settings.EVENT_DISPATCH_SECONDS = 60
    settings.EVENT_DISPATCH_BATCH = 3
    yield settings
    events.deliver_held_events()


def _in_batches(handler):
    """`subscribe(..., many=)` for a test handler of one payload: the same, item by item (a
    subscriber with a batch form accepts being held, core.events.may_hold)."""
    return lambda items: [handler(payload) for payload, _event in items]


def _subscribe(subscribe_for_test, handler, key):
    subscribe_for_test("order.placed", handler, key=key, many=_in_batches(handler))


def _place(token, address, sku, key):
    status, body, response = _order_request(token, address, sku, key)
    assert status.startswith("201"), body
    response.close()
    return body["orders"][0]["id"]


def _statuses(name="order.placed"):
    return sorted(set(OutboxEvent.objects.filter(name=name).values_list("status", flat=True)))


def test_three_orders_are_delivered_together_in_one_transaction(held, subscribe_for_test, shopper_token, address,
                                                                 sku):
    heard = []
    _subscribe(subscribe_for_test, lambda payload: heard.append(payload["order_id"]), "test.listens")
    first = [_place(shopper_token, address, sku, f"held-{n}") for n in range(2)]
    # two orders placed and answered: their events are committed, held, not yet delivered
    assert heard == [] and _statuses() == ["new"]
    # the third order's response reaches the batch's size: all three are delivered after it
    with CaptureQueriesContext(connection) as third:
        last = _place(shopper_token, address, sku, "held-2")
    assert heard == [*first, last]
    assert _statuses() == ["delivered"]
    # one read locked the three events, one statement settled them, and no delivery row was read or written
    sql = [q["sql"] for q in third.captured_queries]
    assert len([s for s in sql if s.startswith("SELECT") and 'FROM "core_outboxevent"' in s]) == 1
    assert len([s for s in sql if s.startswith('UPDATE "core_outboxevent"')]) == 1
    assert not [s for s in sql if '"core_outboxdelivery"' in s and not s.startswith('UPDATE "core_outboxevent"')]
    assert not OutboxDelivery.objects.exists()
    assert events.deliver_held_events() == 0  # nothing left held


def test_a_subscriber_failing_in_a_batch_fails_alone_and_the_others_write_once(held, subscribe_for_test,
                                                                                shopper_token, address, sku):
    held.EVENT_RETRY_BASE_SECONDS = 30
    calls, failing = [], set()

    def writes(payload):  # a handler whose database write must happen exactly once per order
        Group.objects.create(name=f"heard-{payload['order_id']}")

    def fails_for_the_second(payload):
        calls.append(payload["order_id"])
        if payload["order_id"] in failing:
            raise RuntimeError("the second order's delivery fails")

    subscribe_for_test("order.placed", writes, key="test.writes", many=_in_batches(writes))
    subscribe_for_test("order.placed", fails_for_the_second, key="test.flaky", many=_in_batches(fails_for_the_second))
    orders = [_place(shopper_token, address, sku, f"held-fail-{n}") for n in range(2)]
    failing.add(orders[1])
    orders.append(_place(shopper_token, address, sku, "held-fail-2"))  # the batch is delivered after it
    # the failing delivery is recorded on its own: attempt 1, its error, its next try later
    failed = OutboxDelivery.objects.get(subscriber="test.flaky", status="pending")
    assert failed.event.payload["order_id"] == orders[1]
    assert failed.attempts == 1 and "the second order's delivery fails" in failed.last_error
    assert failed.next_attempt_at > timezone.now()
    # every other delivery went through, and the write of the first try (rolled back) was not made twice
    assert OutboxDelivery.objects.filter(event__name="order.placed", status="delivered").count() == \
        OutboxDelivery.objects.filter(event__name="order.placed").count() - 1
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(f"heard-{pk}" for pk in orders)
    assert dict(OutboxEvent.objects.filter(name="order.placed").values_list("payload__order_id", "status")) == {
        orders[0]: "delivered", orders[1]: "pending", orders[2]: "delivered"}
    # and the sweep delivers it once due, once
    failing.clear()
    later = failed.next_attempt_at + timedelta(seconds=1)
    assert events.dispatch_pending(now=later) == 1
    assert events.dispatch_pending(now=later) == 0
    assert OutboxDelivery.objects.get(subscriber="test.flaky", event=failed.event).status == "delivered"
    assert calls.count(orders[2]) == 1  # after the failing one in the first try: run once, in its own dispatch


def test_a_quiet_shops_order_is_delivered_within_the_seconds(held, subscribe_for_test, shopper_token, address, sku):
    held.EVENT_DISPATCH_SECONDS = 0.3
    heard = []
    _subscribe(subscribe_for_test, lambda payload: heard.append((payload["order_id"], threading.current_thread())),
               "test.listens")
    order = _place(shopper_token, address, sku, "held-quiet")
    assert heard == []
    # nobody else orders: the timer thread delivers it, on a connection of its own
    deadline = time.monotonic() + 10
    while _statuses() != ["delivered"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _statuses() == ["delivered"]
    [(heard_order, thread)] = heard
    assert heard_order == order and thread is not threading.current_thread()


def test_the_sweep_delivers_held_events_and_the_batch_then_delivers_them_no_more(
        held, subscribe_for_test, shopper_token, address, sku):
    heard = []
    _subscribe(subscribe_for_test, lambda payload: heard.append(payload["order_id"]), "test.listens")
    order = _place(shopper_token, address, sku, "held-lost")
    # a worker holds the event (and may be killed before delivering it): the rows were committed
    # with the order, so the periodic sweep, in another process, delivers it
    events.dispatch_pending()
    assert heard == [order] and _statuses() == ["delivered"]
    # and the worker's batch, delivered afterwards, finds nothing due: once per subscriber
    events.deliver_held_events()
    assert heard == [order]


def test_the_batch_s_task_line_names_the_requests_whose_events_it_delivered(held, subscribe_for_test, shopper,
                                                                              address, sku, log_lines):
    from django.test import Client

    _subscribe(subscribe_for_test, lambda payload: None, "test.listens")
    token = f.token_for(shopper)
    for n in range(3):
        r = Client().post("/api/v1/orders", data={"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
                          HTTP_X_REQUEST_ID=f"held-req-{n}")
        assert r.status_code == 201
    [task] = [x for x in log_lines() if x.get("task") == "shopyard.core.tasks.dispatch_events"]
    assert task["outcome"] == "success"
    assert task["request_ids"] == ["held-req-0", "held-req-1", "held-req-2"]


def test_a_handler_run_for_one_event_of_a_batch_logs_with_its_request_s_id(subscribe_for_test, monkeypatch):
    import structlog

    from shopyard.core import tasks

    monkeypatch.setattr(tasks.dispatch_event, "delay", lambda *_a: None)  # left for the batch below
    seen = {}

    def listens(payload):  # no batch form: run event by event, each under its request's id
        seen[payload["n"]] = structlog.contextvars.get_contextvars().get("request_id")

    subscribe_for_test("thing.happened", listens, key="test.listens")
    first, second = events.emit("thing.happened", n=1), events.emit("thing.happened", n=2)
    assert events.dispatch_many([first.pk, second.pk], request_ids=["req-a", "req-b"]) == 2
    assert seen == {1: "req-a", 2: "req-b"}


def test_a_batch_whose_database_write_fails_is_logged_and_left_to_the_sweep(held, subscribe_for_test, shopper_token,
                                                                            address, sku, monkeypatch, caplog):
    heard = []
    _subscribe(subscribe_for_test, lambda payload: heard.append(payload["order_id"]), "test.listens")
    orders = [_place(shopper_token, address, sku, f"held-db-{n}") for n in range(2)]

    def database_away(*_args, **_kwargs):
        raise events.DatabaseError("connection lost")

    monkeypatch.setattr(events, "_dispatch_together", database_away)
    with caplog.at_level(logging.ERROR):
        orders.append(_place(shopper_token, address, sku, "held-db-2"))  # the response is not affected
    assert "could not deliver events" in caplog.text
    assert heard == [] and _statuses() == ["new"]
    monkeypatch.undo()
    events.dispatch_pending()
    assert sorted(heard) == sorted(orders) and _statuses() == ["delivered"]


def test_a_batch_skips_an_event_another_worker_is_delivering_and_delivers_the_rest(subscribe_for_test, monkeypatch):
    from shopyard.core import tasks

    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite's transaction locks the whole file (the PostgreSQL stage runs it)")
    monkeypatch.setattr(tasks.dispatch_event, "delay", lambda *_a: None)  # left for the batch below
    heard = []
    subscribe_for_test("thing.happened", lambda payload: heard.append(payload["n"]), key="test.a")
    first, second = events.emit("thing.happened", n=1), events.emit("thing.happened", n=2)
    waited, outcome = run_while_another_worker_holds(first.pk, lambda: events.dispatch_many([first.pk, second.pk]))
    # the batch did not wait for the lock: it delivered the second event and left the first as it was
    assert (waited, outcome, heard) == (False, [1], [2])
    assert dict(OutboxEvent.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "status")) == {
        first.pk: "new", second.pk: "delivered"}


# --- subscribers that take a batch at once (subscribe(..., many=...)) ----------------------------


def _order_placed_effects(shop, orders):
    """What order.placed's subscribers wrote for `orders` (ids, in placing order), each order
    named by its place in the list: messages, e-mails, webhook deliveries, purchases, attributions."""
    from shopyard.analytics.models import BehaviourEvent
    from shopyard.channels.models import OrderAttribution
    from shopyard.notifications.models import Message, Outgoing, WebhookDelivery
    from shopyard.orders.models import Order

    place = {pk: n for n, pk in enumerate(orders)}
    event_of = {e.pk: place[e.payload["order_id"]]
                for e in OutboxEvent.objects.filter(name="order.placed", payload__order_id__in=orders)}
    buyers = dict(Order.objects.filter(pk__in=orders).values_list("pk", "user_id"))
    return {
        "messages": sorted((event_of[m.event_id], m.user_id, m.kind, m.title.replace(m.title.split()[1], "#"), m.link
                            .replace(str(orders[event_of[m.event_id]]), "#"))
                           for m in Message.objects.filter(event_id__in=event_of)),
        "emails": sorted((event_of[o.event_id], o.user_id, o.channel, o.status)
                         for o in Outgoing.objects.filter(event_id__in=event_of)),
        "webhooks": sorted((event_of[w.event_id], w.endpoint_id, w.event_name)
                           for w in WebhookDelivery.objects.filter(event_id__in=event_of)),
        "purchases": sorted((buyers[pk], product) for pk in orders for product in BehaviourEvent.objects.filter(
            kind="purchase", user_id=buyers[pk]).values_list("product_id", flat=True).distinct()),
        "attributed": sorted((place[a.order_id], a.source, a.touch_id) for a in
                             OrderAttribution.objects.filter(order_id__in=orders)),
    }


def test_batched_subscribers_write_exactly_what_they_write_one_event_at_a_time(settings, shop, sku, address,
                                                                               shopper):
    from shopyard.channels import services as channels
    from shopyard.channels.tags import Tag
    from shopyard.core import metrics
    from shopyard.notifications.models import Preference, WebhookEndpoint

    # order.placed has every kind of subscriber here: the buyer's message (and, for one buyer, an
    # e-mail), a shop's webhook, purchases, counters, and a channel touch to attribute to
    other = f.make_user("second-buyer", email="second@example.com")
    other_address = f.make_address(other)
    Preference.objects.create(user=other, kind="order_placed", channel="email", enabled=True)
    WebhookEndpoint.objects.create(shop=shop, url="https://127.0.0.1:9/in", event_types=["order.placed"],
                                   secret="s" * 32)  # a private address: its sending is refused, no network
    channels.record_touch(tag=Tag(source="weibo"), visitor="v-held", user_id=other.pk)
    buyers = [(f.token_for(shopper), address), (f.token_for(other), other_address), (f.token_for(shopper), address)]

    def place_three(prefix):
        placed_before = metrics.ORDERS_PLACED._value.get()
        orders = [_place(token, addr, sku, f"{prefix}-{n}") for n, (token, addr) in enumerate(buyers)]
        return orders, metrics.ORDERS_PLACED._value.get() - placed_before

    settings.EVENT_DISPATCH_SECONDS, settings.EVENT_DISPATCH_BATCH = 0, 16
    one_by_one, counted_one_by_one = place_three("single")
    settings.EVENT_DISPATCH_SECONDS, settings.EVENT_DISPATCH_BATCH = 60, 3
    try:
        with CaptureQueriesContext(connection) as queries:
            together, counted_together = place_three("batch")
    finally:
        events.deliver_held_events()
    # the same rows, each order's as when its event was delivered alone
    assert _order_placed_effects(shop, together) == _order_placed_effects(shop, one_by_one)
    effects = _order_placed_effects(shop, together)
    assert len(effects["messages"]) == 3 and len(effects["emails"]) == 1 and len(effects["webhooks"]) == 3
    assert [n for n, _source, _touch in effects["attributed"]] == [1]
    assert counted_together == counted_one_by_one == 3
    # and the batch wrote its three messages with one INSERT, its webhook deliveries with one more
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if 'INTO "notifications_message"' in s]) == 1
    assert len([s for s in sql if 'INTO "notifications_webhookdelivery"' in s]) == 1
    assert _statuses() == ["delivered"]


def test_a_batched_subscriber_that_fails_is_run_again_event_by_event(held, subscribe_for_test, shopper_token,
                                                                     address, sku):
    calls, failing = [], set()

    def many(items):
        calls.append([payload["order_id"] for payload, _event in items])
        if failing & {payload["order_id"] for payload, _event in items}:
            raise RuntimeError("one order of the batch cannot be handled")

    subscribe_for_test("order.placed", lambda payload: many([(payload, None)]), key="test.many", many=many)
    orders = [_place(shopper_token, address, sku, f"held-many-{n}") for n in range(2)]
    failing.add(orders[0])
    orders.append(_place(shopper_token, address, sku, "held-many-2"))
    # once with the three, then (rolled back) once with each: only the failing order's delivery fails,
    # and only its event has a delivery row, to be tried again
    assert calls == [orders, [orders[0]], [orders[1]], [orders[2]]]
    assert dict(OutboxDelivery.objects.filter(subscriber="test.many").values_list("event__payload__order_id",
                                                                                    "status")) == {
        orders[0]: "pending"}
    assert dict(OutboxEvent.objects.filter(name="order.placed").values_list("payload__order_id", "status")) == {
        orders[0]: "pending", orders[1]: "delivered", orders[2]: "delivered"}


def test_an_event_that_a_subscriber_wants_at_once_is_not_held(held, subscribe_for_test, shopper_token, address, sku):
    heard = []
    # a subscriber with no batch form has not accepted the wait (core.events.may_hold)
    subscribe_for_test("order.placed", lambda payload: heard.append(payload["order_id"]), key="test.at_once")
    order = _place(shopper_token, address, sku, "held-at-once")
    assert heard == [order] and _statuses() == ["delivered"]
    assert events.deliver_held_events() == 0


def test_orders_are_held_but_a_sellers_catalogue_edit_is_not():
    # order placement's subscribers all take batches; the page cache, the search index and the
    # API cache must see a seller's edit at once, so product and shop events are never held
    assert events.may_hold("order.placed")
    for name in ("product.updated", "product.created", "shop.updated", "category.changed", "order.paid",
                 "order.cancelled"):
        assert events.subscribers(name) and not events.may_hold(name), name
