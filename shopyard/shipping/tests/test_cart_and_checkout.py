"""Freight templates as the shopper meets them: the cart prices shipping for the
default address, checkout charges the same amount for that address, the chosen
address re-prices the checkout page, an undeliverable province is refused with
the message beside the shop's items, and a product without a template keeps the
shop's flat fee."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from shopyard.accounts.services import create_address
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from shopyard.promotions.kinds import Kind
from tests import factories as f

pytestmark = pytest.mark.django_db

REMOTE = {"provinces": ["650000"], "first_units": "1", "first_fee": "20.00",
          "additional_units": "1", "additional_fee": "10.00"}


def _add(api, token, sku, quantity):
    response = api.post("/cart/lines", {"sku_id": sku.pk, "quantity": quantity}, token=token)
    assert response.status_code == 201, response.content
    return response.json()


def _token(page) -> str:
    return re.search(r'name="token" value="([0-9a-f]+)"', page.content.decode()).group(1)


def test_cart_total_is_what_checkout_charges_for_the_default_address(api, shop, shopper, shopper_token):
    # given a default address in 新疆 (regional rule: ¥20 + ¥10 per further piece) and 3 pieces
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, region_rules=[REMOTE], products=[item])
    xinjiang = f.make_address(shopper, **f.XINJIANG)
    _add(api, shopper_token, item.skus.get(), 3)

    cart = api.get("/cart", token=shopper_token).json()
    placed = api.post("/orders", {"address_id": xinjiang.pk}, token=shopper_token)

    [group] = cart["groups"]
    assert (group["shipping_fee"], group["total"], cart["total"]) == ("40.00", "100.00", "100.00")
    assert group["shipping_estimated"] is False
    assert group["shipping_note"] == "标准快递: first 1 piece(s) ¥20.00, 2 more × ¥10.00 (regional rule)"
    assert placed.status_code == 201, placed.content
    payment = Payment.objects.get(user=shopper)
    assert payment.amount == Decimal(cart["total"])
    assert Order.objects.get(user=shopper).shipping_fee == Decimal("40.00")


def test_without_an_address_the_cart_estimates_and_checkout_prices_the_chosen_one(api, shop, shopper, shopper_token):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, region_rules=[REMOTE], products=[item])
    _add(api, shopper_token, item.skus.get(), 3)

    cart = api.get("/cart", token=shopper_token).json()
    xinjiang = f.make_address(shopper, **f.XINJIANG)
    api.post("/orders", {"address_id": xinjiang.pk}, token=shopper_token)

    # the estimate is the default rule (10 + 2 × 5); checkout charges 新疆's rule
    assert (cart["groups"][0]["shipping_fee"], cart["total"], cart["groups"][0]["shipping_estimated"]) == (
        "20.00", "80.00", True)
    assert Order.objects.get(user=shopper).shipping_fee == Decimal("40.00")


def test_a_product_without_a_template_keeps_the_shops_flat_fee(api, shop, shopper, shopper_token, address):
    # given another product of the shop uses a template, this one does not
    plain = f.make_product(shop, price="59.90")
    f.make_freight_template(shop, products=[f.make_product(shop, price="1.00")])
    _add(api, shopper_token, plain.skus.get(), 1)

    cart = api.get("/cart", token=shopper_token).json()
    api.post("/orders", {"address_id": address.pk}, token=shopper_token)

    [group] = cart["groups"]
    assert (group["shipping_fee"], group["total"], group["shipping_note"]) == ("10.00", "69.90", "")
    order = Order.objects.get(user=shopper)
    assert (order.shipping_fee, order.total) == (Decimal("10.00"), Decimal("69.90"))


def test_checkout_page_prices_the_picked_address_and_shows_the_rule(client, shop, shopper, address):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, region_rules=[REMOTE], products=[item])
    xinjiang = create_address(actor=shopper, data={**f.XINJIANG, "recipient": "李四", "phone": "13900139000",
                                                   "detail": "人民路 1 号", "postcode": "830000"})
    client.force_login(shopper)
    client.post(reverse("storefront:cart_add"), {"sku_id": item.skus.get().pk, "quantity": 3})

    near = client.get(reverse("storefront:checkout")).content.decode()
    far = client.get(reverse("storefront:checkout"), {"address_id": xinjiang.pk}).content.decode()

    assert "标准快递: first 1 piece(s) ¥10.00, 2 more × ¥5.00" in near
    assert re.search(r'id="checkout-total">\s*¥80\.00', near)
    assert "标准快递: first 1 piece(s) ¥20.00, 2 more × ¥10.00 (regional rule)" in far
    assert re.search(rf'value="{xinjiang.pk}"\s+checked', far)
    assert re.search(r'id="checkout-total">\s*¥100\.00', far)


def test_undeliverable_province_is_refused_on_the_page_beside_the_shops_items(client, shop, shopper, address):
    item = f.make_product(shop, price="20.00", stock=5)
    f.make_freight_template(shop, undeliverable=["540000"], products=[item])
    tibet = create_address(actor=shopper, data={**f.TIBET, "recipient": "李四", "phone": "13900139000",
                                                "detail": "北京中路 1 号", "postcode": "850000"})
    client.force_login(shopper)
    client.post(reverse("storefront:cart_add"), {"sku_id": item.skus.get().pk, "quantity": 1})
    page = client.get(reverse("storefront:checkout"))

    response = client.post(reverse("storefront:checkout"), {"address_id": tibet.pk, "token": _token(page)})

    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'class="alert-error undeliverable" role="alert">This shop does not deliver to 西藏自治区\.<', html)
    assert f"{shop.name_en} does not deliver to 西藏自治区." in html  # the address field's message
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert item.skus.get().stock.quantity == 5


def test_undeliverable_default_address_is_flagged_on_the_cart(api, shop, shopper, shopper_token):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, undeliverable=["540000"], products=[item])
    f.make_address(shopper, **f.TIBET)
    _add(api, shopper_token, item.skus.get(), 1)

    group = api.get("/cart", token=shopper_token).json()["groups"][0]

    assert group["undeliverable"] == "This shop does not deliver to 西藏自治区."


def test_undeliverable_buy_now_is_refused_through_the_api(api, shop, shopper, shopper_token):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, undeliverable=["540000"], products=[item])
    tibet = f.make_address(shopper, **f.TIBET)

    response = api.post("/orders", {"address_id": tibet.pk, "lines": [{"sku_id": item.skus.get().pk, "quantity": 1}]},
                        token=shopper_token)

    assert response.status_code == 422
    assert response.json() == {"code": "undeliverable_region", "message": "This shop does not deliver to 西藏自治区.",
                               "fields": {"address_id": [f"{shop.name_en} does not deliver to 西藏自治区."]}}
    assert not Order.objects.exists()


def test_free_shipping_by_amount_uses_the_goods_after_discounts(shop, shopper, address):
    # ¥100 of goods with a 10% limited-time discount is ¥90: under the ¥99 threshold
    from shopyard.checkout.services import place_order

    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, free_rules=[{"kind": "amount", "threshold": "99.00"}], products=[item])
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"})

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": item.skus.get().pk, "quantity": 5}])

    order = Order.objects.get(pk=placed.order_ids[0])
    assert (order.subtotal, order.discount_total, order.shipping_fee, order.total) == (
        Decimal("100.00"), Decimal("10.00"), Decimal("30.00"), Decimal("120.00"))


def _cart_queries(api, token) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert api.get("/cart", token=token).status_code == 200
    return len(queries)


def test_cart_queries_do_not_grow_with_the_number_of_templates(api, shop, shopper, shopper_token, address):
    # given one templated line, then four lines on four templates with regional and free rules
    first = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, name="T0", region_rules=[REMOTE], products=[first])
    _add(api, shopper_token, first.skus.get(), 1)
    one = _cart_queries(api, shopper_token)
    for i in range(1, 4):
        item = f.make_product(shop, price="20.00")
        f.make_freight_template(shop, name=f"T{i}", region_rules=[REMOTE], products=[item],
                                free_rules=[{"kind": "quantity", "threshold": "9"}])
        _add(api, shopper_token, item.skus.get(), 1)

    four = _cart_queries(api, shopper_token)

    assert four == one
    assert api.get("/cart", token=shopper_token).json()["groups"][0]["shipping_fee"] == "40.00"  # 4 × ¥10
