"""Stock is never sold twice: real threads race through checkout for the last
units of a SKU, on SQLite (WAL, IMMEDIATE transactions) and on PostgreSQL.
The CHECK constraint is the last line of defence behind the conditional UPDATE."""

import threading
import time
from collections import Counter

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum

from shopyard.accounts.models import User
from shopyard.checkout.services import place_order
from shopyard.core.errors import OutOfStock
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order, OrderLine
from shopyard.payments.models import Payment

from . import factories as f


def _buyers(n):
    """n users (no password hashing: it would dominate the test) with one address each."""
    buyers = []
    for i in range(n):
        user = User.objects.create_user(username=f"racer{i}", password=None)
        buyers.append((user, f.make_address(user)))
    return buyers


def _race(buyers, lines_for):
    """Start one thread per buyer at the same instant; return (outcomes, seconds)."""
    barrier = threading.Barrier(len(buyers))
    outcomes = [None] * len(buyers)

    def buy(i, user, address):
        try:
            barrier.wait(timeout=60)
            placed = place_order(actor=user, address_id=address.pk, lines=lines_for(i))
            outcomes[i] = ("ok", placed.order_ids)
        except OutOfStock as exc:
            outcomes[i] = ("out_of_stock", exc.code, exc.status)
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(i, u, a)) for i, (u, a) in enumerate(buyers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - started
    assert not any(t.is_alive() for t in threads), "a buyer thread hung"
    return outcomes, elapsed


def _ledger_sum(sku):
    return StockMovement.objects.filter(sku=sku).aggregate(s=Sum("delta"))["s"]


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_race_for_the_last_ten_units():
    # given one SKU with exactly 10 units left and 50 buyers
    seller = f.make_user("race-seller")
    shop = f.make_shop(owner=seller, shipping_fee="0")
    sku = f.make_product(shop, price="88.00", stock=10).skus.get()
    buyers = _buyers(50)

    # when all 50 place an order for one unit at the same moment
    outcomes, elapsed = _race(buyers, lambda i: [{"sku_id": sku.pk, "quantity": 1}])
    print(f"\n50 buyers / 10 units on {connection.vendor}: {elapsed:.2f}s")

    # then exactly 10 succeed and 40 get a clear "out of stock"
    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 10, "out_of_stock": 40}, [o for o in outcomes if o[0] == "error"][:3]
    assert {o[1:] for o in outcomes if o[0] == "out_of_stock"} == {("out_of_stock", 409)}
    # stock ends at exactly 0, never below, and 10 orders exist, one per winner
    assert StockLevel.objects.get(sku=sku).quantity == 0
    assert Order.objects.count() == 10
    winners = {buyers[i][0].pk for i, o in enumerate(outcomes) if o[0] == "ok"}
    assert set(Order.objects.values_list("user_id", flat=True)) == winners
    assert OrderLine.objects.filter(sku=sku).aggregate(q=Sum("quantity"))["q"] == 10
    assert Payment.objects.count() == 10
    # the ledger: +10 when stocked, -1 per sold unit, sums to what is on the shelf
    assert list(
        StockMovement.objects.filter(sku=sku, reason="adjust").values_list("delta", flat=True)
    ) == [10]
    assert StockMovement.objects.filter(sku=sku, reason="order", delta=-1).count() == 10
    assert _ledger_sum(sku) == 0


@pytest.mark.django_db(transaction=True)
def test_multi_unit_race_never_oversells():
    # given 10 units and 20 buyers who want 3 each
    seller = f.make_user("race-seller")
    shop = f.make_shop(owner=seller)
    sku = f.make_product(shop, price="12.50", stock=10).skus.get()
    buyers = _buyers(20)

    # when they race
    outcomes, elapsed = _race(buyers, lambda i: [{"sku_id": sku.pk, "quantity": 3}])
    print(f"\n20 buyers x 3 / 10 units on {connection.vendor}: {elapsed:.2f}s")

    # then 3 orders (9 units) succeed, 1 unit is left, nobody got a partial order
    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 3, "out_of_stock": 17}, [o for o in outcomes if o[0] == "error"][:3]
    assert StockLevel.objects.get(sku=sku).quantity == 1
    assert list(OrderLine.objects.values_list("quantity", flat=True)) == [3, 3, 3]
    assert Order.objects.count() == 3
    assert _ledger_sum(sku) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sku_race_in_opposite_line_order_neither_deadlocks_nor_oversells():
    # given two SKUs of two shops (A: 10 units, B: 20 units) and 30 buyers who
    # list them in opposite orders, so a naive lock order would deadlock
    a = f.make_product(f.make_shop(owner=f.make_user("race-a")), price="5.00", stock=10).skus.get()
    b = f.make_product(f.make_shop(owner=f.make_user("race-b")), price="7.00", stock=20).skus.get()
    buyers = _buyers(30)

    def lines(i):
        pair = [{"sku_id": a.pk, "quantity": 1}, {"sku_id": b.pk, "quantity": 1}]
        return pair if i % 2 else pair[::-1]

    # when they race
    outcomes, elapsed = _race(buyers, lines)
    print(f"\n30 buyers x 2 SKUs on {connection.vendor}: {elapsed:.2f}s")

    # then 10 checkouts (each two orders, one per shop) succeed; A is sold out, B half
    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 10, "out_of_stock": 20}, [o for o in outcomes if o[0] == "error"][:3]
    assert all(len(o[1]) == 2 for o in outcomes if o[0] == "ok")
    assert StockLevel.objects.get(sku=a).quantity == 0
    assert StockLevel.objects.get(sku=b).quantity == 10
    assert Order.objects.count() == 20
    assert Payment.objects.count() == 10
    assert (_ledger_sum(a), _ledger_sum(b)) == (0, 10)


def test_stock_check_constraint_refuses_negative_stock(db):
    # given a SKU with 5 units
    sku = f.make_product(f.make_shop(), price="1.00", stock=5).skus.get()
    level = StockLevel.objects.filter(sku=sku)

    # when code bypasses the conditional update and writes a negative quantity
    with pytest.raises(IntegrityError), transaction.atomic():
        level.update(quantity=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        level.update(quantity=F("quantity") - 6)

    # then the database refused it and nothing changed
    assert level.get().quantity == 5
    # while taking exactly what is there is fine
    level.update(quantity=F("quantity") - 5)
    assert level.get().quantity == 0
