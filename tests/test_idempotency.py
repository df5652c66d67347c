"""Placing an order is idempotent under an Idempotency-Key: a retry returns the
first result, a reused key with another body is a 422, and two concurrent
requests with one key make one set of orders."""

import threading

import pytest
from django.db import connection

from shopyard.accounts.models import User
from shopyard.cart import services as cart_services
from shopyard.cart.models import CartLine
from shopyard.checkout.services import place_order
from shopyard.core.errors import OutOfStock, ValidationFailed
from shopyard.core.models import IdempotencyRecord
from shopyard.inventory import services as inventory
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order
from shopyard.payments.models import Payment

from . import factories as f


def _world():
    return {
        "orders": sorted(Order.objects.values_list("id", "status")),
        "payments": sorted(Payment.objects.values_list("id", "status")),
        "stock": dict(StockLevel.objects.values_list("sku_id", "quantity")),
        "movements": StockMovement.objects.count(),
        "keys": sorted(IdempotencyRecord.objects.values_list("key", "request_hash")),
        "cart": sorted(CartLine.objects.values_list("sku_id", "quantity")),
    }


def test_same_key_same_body_returns_the_first_result(shopper, address, sku, other_sku):
    # given a checkout of two shops placed with a key
    lines = [{"sku_id": sku.pk, "quantity": 2}, {"sku_id": other_sku.pk, "quantity": 1}]
    first = place_order(
        actor=shopper, address_id=address.pk, lines=lines, idempotency_key="key-123"
    )
    after_first = _world()
    # when the client retries the very same request
    second = place_order(
        actor=shopper, address_id=address.pk, lines=lines, idempotency_key=" key-123 "
    )
    # then it gets the same orders and payment, and nothing was bought twice
    assert (second.checkout_id, second.order_ids, second.payment_id) == (
        first.checkout_id,
        first.order_ids,
        first.payment_id,
    )
    assert (first.replayed, second.replayed) == (False, True)
    assert Order.objects.count() == 2
    assert Payment.objects.count() == 1
    assert StockLevel.objects.get(sku=sku).quantity == 8
    assert _world() == after_first
    record = IdempotencyRecord.objects.get()
    assert (record.user, record.scope, record.key) == (shopper, "place_order", "key-123")
    # the record is written once, first in the transaction: it names the checkout, whose
    # orders and payment the replay above found
    assert record.result == {"checkout_id": first.checkout_id}


def test_retry_of_a_cart_checkout_returns_the_first_result(shopper, address, sku):
    # given a cart checkout placed with a key (it empties the cart)
    cart_services.add_line(
        cart=cart_services.get_cart(user=shopper, create=True), sku_id=sku.pk, quantity=1
    )
    first = place_order(actor=shopper, address_id=address.pk, idempotency_key="cart-key")
    after_first = _world()
    # when the response was lost and the client retries the same request
    second = place_order(actor=shopper, address_id=address.pk, idempotency_key="cart-key")
    # then the first orders come back (not "your cart is empty"), nothing bought twice
    assert (second.order_ids, second.payment_id, second.replayed) == (
        first.order_ids,
        first.payment_id,
        True,
    )
    assert _world() == after_first


def test_same_key_with_a_different_body_is_a_422_and_changes_nothing(shopper, address, sku):
    place_order(
        actor=shopper,
        address_id=address.pk,
        lines=[{"sku_id": sku.pk, "quantity": 1}],
        idempotency_key="k",
    )
    before = _world()
    for changed in (
        {"lines": [{"sku_id": sku.pk, "quantity": 2}]},
        {"lines": [{"sku_id": sku.pk, "quantity": 1}], "note": "another note"},
        {"lines": None},  # the cart instead of the explicit lines
    ):
        with pytest.raises(ValidationFailed) as exc:
            place_order(actor=shopper, address_id=address.pk, idempotency_key="k", **changed)
        assert (exc.value.status, exc.value.code) == (422, "idempotency_key_reused")
        assert list(exc.value.fields) == ["Idempotency-Key"]
        assert _world() == before


def test_keys_belong_to_one_user(shopper, other_shopper, address, sku):
    mine = place_order(
        actor=shopper,
        address_id=address.pk,
        lines=[{"sku_id": sku.pk, "quantity": 1}],
        idempotency_key="shared",
    )
    theirs = place_order(
        actor=other_shopper,
        address_id=f.make_address(other_shopper).pk,
        lines=[{"sku_id": sku.pk, "quantity": 1}],
        idempotency_key="shared",
    )
    assert set(mine.order_ids).isdisjoint(theirs.order_ids)
    assert Order.objects.filter(user=other_shopper).count() == 1
    assert StockLevel.objects.get(sku=sku).quantity == 8


def test_a_failed_attempt_does_not_burn_the_key(shopper, address, sku):
    # given an attempt that failed for lack of stock
    inventory.set_stock(sku=sku, quantity=0)
    lines = [{"sku_id": sku.pk, "quantity": 1}]
    with pytest.raises(OutOfStock):
        place_order(actor=shopper, address_id=address.pk, lines=lines, idempotency_key="again")
    assert not IdempotencyRecord.objects.exists()
    # when stock is back and the client retries with the same key
    inventory.set_stock(sku=sku, quantity=3)
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines, idempotency_key="again")
    # then the order is placed
    assert not placed.replayed
    assert Order.objects.get().pk == placed.order_ids[0]
    assert StockLevel.objects.get(sku=sku).quantity == 2


@pytest.mark.parametrize("key", ["", "   ", "x" * 129])
def test_malformed_keys_are_refused(shopper, address, sku, key):
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(
            actor=shopper,
            address_id=address.pk,
            lines=[{"sku_id": sku.pk, "quantity": 1}],
            idempotency_key=key,
        )
    assert list(exc.value.fields) == ["Idempotency-Key"]
    assert _world() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_set_of_orders():
    # given a buyer whose client fires the same checkout 6 times at once
    seller = f.make_user("idem-seller")
    shop_a, shop_b = f.make_shop(owner=seller, shipping_fee="6.00"), f.make_shop(shipping_fee="0")
    sku_a = f.make_product(shop_a, price="10.00", stock=50).skus.get()
    sku_b = f.make_product(shop_b, price="20.00", stock=50).skus.get()
    buyer = User.objects.create_user(username="idem-buyer", password=None)
    address = f.make_address(buyer)
    lines = [{"sku_id": sku_a.pk, "quantity": 1}, {"sku_id": sku_b.pk, "quantity": 2}]
    n = 6
    barrier = threading.Barrier(n)
    results = [None] * n

    def request(i):
        try:
            barrier.wait(timeout=60)
            placed = place_order(
                actor=buyer, address_id=address.pk, lines=lines, idempotency_key="dbl-click"
            )
            results[i] = (placed.checkout_id, tuple(placed.order_ids), placed.payment_id)
        except Exception as exc:
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    # then every request got the same result, and one set of orders exists
    assert len(set(results)) == 1, results
    checkout_id, order_ids, payment_id = results[0]
    assert checkout_id != "error"
    assert (
        sorted(Order.objects.values_list("pk", flat=True)) == sorted(order_ids)
        and len(order_ids) == 2
    )
    assert list(Payment.objects.values_list("pk", flat=True)) == [payment_id]
    assert StockLevel.objects.get(sku=sku_a).quantity == 49
    assert StockLevel.objects.get(sku=sku_b).quantity == 48
    assert IdempotencyRecord.objects.count() == 1
