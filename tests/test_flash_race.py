"""A flash sale never oversells, never undersells and holds the per-user limit
under real concurrency: 1,000 buyers race through checkout.buy_flash (reserve,
then place the order) for 100 units on the database path (conditional
UPDATEs; SQLite in the README's run, PostgreSQL in CI's) and on the Redis path
(the Lua gate; CI's PostgreSQL+Redis stage, skipped only when REDIS_URL is unset)."""

import queue
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from shopyard.checkout.flash import buy_flash
from shopyard.core.errors import DomainError
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order, OrderLine
from shopyard.payments.models import Payment
from shopyard.promotions import flash_store
from shopyard.promotions.models import FlashPurchaseCount, FlashReservation, FlashSaleItem

from . import factories as f

THREADS = 16


def _race(attempts, item):
    """Run `attempts` [(user, address_id)] on THREADS threads started together; returns outcomes, seconds."""
    work = queue.Queue()
    for i, attempt in enumerate(attempts):
        work.put((i, attempt))
    outcomes = [None] * len(attempts)
    barrier = threading.Barrier(THREADS)

    def run():
        try:
            barrier.wait(timeout=60)
            while True:
                try:
                    i, (user, address_id) = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    placed = buy_flash(actor=user, item_id=item.pk, quantity=1, address_id=address_id)
                    outcomes[i] = ("ok", placed.order_ids[0])
                except DomainError as exc:
                    outcomes[i] = (exc.code, exc.status)
                except Exception as exc:  # anything else is a bug: keep it for the assert message
                    outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a buyer thread hung"
    return outcomes, time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_a_thousand_buyers_race_for_a_hundred_units(flash_path, settings):
    settings.MAX_UNPAID_ORDERS = 10
    # given 100 flash units at ¥9.90 (limit 1 per buyer) set aside from 150 in stock
    sku, item = f.make_flash_race_item()
    buyers = f.make_flash_buyers(1000)
    assert StockLevel.objects.get(sku=sku).quantity == 50

    # when 1,000 buyers try at once
    outcomes, elapsed = _race(buyers, item)
    print(f"\n1000 buyers / 100 flash units on {connection.vendor} ({flash_path}): {elapsed:.2f}s")

    # then exactly 100 orders, the rest a clear "sold out"
    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 100, "sold_out": 900}, [o for o in outcomes if o[0] not in ("ok", "sold_out")][:3]
    assert {o for o in outcomes if o[0] != "ok"} == {("sold_out", 409)}
    assert Order.objects.count() == 100 == Payment.objects.count()
    # nobody has two; every order is one unit at the flash price, made from its reservation
    per_user = Order.objects.values("user_id").annotate(n=Count("id"))
    assert max(row["n"] for row in per_user) == 1
    assert OrderLine.objects.aggregate(q=Sum("quantity"))["q"] == 100
    assert set(Order.objects.values_list("total", flat=True)) == {Decimal("9.90")}
    ordered = FlashReservation.objects.filter(item=item, status="ordered")
    assert ordered.count() == 100 and not FlashReservation.objects.exclude(status="ordered").exists()
    assert set(ordered.values_list("order_id", flat=True)) == {o[1] for o in outcomes if o[0] == "ok"}
    assert FlashPurchaseCount.objects.filter(item=item).aggregate(s=Sum("quantity"))["s"] == 100
    # the flash stock is exactly empty; normal stock never moved during the sale
    assert FlashSaleItem.objects.get(pk=item.pk).available == 0
    assert StockLevel.objects.get(sku=sku).quantity == 50
    assert not StockMovement.objects.filter(sku=sku, reason="order").exists()
    if flash_path == "redis":
        assert flash_store.left(item.pk) == 0


@pytest.mark.django_db(transaction=True)
def test_one_buyer_firing_twenty_attempts_gets_exactly_the_limit(flash_path, settings):
    settings.MAX_UNPAID_ORDERS = 20
    seller = f.make_user("flash-seller")
    shop = f.make_shop(owner=seller, shipping_fee="0")
    sku = f.make_product(shop, price="99.00", stock=50).skus.get()
    item = f.make_flash_sale(shop, [(sku, "9.90", 50, 3)]).items.get()
    [(user, address_id)] = f.make_flash_buyers(1)

    outcomes, elapsed = _race([(user, address_id)] * 20, item)
    print(f"\n1 buyer x 20 attempts, limit 3, on {connection.vendor} ({flash_path}): {elapsed:.2f}s")

    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 3, "flash_limit_reached": 17}, [o for o in outcomes if o[0] == "error"][:3]
    assert Order.objects.filter(user=user).count() == 3
    assert FlashSaleItem.objects.get(pk=item.pk).available == 47
    assert FlashPurchaseCount.objects.get(item=item, user=user).quantity == 3
    if flash_path == "redis":
        assert flash_store.left(item.pk) == 47
