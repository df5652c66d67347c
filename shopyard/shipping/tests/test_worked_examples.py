"""Each worked example of docs/shipping.md, placed through checkout, with the
figures the document gives (the shop: flat ¥10.00, free over ¥199.00)."""

from decimal import Decimal

import pytest

from shopyard.catalog.models import Sku
from shopyard.checkout.services import place_order
from shopyard.core.errors import ValidationFailed
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from tests import factories as f

PER_PIECE = {"name": "标准快递", "basis": "piece", "first_units": "1", "first_fee": "10.00",
             "additional_units": "1", "additional_fee": "5.00"}
HEAVY = {"name": "重货", "basis": "weight", "first_units": "1", "first_fee": "12.00",
         "additional_units": "0.5", "additional_fee": "3.00"}
REMOTE = {"provinces": ["650000", "150000"], "first_units": "1", "first_fee": "20.00",
          "additional_units": "1", "additional_fee": "10.00"}


def _checkout(shopper, address, *items):
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": product.skus.get().pk, "quantity": qty} for product, qty in items])
    [order] = Order.objects.filter(pk__in=placed.order_ids)
    return order


def test_example_1_by_piece(shop, shopper, address):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, **PER_PIECE, products=[item])

    order = _checkout(shopper, address, (item, 3))

    assert (order.subtotal, order.shipping_fee, order.total) == (Decimal("60.00"), Decimal("20.00"), Decimal("80.00"))


def test_example_2_by_weight(shop, shopper, address):
    item = f.make_product(shop, price="50.00", weight="0.8")
    f.make_freight_template(shop, **HEAVY, products=[item])

    order = _checkout(shopper, address, (item, 3))

    assert Sku.objects.get(product=item).weight == Decimal("0.800")
    assert (order.subtotal, order.shipping_fee, order.total) == (Decimal("150.00"), Decimal("21.00"), Decimal("171.00"))


def test_example_3_region_override(shop, shopper, address):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, **PER_PIECE, region_rules=[REMOTE], products=[item])
    xinjiang = f.make_address(shopper, **f.XINJIANG)

    far = _checkout(shopper, xinjiang, (item, 3))
    near = _checkout(shopper, address, (item, 3))

    assert xinjiang.province_code == "650000"
    assert (far.shipping_fee, far.total) == (Decimal("40.00"), Decimal("100.00"))
    assert (near.shipping_fee, near.total) == (Decimal("20.00"), Decimal("80.00"))


def test_example_4_free_shipping_threshold(shop, shopper, address):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, **PER_PIECE, free_rules=[{"kind": "amount", "threshold": "99.00"}],
                            products=[item])

    reached = _checkout(shopper, address, (item, 5))
    short = _checkout(shopper, address, (item, 4))

    assert (reached.subtotal, reached.shipping_fee, reached.total) == (Decimal("100.00"), Decimal("0.00"),
                                                                       Decimal("100.00"))
    assert (short.subtotal, short.shipping_fee, short.total) == (Decimal("80.00"), Decimal("25.00"), Decimal("105.00"))


def test_example_5_undeliverable_region_is_refused_and_nothing_is_written(shop, shopper, address):
    item = f.make_product(shop, price="20.00", stock=10)
    f.make_freight_template(shop, **PER_PIECE, undeliverable=["540000"], products=[item])
    tibet = f.make_address(shopper, **f.TIBET)

    with pytest.raises(ValidationFailed) as refused:
        _checkout(shopper, tibet, (item, 1))

    assert refused.value.fields == {"address_id": [f"{shop.name_en} does not deliver to 西藏自治区."]}
    assert str(refused.value.message) == "This shop does not deliver to 西藏自治区."
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert item.skus.get().stock.quantity == 10


def test_example_6_two_templates_and_a_product_without_one(shop, shopper, address):
    light = f.make_product(shop, price="20.00")
    heavy = f.make_product(shop, price="50.00", weight="0.8")
    plain = f.make_product(shop, price="30.00")
    f.make_freight_template(shop, **PER_PIECE, products=[light])
    f.make_freight_template(shop, **HEAVY, products=[heavy])

    order = _checkout(shopper, address, (light, 2), (heavy, 1), (plain, 1))

    assert (order.subtotal, order.shipping_fee, order.total) == (Decimal("120.00"), Decimal("37.00"),
                                                                 Decimal("157.00"))
