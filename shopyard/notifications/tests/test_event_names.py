"""Every event has one naming style, `<noun>.<past participle>`, its payload is
usable without our database, and a crash between commit and dispatch loses
nothing: the outbox row is committed with the change, and the sweep delivers it."""

import ast
import re
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction

from shopyard.checkout.services import place_order
from shopyard.core import events, tasks
from shopyard.core.models import OutboxEvent
from shopyard.notifications.models import Message, Outgoing
from shopyard.orders.models import Order

PACKAGE = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^[a-z]+(?:_[a-z]+)*\.[a-z]+$")
IRREGULAR = {"paid", "set", "sent", "held", "made", "taken", "given", "shown", "hidden", "done", "built", "written"}


def _literal_strings(node):
    """The string values an expression can take, when it is made of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_strings(node.body) + _literal_strings(node.orelse)
    if isinstance(node, ast.JoinedStr):
        options = [""]
        for part in node.values:
            parts = _literal_strings(part.value if isinstance(part, ast.FormattedValue) else part)
            if not parts:
                return []
            options = [o + p for o in options for p in parts]
        return options
    return []


def emitted_names() -> tuple[set[str], list[str]]:
    """Every event name the source emits, and the emit calls it cannot resolve.
    Resolved: literals (also f-strings of conditional literals), a variable
    passed in as `event="..."` by the same module, and `EVENTS[...]` tables."""
    names, unresolved = set(), []
    tables = {}
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.endswith("EVENTS"):
                        # several apps have an EVENTS table: a name emitted through any of them counts
                        tables.setdefault(target.id, []).extend(
                            v.value for v in node.value.values if isinstance(v, ast.Constant))
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        passed = [kw.value.value for node in ast.walk(tree) if isinstance(node, ast.Call) for kw in node.keywords
                  if kw.arg == "event" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "emit" and node.args):
                continue
            first = node.args[0]
            found = _literal_strings(first)
            if not found and isinstance(first, ast.Name) and first.id == "event" and passed:
                found = passed
            if not found and isinstance(first, ast.Subscript) and getattr(first.value, "id", None) in tables:
                found = tables[first.value.id]
            if found:
                names.update(found)
            else:
                unresolved.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return names, unresolved


def test_every_emitted_event_is_named_noun_dot_past_participle():
    names, unresolved = emitted_names()
    # the walk sees every emit call, so a new event cannot slip past this test
    assert unresolved == []
    assert {"order.placed", "order.paid", "order.cancelled", "payment.succeeded", "refund.succeeded",
            "user_password.changed"} <= names
    bad = sorted(n for n in names if not NAME.match(n) or not (
        n.split(".")[1].endswith("ed") or n.split(".")[1] in IRREGULAR))
    assert bad == []


def test_every_subscription_is_to_an_emitted_event():
    names, _unresolved = emitted_names()
    # a subscriber to a name nobody emits (a typo, a rename) would never run;
    # order.delivered comes with parcel tracking (another part of issue 8)
    assert sorted(set(events.subscribed_names()) - names - {"order.delivered"}) == []


def _place(user, address, sku):
    placed = place_order(actor=user, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 2}])
    return Order.objects.get(pk=placed.order_ids[0])


@pytest.mark.django_db
def test_order_events_carry_what_an_outside_subscriber_needs(shopper, address, sku, shop):
    order = _place(shopper, address, sku)
    event = OutboxEvent.objects.get(name="order.placed")
    assert event.payload == {
        "order_id": order.pk, "order_number": order.number, "shop_id": shop.pk, "user_id": shopper.pk,
        "status": "pending_payment", "currency": "CNY", "total": "129.80",
        "shipping_fee": "10.00", "placed_at": order.placed_at.isoformat(),
    }
    placed = OutboxEvent.objects.get(name="checkout.placed").payload
    assert placed["order_ids"] == [order.pk] and placed["user_id"] == shopper.pk


@pytest.mark.django_db(transaction=True)
def test_a_crash_between_commit_and_dispatch_loses_nothing(shopper, address, sku, monkeypatch):
    # given the process dies right after commit, before it can hand the event to a worker
    shopper.email = "shopper@example.com"
    shopper.save()
    monkeypatch.setattr(tasks.dispatch_event, "delay", lambda *a, **k: None)
    with transaction.atomic():
        order = _place(shopper, address, sku)
    # then the event was committed with the order, new (due to each of its subscribers), and nothing ran yet
    event = OutboxEvent.objects.get(name="order.placed", payload__order_id=order.pk)
    assert event.status == OutboxEvent.Status.NEW
    assert set(events.subscribers("order.placed")) == {
        "notifications.notify", "notifications.webhooks", "channels.attribute_order", "analytics.record_purchase",
        "shopyard.operations.counters.order_placed"}
    assert not Message.objects.exists()
    # when the periodic sweep runs later
    events.dispatch_pending()
    # then the shopper got the message and the e-mail, once
    assert list(Message.objects.values_list("user_id", "title")) == [(shopper.pk, f"订单 {order.number} 已提交")]
    assert Outgoing.objects.get(channel="email").status == "sent"
    assert [m.to for m in mail.outbox] == [["shopper@example.com"]]
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED
