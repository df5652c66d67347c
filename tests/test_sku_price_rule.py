"""A SKU price is at least the currency's smallest unit and has no more
decimals than the currency: one rule (catalog.services.parse_price), asked by
the console product form and the seller API alike."""

from decimal import Decimal

import pytest

from shopyard.catalog.models import Product, Sku
from shopyard.catalog.services import create_product, parse_price
from shopyard.core.errors import ValidationFailed

from . import factories as f

pytestmark = pytest.mark.django_db

REFUSED = [
    ("0", "The price must be at least ¥0.01."),
    ("0.00", "The price must be at least ¥0.01."),
    ("0.001", "Use at most two decimal places."),
    ("0.009", "Use at most two decimal places."),
    ("9.999", "Use at most two decimal places."),
]


@pytest.mark.parametrize(("price", "message"), REFUSED)
def test_console_refuses_price(client, seller, shop, price, message):
    # given a seller filling in the product editor
    client.force_login(seller)
    category = f.make_category()
    # when the SKU price is zero or finer than a fen
    response = client.post("/console/products/new/", {
        "action": "save", "category_id": str(category.pk), "title": "衬衫", "sku_rows": "1",
        "sku-0-code": "SH-1", "sku-0-price": price, "sku-0-stock": "1", "sku-0-active": "1",
    })
    # then the form comes back with the message next to the price, and nothing is saved
    assert response.status_code == 422
    assert response.context["state"].rows[0].errors == {"price": [message]}
    assert Product.objects.filter(shop=shop).count() == 0
    assert Sku.objects.count() == 0


@pytest.mark.parametrize("price", ["0", "0.00", 0])
def test_api_refuses_zero_price(api, seller_token, shop, price):
    category = f.make_category()
    payload = {"category_id": category.pk, "title": "T", "skus": [{"code": "Z-1", "price": price, "stock": 1}]}
    response = api.post("/seller/products", payload, token=seller_token)
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["skus[0].price"]
    assert Product.objects.filter(shop=shop).count() == 0


@pytest.mark.parametrize("price", ["0.001", "1.005"])
def test_api_refuses_sub_fen_price(api, seller_token, shop, price):
    category = f.make_category()
    payload = {"category_id": category.pk, "title": "T", "skus": [{"code": "Z-1", "price": price, "stock": 1}]}
    response = api.post("/seller/products", payload, token=seller_token)
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["skus[0].price"]
    assert Product.objects.filter(shop=shop).count() == 0


def test_api_update_refuses_zero_price(api, seller_token, product):
    sku = product.skus.get()
    payload = {"category_id": product.category_id, "title": "T", "skus": [{"code": sku.code, "price": "0", "stock": 1}]}
    response = api.put(f"/seller/products/{product.pk}", payload, token=seller_token)
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["skus[0].price"]
    sku.refresh_from_db()
    assert sku.price == Decimal("59.90")


def test_smallest_unit_is_accepted(shop):
    product = f.make_product(shop, price="0.01")
    assert product.skus.get().price == Decimal("0.01")


def test_trailing_zeros_are_not_extra_decimals(shop):
    assert f.make_product(shop, price="12.500").skus.get().price == Decimal("12.5")


def test_whole_unit_currency(shop, seller):
    # a yen shop: no decimals at all, and 1 is the smallest price
    shop.currency = "JPY"
    shop.save(update_fields=["currency"])
    category = f.make_category()
    for price, message in [("0.5", "Use a whole amount: JPY has no smaller unit."),
                           ("100.50", "Use a whole amount: JPY has no smaller unit."),
                           ("0", "The price must be at least JP¥1.")]:
        with pytest.raises(ValidationFailed) as exc:
            create_product(actor=seller, shop=shop, data={
                "category_id": category.pk, "title": "茶碗", "skus": [{"code": f"JP-{price}", "price": price, "stock": 1}],
            })
        assert exc.value.fields == {"skus[0].price": [message]}
    assert Product.objects.filter(shop=shop).count() == 0
    assert f.make_product(shop, price="1500").skus.get().price == Decimal("1500")


@pytest.mark.parametrize("value", ["٣", "３", "²", "1e2", "NaN", "Infinity", "1_000", "-1", "", None, True])
def test_price_text_is_ascii_digits_only(value):
    errors = {}
    assert parse_price(value, "price", errors, currency="CNY") is None
    assert list(errors) == ["price"]
