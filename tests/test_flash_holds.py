"""Flash purchases answered before their order exists: with Redis and a task
broker, a buyer who gets units is told so at once (202 and a hold token), and
a worker makes the order from the hold. Here the broker is Celery's in-memory
one with nobody consuming it (a worker not there yet, or a lost message); the
tests play the worker by calling the task, or let the periodic sweep do it.
Redis path only: skipped where REDIS_URL is unset (CI's PostgreSQL+Redis
stage runs them); tests/test_celery_worker.py runs a real worker."""

import queue
import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from shopyard.accounts.models import Address
from shopyard.checkout.flash import HeldPurchase, buy_flash, place_held, place_stale_holds
from shopyard.checkout.tasks import drain_held_flash_orders, place_held_flash_order
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.promotions import flash_store
from shopyard.promotions.models import FlashPurchaseCount, FlashReservation, FlashSaleItem
from tests import factories as f


def _hold(api, item, token, address, **headers):
    return api.post(f"/flash/items/{item.pk}/buy", {"address_id": address.pk, "quantity": 1}, token=token,
                    headers=headers)


def _item(shop, sku, units=3, limit=1):
    return f.make_flash_sale(shop, [(sku, "19.90", units, limit)]).items.get()


def test_a_buyer_gets_a_hold_at_once_and_the_worker_makes_the_order(db, workers_make_orders, api, shop, sku,
                                                                     shopper_token, address):
    item = _item(shop, sku)
    normal = StockLevel.objects.get(sku=sku).quantity
    # when the buyer buys, the answer comes before any order or database reservation exists
    r = _hold(api, item, shopper_token, address)
    assert r.status_code == 202, r.json()
    body = r.json()
    assert body["status"] == "pending" and body["checkout"] is None and len(body["hold"]) == 32
    assert flash_store.left(item.pk) == 2
    assert Order.objects.count() == 0 and FlashReservation.objects.count() == 0
    assert FlashSaleItem.objects.get(pk=item.pk).available == 3
    assert api.get(f"/flash/holds/{body['hold']}", token=shopper_token).json()["status"] == "pending"

    # when a worker runs the task, the order is made at the flash price from the hold
    assert place_held_flash_order(body["hold"]) is True
    polled = api.get(f"/flash/holds/{body['hold']}", token=shopper_token).json()
    assert polled["status"] == "ordered"
    [order] = polled["checkout"]["orders"]
    # ¥19.90 flash price + ¥10.00 shipping (free only from ¥199)
    assert order["total"] == "29.90" and polled["checkout"]["payment"]["amount"] == "29.90"
    row = FlashReservation.objects.get(token=body["hold"])
    assert row.status == "ordered" and row.order.number == order["number"]
    assert FlashSaleItem.objects.get(pk=item.pk).available == 2
    assert StockLevel.objects.get(sku=sku).quantity == normal  # normal stock untouched
    assert flash_store.held(body["hold"]) is None

    # and a second delivery of the same task makes nothing more
    assert place_held_flash_order(body["hold"]) is False
    assert Order.objects.count() == 1 and FlashSaleItem.objects.get(pk=item.pk).available == 2


def test_a_hold_is_its_buyers_alone(db, workers_make_orders, api, shop, sku, shopper_token, address,
                                    other_shopper):
    item = _item(shop, sku)
    hold = _hold(api, item, shopper_token, address).json()["hold"]
    other = f.token_for(other_shopper)
    for token in (hold, "0" * 32, "x" * 65):
        r = api.get(f"/flash/holds/{token}", token=other)
        assert r.status_code in (404, 422), r.json()
    assert api.get(f"/flash/holds/{hold}").status_code == 401
    assert api.get(f"/flash/holds/{hold}", token=shopper_token).status_code == 200


