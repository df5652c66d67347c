"""The fee rule's other branches, through checkout: by volume, free shipping by
quantity, a free-shipping rule limited to some provinces, and a SKU without a
weight on a weight template (it pays the first fee)."""

from decimal import Decimal

import pytest

from shopyard.catalog.services import update_product
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from tests import factories as f

pytestmark = pytest.mark.django_db


def _fee(shopper, address, product, quantity) -> Decimal:
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": product.skus.get().pk, "quantity": quantity}])
    return Order.objects.get(pk=placed.order_ids[0]).shipping_fee


def _set_volume(shop, product, volume):
    sku = product.skus.get()
    update_product(actor=shop.members.first().user, shop=shop, product_id=product.pk, data={
        "category_id": product.category_id, "title": product.title, "title_en": product.title_en,
        "skus": [{"code": sku.code, "price": str(sku.price), "stock": 10, "options": [], "volume": volume}]})


def test_by_volume_counts_sku_volume_times_quantity(shop, shopper, address):
    # 3 × 0.004 m³ = 0.012 m³: first 0.005 m³ ¥15, then ⌈0.007 ÷ 0.005⌉ = 2 steps of ¥6
    item = f.make_product(shop, price="20.00")
    _set_volume(shop, item, "0.004")
    f.make_freight_template(shop, name="大件", basis="volume", first_units="0.005", first_fee="15.00",
                            additional_units="0.005", additional_fee="6.00", products=[item])

    assert _fee(shopper, address, item, 3) == Decimal("27.00")


def test_free_shipping_by_quantity(shop, shopper, address):
    item = f.make_product(shop, price="5.00")
    f.make_freight_template(shop, free_rules=[{"kind": "quantity", "threshold": "4"}], products=[item])

    assert (_fee(shopper, address, item, 3), _fee(shopper, address, item, 4)) == (Decimal("20.00"), Decimal("0.00"))


def test_a_regional_free_shipping_rule_applies_to_its_provinces_only(shop, shopper, address):
    # free from ¥50 in 浙江 only: ¥60 of goods ships free there, not to 新疆
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, free_rules=[{"kind": "amount", "threshold": "50", "provinces": ["330000"]}],
                            products=[item])
    xinjiang = f.make_address(shopper, **f.XINJIANG)

    assert (_fee(shopper, address, item, 3), _fee(shopper, xinjiang, item, 3)) == (Decimal("0.00"), Decimal("20.00"))


def test_a_sku_without_weight_pays_the_first_fee(shop, shopper, address):
    item = f.make_product(shop, price="20.00")
    f.make_freight_template(shop, name="重货", basis="weight", first_units="1", first_fee="12.00",
                            additional_units="0.5", additional_fee="3.00", products=[item])

    assert _fee(shopper, address, item, 5) == Decimal("12.00")
