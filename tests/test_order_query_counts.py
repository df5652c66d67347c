"""What placing an order costs in SQL statements, pinned, so that a change that
adds a round trip to the hottest write path shows up here rather than as a
slower benchmark (docs/performance.md, "Order placement over the API").

Counts include the test transaction's SAVEPOINT and RELEASE around each atomic
block (BEGIN and COMMIT in production). PostgreSQL takes stock and writes its
ledger row in one statement, and a payment with its orders' links in one; SQLite
needs two each."""

import pytest
from django.db import connection

from shopyard.core.models import OutboxEvent
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from shopyard.promotions import flash_store
from shopyard.promotions.models import FlashReservation
from tests import factories as f


def _per_database(*, postgresql, sqlite):
    return postgresql if connection.vendor == "postgresql" else sqlite


def _buy_now(api, token, address, sku, key):
    return api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]},
                    token=token, headers={"HTTP_IDEMPOTENCY_KEY": key})


def test_a_buy_now_order_over_the_api_costs_a_fixed_number_of_statements(
        db, api, sku, shopper, shopper_token, address, django_assert_num_queries):
    # given a shopper who ordered before (so nothing below is a first-time cost)
    assert _buy_now(api, shopper_token, address, sku, "first").status_code == 201
    stock = StockLevel.objects.get(sku=sku).quantity
    # when they buy now again with a new key: token, key (with the user's lock), address (with
    # the unpaid count), SKU, promotions, coupons, order, line, history, stock (+ ledger), payment
    # (+ its link), the events (one statement for both, and no delivery row: core.events; on
    # PostgreSQL the order with its line and history is one statement; SQLite takes no row
    # lock: its transaction holds the write lock from the start)
    with django_assert_num_queries(_per_database(postgresql=11, sqlite=15)):
        r = _buy_now(api, shopper_token, address, sku, "second")
    # then the order is whole: one more order, its payment, one unit taken and logged,
    # and its events written for after commit
    assert r.status_code == 201, r.json()
    [order] = r.json()["orders"]
    assert Order.objects.filter(user=shopper).count() == 2
    assert Payment.objects.filter(orders=order["id"]).count() == 1
    assert StockLevel.objects.get(sku=sku).quantity == stock - 1
    assert list(StockMovement.objects.filter(order=order["id"]).values_list("delta", "reason")) == [(-1, "order")]
    assert sorted(OutboxEvent.objects.filter(payload__user_id=shopper.pk).values_list("name", flat=True)) == [
        "checkout.placed", "checkout.placed", "order.placed", "order.placed"]


def test_delivering_an_order_placed_to_its_subscribers_costs_a_fixed_number_of_statements(
        db, api, sku, shopper, shopper_token, address, django_assert_num_queries):
    from shopyard.analytics.models import BehaviourEvent
    from shopyard.core import events
    from shopyard.notifications.models import Message

    # given an order placed over the API, whose order.placed waits for delivery
    r = _buy_now(api, shopper_token, address, sku, "delivered")
    assert r.status_code == 201, r.json()
    [order] = r.json()["orders"]
    event = OutboxEvent.objects.get(name="order.placed", payload__order_id=order["id"])
    # when it is delivered, as after the response: the event locked, then per subscriber its
    # work, without a savepoint while all succeed (notification: the recipient, the message;
    # webhooks: the endpoints; attribution: the touch; counters: the stock-outs; analytics: the
    # purchases), and the event settled, inside one transaction
    with django_assert_num_queries(_per_database(postgresql=10, sqlite=10)):
        assert events.dispatch(event.pk) == len(events.subscribers("order.placed"))
    # then every subscriber had it: the shopper's notification and the purchase were written,
    # and the event is delivered without a delivery row
    event.refresh_from_db()
    assert (event.status, event.deliveries.exists()) == ("delivered", False)
    assert Message.objects.filter(user=shopper, kind="order_placed").count() == 1
    assert list(BehaviourEvent.objects.filter(user=shopper, kind="purchase").values_list("product_id", flat=True)) == [
        sku.product_id]


def test_a_replayed_order_costs_no_new_rows(db, api, sku, shopper, shopper_token, address):
    first = _buy_now(api, shopper_token, address, sku, "again")
    again = _buy_now(api, shopper_token, address, sku, "again")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (Order.objects.count(), Payment.objects.count(), StockMovement.objects.filter(reason="order").count()) == (
        1, 1, 1)


@pytest.fixture
def flash_item(shop, sku):
    return f.make_flash_sale(shop, [(sku, "19.90", 3, 1)]).items.get()


def test_a_flash_purchase_on_the_database_path_costs_a_fixed_number_of_statements(
        db, flash_db_path, api, flash_item, sku, shopper, shopper_token, address, django_assert_num_queries):
    normal = StockLevel.objects.get(sku=sku).quantity
    with django_assert_num_queries(_per_database(postgresql=20, sqlite=22)):
        r = api.post(f"/flash/items/{flash_item.pk}/buy", {"address_id": address.pk, "quantity": 1},
                     token=shopper_token)
    assert r.status_code == 201, r.json()
    flash_item.refresh_from_db()
    assert (flash_item.available, Order.objects.count(), StockLevel.objects.get(sku=sku).quantity) == (2, 1, normal)


def test_the_order_a_worker_makes_from_a_flash_hold_costs_a_fixed_number_of_statements(
        db, workers_make_orders, api, flash_item, shopper, shopper_token, address, django_assert_num_queries):
    from shopyard.checkout.flash import place_held

    r = api.post(f"/flash/items/{flash_item.pk}/buy", {"address_id": address.pk, "quantity": 1},
                 token=shopper_token)
    assert r.status_code == 202, r.json()
    with django_assert_num_queries(_per_database(postgresql=20, sqlite=22)):
        placed = place_held(token=r.json()["hold"])
    assert placed is not None and placed.order_ids == list(Order.objects.values_list("pk", flat=True))
    assert FlashReservation.objects.get().order_id == placed.order_ids[0]
    assert flash_store.held(r.json()["hold"]) is None
