"""Commits that do not wait for the disk (core/durability.py): a behaviour event's and an
event's deliveries on PostgreSQL, and only in a transaction of their own; an enclosing
transaction (an order's) keeps waiting, and the connection's setting is left as it was.
SQLite commits without a flush already (WAL, synchronous=NORMAL): nothing to relax."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shopyard.analytics.models import BehaviourEvent
from shopyard.analytics.services import write_events
from shopyard.core import events
from shopyard.core.durability import relaxed_statement
from shopyard.core.models import OutboxDelivery, OutboxEvent
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite in WAL mode with synchronous=NORMAL commits without a flush")


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.fixture
def seen():
    """A subscriber that notes the synchronous_commit its delivery runs under."""
    noted = []
    key = events.subscribe("test.durability", lambda payload: noted.append(_setting()), key="tests.durability")
    yield noted
    events.unsubscribe("test.durability", key)


def test_an_events_deliveries_commit_without_waiting_only_in_their_own_transaction(seen):
    with transaction.atomic():
        event = events.emit("test.durability", n=1)
    events.dispatch(event.pk)
    assert seen == ["off"]
    assert _setting() == "on"  # the connection's next transaction waits for the disk again
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED

    with transaction.atomic():  # a caller's transaction (an order's): its commit stays durable
        event = events.emit("test.durability", n=2)
        events.dispatch(event.pk)
        assert _setting() == "on"
    assert seen == ["off", "on"]


def test_a_delivery_retried_alone_commits_without_waiting():
    noted = []

    def fails_once(payload):
        noted.append(_setting())
        if len(noted) == 1:
            raise RuntimeError("down for a moment")

    key = events.subscribe("test.durability", fails_once, key="tests.durability")
    try:
        with transaction.atomic():
            event = events.emit("test.durability", n=3)  # delivered at the commit: fails
        delivery = OutboxDelivery.objects.get(event=event)
        assert delivery.status == OutboxDelivery.Status.PENDING
        assert events.deliver(delivery.pk, now=timezone.now() + timedelta(days=1)) is True
    finally:
        events.unsubscribe("test.durability", key)
    assert noted == ["off", "off"] and _setting() == "on"
    assert OutboxDelivery.objects.get(pk=delivery.pk).status == OutboxDelivery.Status.DELIVERED


def test_a_behaviour_event_commits_without_waiting_and_leaves_the_connection_durable(client, shop):
    product = f.make_product(shop)
    assert client.get(f.product_url(product)).status_code == 200
    assert BehaviourEvent.objects.filter(product_id=product.pk, kind="view").count() == 1
    assert _setting() == "on"

    sql = "INSERT INTO analytics_behaviourevent (kind, visitor, query, created_at) VALUES ('view', 'v', '', now())"
    with connection.cursor() as cursor:  # on its own: the statement relaxes its own commit
        cursor.execute(relaxed_statement(connection, sql))
        assert cursor.fetchone() == ("off",)
    with transaction.atomic():  # inside a transaction: left as it is, the enclosing commit waits
        assert relaxed_statement(connection, sql) == sql
        write_events(events=[("view", product.pk, "", product.created_at)], visitor="v2")
        assert _setting() == "on"
    assert BehaviourEvent.objects.filter(visitor__in=["v", "v2"]).count() == 2
