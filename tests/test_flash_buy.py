"""Buying in a flash sale over the API and the storefront: the order is made
from the reservation at the flash price without touching normal stock; the
sold-out answer costs no database query; every refusal is a clear 4xx with
nothing held; unpaid flash orders time out sooner and a cancelled one gives
its unit back exactly once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shopyard.core.errors import Conflict
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order, OrderAdjustment, OrderLine
from shopyard.orders.services import cancel_by_buyer
from shopyard.payments.models import Payment
from shopyard.promotions import flash
from shopyard.promotions.flash_gate import wrap
from shopyard.promotions.models import (
    FlashPurchaseCount,
    FlashReservation,
    FlashSale,
    FlashSaleItem,
)
from tests import factories as f


@pytest.fixture
def item(shop, sku):
    """3 flash units at ¥19.90 (list ¥59.90), at most 1 per buyer; 7 left in normal stock."""
    return f.make_flash_sale(shop, [(sku, "19.90", 3, 1)]).items.get()


def _buy(api, item, token, address, **extra):
    body = {"address_id": address.pk, "quantity": 1, **extra.pop("body", {})}
    return api.post(f"/flash/items/{item.pk}/buy", body, token=token, **extra)


def _held(item):
    item.refresh_from_db()
    return item.available, FlashReservation.objects.filter(item=item).exclude(status="released").count()


def _normal_stock(sku):
    return StockLevel.objects.get(sku=sku).quantity


def test_buying_makes_an_order_at_the_flash_price_from_flash_stock(db, flash_path, api, item, sku, shopper,
                                                                   shopper_token, address):
    r = _buy(api, item, shopper_token, address)
    assert r.status_code == 201, r.json()
    [order] = r.json()["orders"]
    # ¥19.90 instead of ¥59.90, plus the shop's ¥10 fee (free only from ¥199)
    assert (order["total"], r.json()["payment"]["amount"]) == ("29.90", "29.90")
    assert Payment.objects.get().amount == Decimal("29.90")
    # the unit came from the flash stock; normal stock is untouched
    assert _held(item) == (2, 1)
    assert _normal_stock(sku) == 7
    reservation = FlashReservation.objects.get()
    assert (reservation.status, reservation.order_id, reservation.user_id) == ("ordered", order["id"], shopper.pk)
    # the line keeps its list price; the flash discount is an adjustment row the shop funds
    line = OrderLine.objects.get(order_id=order["id"])
    assert (line.unit_price, line.line_total, line.discount, line.net_total) == (
        Decimal("59.90"), Decimal("59.90"), Decimal("40.00"), Decimal("19.90"))
    [adjustment] = OrderAdjustment.objects.filter(order_id=order["id"])
    assert (adjustment.kind, adjustment.source, adjustment.source_id, adjustment.amount, adjustment.funded_by) == (
        "flash_sale", "flash", item.pk, Decimal("40.00"), "shop")


def test_a_platform_session_is_funded_by_the_platform(db, api, sku, shopper_token, address):
    item = f.make_flash_sale(None, [(sku, "29.90", 2, 1)]).items.get()
    r = _buy(api, item, shopper_token, address)
    assert r.status_code == 201, r.json()
    adjustment = OrderAdjustment.objects.get()
    assert (adjustment.amount, adjustment.funded_by) == (Decimal("30.00"), "platform")


def test_the_sold_out_answer_touches_no_database_before_or_after_authentication(db, flash_path, api, client, item,
                                                                               shopper_token, address):
    for n in range(3):
        buyer = f.make_user(f"fast{n}")
        assert _buy(api, item, f.token_for(buyer), f.make_address(buyer)).status_code == 201
    assert _buy(api, item, shopper_token, address).json()["code"] == "sold_out"  # learnt here (database path)

    with CaptureQueriesContext(connection) as queries:
        anonymous = api.post(f"/flash/items/{item.pk}/buy", {"address_id": address.pk, "quantity": 1})
        bad_token = api.post(f"/flash/items/{item.pk}/buy", {"address_id": address.pk}, token="not-a-token")
        buyer = _buy(api, item, shopper_token, address)
    assert [r.status_code for r in (anonymous, bad_token, buyer)] == [409, 409, 409]
    assert buyer.json() == {"code": "sold_out", "message": "This flash sale item is sold out.",
                            "fields": {"item_id": ["Sold out."]}}
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]
    assert _held(item) == (0, 3)


def test_the_wsgi_gate_answers_sold_out_before_django(db, flash_path, item, shopper, other_shopper):
    flash.reserve(actor=shopper, item_id=item.pk, quantity=1)
    flash.reserve(actor=other_shopper, item_id=item.pk, quantity=1)
    flash.reserve(actor=f.make_user("third"), item_id=item.pk, quantity=1)
    with pytest.raises(Conflict):  # the database path marks it sold out here
        flash.reserve(actor=f.make_user("fourth"), item_id=item.pk, quantity=1)
    reached = []

    def django_app(environ, start_response):
        reached.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return [b""]

    gate, answers = wrap(django_app), []

    def start_response(status, headers):
        answers.append((status, dict(headers)))

    def post(path, language="zh-CN,zh;q=0.9"):
        return b"".join(gate({"REQUEST_METHOD": "POST", "PATH_INFO": path, "HTTP_ACCEPT_LANGUAGE": language},
                             start_response))

    with CaptureQueriesContext(connection) as queries:
        body_zh = post(f"/api/v1/flash/items/{item.pk}/buy")
        body_en = post(f"/api/v1/flash/items/{item.pk}/buy", "en-GB")
        post("/api/v1/flash/items/999999/buy")  # not known to be sold out: Django answers
    assert len(queries) == 0
    assert [a[0] for a in answers] == ["409 Conflict", "409 Conflict", "204 No Content"]
    assert reached == ["/api/v1/flash/items/999999/buy"]
    assert b'"code": "sold_out"' in body_en and b'"code": "sold_out"' in body_zh
    assert [a[1]["Content-Language"] for a in answers[:2]] == ["zh-hans", "en"]


def test_the_per_user_limit_and_the_time_window_refuse_with_nothing_held(db, flash_path, api, shop, sku, item,
                                                                         shopper, shopper_token, address):
    assert _buy(api, item, shopper_token, address).status_code == 201
    again = _buy(api, item, shopper_token, address)
    assert (again.status_code, again.json()["code"]) == (409, "flash_limit_reached")
    too_many = _buy(api, item, shopper_token, address, body={"quantity": 2})
    assert (too_many.status_code, list(too_many.json()["fields"])) == (422, ["quantity"])
    assert _held(item) == (2, 1)

    other = f.make_product(shop, price="80.00", stock=5).skus.get()
    later = f.make_flash_sale(shop, [(other, "8.00", 2, 1)], starts_in_minutes=30).items.get()
    early = _buy(api, later, shopper_token, address)
    assert (early.status_code, early.json()["code"]) == (409, "flash_not_started")
    FlashSale.objects.filter(pk=later.sale_id).update(starts_at=timezone.now() - timedelta(hours=2),
                                                      ends_at=timezone.now() - timedelta(seconds=1))
    late = _buy(api, later, shopper_token, address)
    assert (late.status_code, late.json()["code"]) == (409, "flash_ended")
    assert _held(later) == (2, 0)
    assert Order.objects.count() == 1


def test_bad_input_and_foreign_ids_are_refused_with_nothing_held(db, flash_path, api, shop, sku, item,
                                                                 shopper_token, address, other_shopper):
    theirs = f.make_address(other_shopper)
    cases = [
        (api.post("/flash/items/999999/buy", {"address_id": address.pk}, token=shopper_token), 404),
        (_buy(api, item, shopper_token, theirs), 404),  # another buyer's address: reserved, then given back
        (_buy(api, item, shopper_token, address, body={"quantity": 0}), 422),
        (_buy(api, item, shopper_token, address, body={"quantity": "1"}), 422),
        (_buy(api, item, shopper_token, address, body={"address_id": "x"}), 422),
        (api.post(f"/flash/items/{item.pk}/buy", {"address_id": address.pk}), 401),
    ]
    assert [r.status_code for r, _want in cases] == [want for _r, want in cases], [r.json() for r, _w in cases]
    assert cases[1][0].json()["fields"] == {"address_id": ["Choose one of your addresses."]}
    draft = f.make_flash_sale(shop, [(sku, "9.90", 1, 1)], publish=False).items.get()
    assert _buy(api, draft, shopper_token, address).status_code == 404
    assert _held(item) == (3, 0)
    assert FlashPurchaseCount.objects.filter(quantity__gt=0).count() == 0
    assert Order.objects.count() == 0
    if flash_path == "db":  # reserved, then given back when placing the order refused the address
        assert FlashReservation.objects.get().release_reason == "placing the order failed"
    else:  # the Redis hold checks the address first: nothing was taken at all
        assert FlashReservation.objects.count() == 0


def test_a_retried_request_with_the_same_key_returns_the_first_order(db, flash_path, api, item, shopper_token,
                                                                     address):
    headers = {"HTTP_IDEMPOTENCY_KEY": "flash-1"}
    first = _buy(api, item, shopper_token, address, headers=headers)
    second = _buy(api, item, shopper_token, address, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["orders"][0]["id"] == first.json()["orders"][0]["id"]
    assert _held(item) == (2, 1)
    assert FlashReservation.objects.count() == 1


def test_unpaid_flash_orders_time_out_sooner_and_the_unit_returns_once(db, flash_path, settings, api, shop, item,
                                                                       sku, shopper, address,
                                                                       django_capture_on_commit_callbacks):
    settings.FLASH_UNPAID_TIMEOUT_MINUTES = 5
    from shopyard.checkout.flash import buy_flash
    from shopyard.checkout.services import place_order

    placed = buy_flash(actor=shopper, item_id=item.pk, quantity=1, address_id=address.pk)
    ordinary = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    order = Order.objects.get(pk=placed.order_ids[0])
    assert (_held(item), _normal_stock(sku)) == ((2, 1), 6)

    with django_capture_on_commit_callbacks(execute=True):
        assert flash.expire_unpaid_orders(now=order.placed_at + timedelta(minutes=4)) == 0
        assert flash.expire_unpaid_orders(now=order.placed_at + timedelta(minutes=5, seconds=1)) == 1
        assert flash.expire_unpaid_orders(now=order.placed_at + timedelta(minutes=10)) == 0
    order.refresh_from_db()
    assert order.status == "cancelled"
    # the unit is back in the flash stock once (job and order.cancelled subscriber alike);
    # the ordinary order still waits for the 30-minute timeout; normal stock gained nothing
    assert _held(item) == (3, 0)
    assert Order.objects.get(pk=ordinary.order_ids[0]).status == "pending_payment"
    assert _normal_stock(sku) == 6
    assert FlashPurchaseCount.objects.get(item=item, user=shopper).quantity == 0


def test_a_flash_order_cancelled_by_the_buyer_gives_its_unit_back_exactly_once(
        db, flash_path, api, item, sku, shopper, shopper_token, address, django_capture_on_commit_callbacks):
    r = _buy(api, item, shopper_token, address)
    order_id = r.json()["orders"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):  # order.cancelled is delivered after commit
        cancel_by_buyer(actor=shopper, order_id=order_id)
    assert _held(item) == (3, 0)
    assert flash.on_order_cancelled({"order_id": order_id}) == 0  # a second delivery changes nothing
    assert _held(item) == (3, 0)
    assert _normal_stock(sku) == 7
    # and the buyer may buy again
    assert _buy(api, item, shopper_token, address).status_code == 201
    if flash_path == "redis":
        assert flash.flash_store.left(item.pk) == 2


# --- storefront ------------------------------------------------------------------


def test_flash_page_lists_the_live_session_with_a_countdown_and_buys(db, client, item, shopper, address):
    page = client.get("/flash/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "¥19.90" in html and "¥59.90" in html and "3 left" in html
    assert 'class="pay-countdown" data-seconds="' in html and "Ends in" in html
    assert "countdown.js" in html
    client.force_login(shopper)
    r = client.post(f"/flash/{item.pk}/buy/", {"token": "page-1", "quantity": "1"})
    assert r.status_code == 302
    assert Order.objects.get().total == Decimal("29.90")
    again = client.post(f"/flash/{item.pk}/buy/", {"token": "page-2", "quantity": "1"})
    assert again.status_code == 409 and "at most 1" in again.content.decode()


def test_flash_page_keeps_the_button_shut_until_the_start_second(db, client, shop, sku):
    f.make_flash_sale(shop, [(sku, "19.90", 3, 1)], starts_in_minutes=30)
    html = client.get("/flash/").content.decode()
    assert "Starts in" in html and 'data-enables="[data-flash-buy]"' in html
    assert "data-flash-buy disabled" in html
    assert 'data-seconds="17' in html or 'data-seconds="18' in html  # about 1,800 seconds


def test_product_page_shows_the_flash_price_while_the_session_is_live(db, client, item, product):
    html = client.get(f.product_url(product)).content.decode()
    assert "Flash sale" in html and "¥19.90" in html and "3 left" in html
    FlashSaleItem.objects.filter(pk=item.pk).update(available=0)
    FlashSale.objects.filter(pk=item.sale_id).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert "flash-badge" not in client.get(f.product_url(product)).content.decode()


def test_the_public_listing_shows_prices_units_left_times_and_server_time(db, api, shop, item, sku, shopper):
    flash.reserve(actor=shopper, item_id=item.pk, quantity=1)
    later = f.make_flash_sale(shop, [(f.make_product(shop, price="30.00", stock=4).skus.get(), "15.00", 4, 2)],
                              starts_in_minutes=90)
    f.make_flash_sale(shop, [(f.make_product(shop, price="30.00", stock=4).skus.get(), "15.00", 4, 2)],
                      publish=False)  # a draft is never shown
    body = api.get("/flash/sessions").json()
    assert [s["id"] for s in body["sessions"]] == [item.sale_id, later.pk]
    live, upcoming = body["sessions"]
    assert (live["phase"], upcoming["phase"]) == ("live", "upcoming")
    [row] = live["items"]
    assert {k: row[k] for k in ("id", "list_price", "flash_price", "flash_stock", "left", "per_user_limit")} == {
        "id": item.pk, "list_price": "59.90", "flash_price": "19.90", "flash_stock": 3, "left": 2, "per_user_limit": 1}
    assert body["server_time"] and live["starts_at"] and live["ends_at"]
    assert api.get(f"/flash/items/{item.pk}").json()["left"] == 2
    # an item whose SKU can no longer be bought is not listed
    type(sku).objects.filter(pk=sku.pk).update(is_active=False)
    assert api.get("/flash/sessions").json()["sessions"][0]["items"] == []


def test_the_flash_page_form_refuses_bad_quantities_and_unknown_items(db, client, item, shopper, address):
    client.force_login(shopper)
    for quantity in ("²", "0", "abc", "2"):
        r = client.post(f"/flash/{item.pk}/buy/", {"token": f"q-{quantity}", "quantity": quantity})
        assert r.status_code == 422, quantity
    assert client.post("/flash/999999/buy/", {"token": "x", "quantity": "1"}).status_code == 404
    assert client.post(f"/flash/{2**64}/buy/", {"quantity": "1"}).status_code == 404
    assert _held(item) == (3, 0) and Order.objects.count() == 0


def test_a_flash_order_shows_and_keeps_the_shorter_time_to_pay(db, api, item, shopper_token, address):
    # the order's countdown and the API's pay_by say the flash timeout (5 minutes), and the
    # unpaid-order job itself cancels the order then: what the shopper is told is what happens
    from datetime import timedelta

    from shopyard.orders.models import Order
    from shopyard.orders.queries import payment_deadline
    from shopyard.orders.services import cancel_expired_unpaid_orders

    r = _buy(api, item, shopper_token, address)
    assert r.status_code == 201, r.json()
    [placed] = r.json()["orders"]
    order = Order.objects.get(pk=placed["id"])
    deadline = payment_deadline(order)
    assert deadline - order.placed_at == timedelta(minutes=5)
    assert api.get(f"/orders/{order.pk}", token=shopper_token).json()["pay_by"] == placed["pay_by"]
    assert cancel_expired_unpaid_orders(now=deadline - timedelta(seconds=1)) == 0
    assert cancel_expired_unpaid_orders(now=deadline + timedelta(seconds=1)) == 1
    order.refresh_from_db()
    assert order.status == "cancelled"