def test_a_retried_request_with_the_same_key_gets_the_same_hold_and_units_are_taken_once(
        db, workers_make_orders, api, shop, sku, shopper_token, address):
    item = _item(shop, sku, units=3, limit=2)
    first = _hold(api, item, shopper_token, address, HTTP_IDEMPOTENCY_KEY="tap-1")
    again = _hold(api, item, shopper_token, address, HTTP_IDEMPOTENCY_KEY="tap-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["hold"] == again.json()["hold"]
    assert flash_store.left(item.pk) == 2
    place_held(token=first.json()["hold"])
    # once the order exists, the same key answers with it (200, a replay), holding nothing
    replayed = _hold(api, item, shopper_token, address, HTTP_IDEMPOTENCY_KEY="tap-1")
    assert replayed.status_code == 200, replayed.json()
    assert Order.objects.count() == 1 and flash_store.left(item.pk) == 2
    # a new key is a new purchase, within the limit of 2
    assert _hold(api, item, shopper_token, address, HTTP_IDEMPOTENCY_KEY="tap-2").status_code == 202
    assert _hold(api, item, shopper_token, address, HTTP_IDEMPOTENCY_KEY="tap-3").status_code == 409
    assert flash_store.left(item.pk) == 1


def test_a_hold_asks_redis_once_about_sold_out_and_reads_a_live_item_once_per_process(
        db, workers_make_orders, api, shop, sku, shopper_token, address, other_shopper, monkeypatch):
    """The stroke of the hour: every attempt that reaches Django costs one sold-out
    question (none when the WSGI gate already asked) and, once the item of the live
    session is known to the process, no query for it."""
    from django.test.utils import CaptureQueriesContext

    from shopyard.promotions import flash_gate

    item = _item(shop, sku, units=3, limit=1)
    asked = []
    real = flash_store.sold_out
    monkeypatch.setattr(flash_store, "sold_out", lambda item_id: asked.append(item_id) or real(item_id))
    with CaptureQueriesContext(connection) as first:
        assert _hold(api, item, shopper_token, address).status_code == 202
    other_address = f.make_address(other_shopper)
    with CaptureQueriesContext(connection) as second:
        assert _hold(api, item, f.token_for(other_shopper), other_address).status_code == 202
    assert asked == [item.pk, item.pk]
    def item_reads(queries):
        return [q["sql"] for q in queries if 'FROM "promotions_flashsaleitem"' in q["sql"]]

    assert item_reads(first) and not item_reads(second)
    # behind the gate (which asked already), Django asks nobody
    third = f.make_user("third")
    r = api.post(f"/flash/items/{item.pk}/buy", {"address_id": f.make_address(third).pk, "quantity": 1},
                 token=f.token_for(third), headers={flash_gate.CHECKED: True})
    assert r.status_code == 202 and asked == [item.pk, item.pk]
    assert flash_store.left(item.pk) == 0


def test_refusals_come_at_once_with_nothing_held(db, workers_make_orders, api, shop, sku, shopper_token, address,
                                                 other_shopper):
    item = _item(shop, sku, units=1)
    theirs = f.make_address(other_shopper)
    r = _hold(api, item, shopper_token, theirs)
    assert r.status_code == 404 and r.json()["fields"] == {"address_id": ["Choose one of your addresses."]}
    assert flash_store.all_held() == {} and flash_store.left(item.pk) in (None, 1)
    assert _hold(api, item, shopper_token, address).status_code == 202
    assert _hold(api, item, f.token_for(other_shopper), theirs).json()["code"] == "sold_out"
    assert len(flash_store.all_held()) == 1


def test_when_the_order_cannot_be_made_the_hold_fails_with_the_reason_and_the_units_come_back(
        db, workers_make_orders, api, shop, sku, shopper_token, address, shopper, django_capture_on_commit_callbacks):
    item = _item(shop, sku, units=1)
    hold = _hold(api, item, shopper_token, address, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["hold"]
    assert flash_store.left(item.pk) == 0
    # given the address is gone by the time the worker runs
    Address.objects.filter(pk=address.pk).delete()
    with django_capture_on_commit_callbacks(execute=True):  # a worker runs outside any transaction
        assert place_held_flash_order(hold) is False
    polled = api.get(f"/flash/holds/{hold}", token=shopper_token).json()
    assert polled["status"] == "failed"
    assert polled["error"]["code"] == "not_found"
    assert polled["error"]["fields"] == {"address_id": ["请选择您的收货地址。"]}  # the buyer's language
    # then the unit is back for sale, in Redis and the database, and the buyer may try again
    assert flash_store.left(item.pk) == 1
    assert FlashSaleItem.objects.get(pk=item.pk).available == 1
    assert FlashPurchaseCount.objects.filter(user=shopper, quantity__gt=0).count() == 0
    assert Order.objects.count() == 0
    new_address = f.make_address(shopper)
    assert _hold(api, item, shopper_token, new_address).status_code == 202


def test_the_periodic_sweep_makes_the_orders_of_lost_holds_once(db, workers_make_orders, api, shop, sku,
                                                                shopper_token, address):
    item = _item(shop, sku)
    hold = _hold(api, item, shopper_token, address).json()["hold"]
    # a fresh hold is the worker's: the sweep leaves it alone
    assert place_stale_holds() == 0 and Order.objects.count() == 0
    # one whose task never came is made by the sweep, once
    later = timezone.now() + timedelta(seconds=31)
    assert place_stale_holds(now=later) == 1
    assert place_stale_holds(now=later) == 0
    assert Order.objects.count() == 1
    assert api.get(f"/flash/holds/{hold}", token=shopper_token).json()["status"] == "ordered"


def test_holds_publish_one_drain_per_batch_and_the_drain_makes_each_order_once(db, workers_make_orders, api, shop,
                                                                                sku):
    from celery.signals import before_task_publish

    item = _item(shop, sku, units=5)
    buyers = [f.make_user() for _ in range(4)]
    published = []

    def record(sender=None, **_kwargs):
        published.append(sender)

    before_task_publish.connect(record)
    try:
        # when three buyers get a unit before any worker ran, one drain task carries all three
        holds = [_hold(api, item, f.token_for(b), f.make_address(b)).json()["hold"] for b in buyers[:3]]
        assert published == ["shopyard.checkout.tasks.drain_held_flash_orders"]
        assert Order.objects.count() == 0
        # then the worker's drain makes the three orders
        assert drain_held_flash_orders() == 3
        assert Order.objects.count() == 3 and flash_store.queued() == 0
        for buyer, hold in zip(buyers, holds, strict=False):
            assert api.get(f"/flash/holds/{hold}", token=f.token_for(buyer)).json()["status"] == "ordered"
        # a hold after that drain started publishes the next drain
        last = _hold(api, item, f.token_for(buyers[3]), f.make_address(buyers[3])).json()["hold"]
        assert len(published) == 2
    finally:
        before_task_publish.disconnect(record)
    # and a drain delivered twice, or the per-hold task after it, makes nothing more
    assert drain_held_flash_orders() == 1
    assert drain_held_flash_orders() == 0
    assert place_held_flash_order(last) is False
    assert Order.objects.count() == 4 and FlashSaleItem.objects.get(pk=item.pk).available == 1
    assert flash_store.all_held() == {}


def test_failed_holds_are_dropped_after_a_day(db, workers_make_orders, api, shop, sku, shopper_token, address):
    item = _item(shop, sku)
    hold = _hold(api, item, shopper_token, address).json()["hold"]
    Address.objects.filter(pk=address.pk).delete()
    place_held(token=hold)
    assert flash_store.held(hold)["failed"]["code"] == "not_found"
    assert place_stale_holds(now=timezone.now() + timedelta(hours=23)) == 0 and flash_store.held(hold)
    place_stale_holds(now=timezone.now() + timedelta(hours=25))
    assert flash_store.held(hold) is None


@pytest.mark.django_db(transaction=True)
def test_a_thousand_buyers_hold_a_hundred_units_and_racing_workers_make_each_order_once(workers_make_orders,
                                                                                        settings):
    settings.MAX_UNPAID_ORDERS = 10
    sku, item = f.make_flash_race_item()
    buyers = f.make_flash_buyers(1000)

    # when 1,000 buyers try at once on 16 threads
    work = queue.Queue()
    for attempt in buyers:
        work.put(attempt)
    outcomes = []
    barrier = threading.Barrier(16)

    def buy():
        try:
            barrier.wait(timeout=60)
            while True:
                try:
                    user, address_id = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = buy_flash(actor=user, item_id=item.pk, quantity=1, address_id=address_id)
                    outcomes.append(("held", result.token) if isinstance(result, HeldPurchase) else ("other", result))
                except Exception as exc:
                    outcomes.append((getattr(exc, "code", repr(exc)), None))
        finally:
            connection.close()

    _run(buy, 16)
    kinds = Counter(kind for kind, _token in outcomes)
    assert kinds == {"held": 100, "sold_out": 900}, kinds
    tokens = [token for kind, token in outcomes if kind == "held"]

    # and four workers race through every hold (each hold is delivered to all of them),
    # while two more drain the queue of holds
    def work_all():
        try:
            for token in tokens:
                place_held_flash_order(token)
        finally:
            connection.close()

    def drain():
        try:
            drain_held_flash_orders()
        finally:
            connection.close()

    _run_all([work_all] * 4 + [drain] * 2)
    # then exactly 100 orders, one per buyer, at the flash price; flash stock 0, normal stock untouched
    assert Order.objects.count() == 100
    assert max(r["n"] for r in Order.objects.values("user_id").annotate(n=Count("id"))) == 1
    assert set(Order.objects.values_list("total", flat=True)) == {Decimal("9.90")}
    assert FlashReservation.objects.filter(status="ordered").count() == 100 == FlashReservation.objects.count()
    assert FlashPurchaseCount.objects.aggregate(s=Sum("quantity"))["s"] == 100
    assert FlashSaleItem.objects.get(pk=item.pk).available == 0
    assert StockLevel.objects.get(sku=sku).quantity == 50
    assert flash_store.left(item.pk) == 0 and flash_store.all_held() == {}


def _run(target, n):
    _run_all([target] * n)


def _run_all(targets):
    threads = [threading.Thread(target=target) for target in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"


def test_the_storefront_shopper_waits_on_a_page_that_opens_the_payment_once_the_order_exists(
        db, workers_make_orders, client, shop, sku, shopper, address, other_shopper):
    item = _item(shop, sku)
    client.force_login(shopper)
    # when the shopper taps buy, they land on a page that reloads itself until the order exists
    r = client.post(f"/flash/{item.pk}/buy/", {"quantity": "1", "token": "form-1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 302 and r["Location"].startswith("/flash/holds/")
    waiting = client.get(r["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert waiting.status_code == 200
    assert b'http-equiv="refresh"' in waiting.content and b"We are making your order now" in waiting.content
    # then, once a worker made it, the same page opens the payment
    token = r["Location"].rstrip("/").rsplit("/", 1)[1]
    place_held_flash_order(token)
    done = client.get(r["Location"])
    assert done.status_code == 302 and "/pay/" in done["Location"]
    # another shopper cannot look at it
    client.force_login(other_shopper)
    assert client.get(r["Location"]).status_code == 404
