"""The rule issue 7 names first: the price a shopper sees on the product page,
in the cart and at checkout is exactly what checkout charges, for every
promotion kind and every combination docs/promotions.md describes.

Each scenario sets up promotions and a basket; the test then compares, line by
line and in total, the cart page's pricing (cart_view), the buy-now page's, and
the product page's one-unit price with the orders place_order writes."""

import pytest

from shopyard.cart.queries import cart_view
from shopyard.cart.services import add_line, get_cart
from shopyard.checkout.buy_now import buy_now_view
from shopyard.checkout.pricing import unit_prices
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from shopyard.promotions.kinds import Kind
from tests import factories as f

pytestmark = pytest.mark.django_db


def tiers(*pairs, **extra):
    return {"tiers": [{"threshold": t, "amount_off": o} for t, o in pairs], **extra}


# name -> (promotions [(owner, kind, rules, scope)], basket [(shop, price, qty)])
# owner: "a" / "b" for the two shops, None for the platform; scope "first" limits it to the basket's first SKU
SCENARIOS = {
    "time discount %": ([("a", Kind.TIME_DISCOUNT, {"percent_off": "15"}, "all")], [("a", "99.90", 3)]),
    "time discount fixed price": ([("a", Kind.TIME_DISCOUNT, {"price": "59.00"}, "all")],
                                  [("a", "89.00", 2), ("a", "39.00", 1)]),
    "spend tiers": ([("a", Kind.SPEND_TIERS, tiers(("200", "20"), ("400", "50")), "all")],
                    [("a", "150.00", 1), ("a", "100.00", 1), ("a", "200.00", 1)]),
    "spend tiers %": ([("a", Kind.SPEND_TIERS, {"tiers": [{"threshold": "300", "percent_off": "12.5"}]}, "all")],
                      [("a", "33.33", 10)]),
    "spend tiers repeated with cap": ([("a", Kind.SPEND_TIERS, tiers(("100", "15"), repeat=True, cap="40"), "all")],
                                      [("a", "70.00", 5)]),
    "time discount then tiers": ([("a", Kind.TIME_DISCOUNT, {"percent_off": "10"}, "first"),
                                  ("a", Kind.SPEND_TIERS, tiers(("200", "20")), "all")],
                                 [("a", "120.00", 1), ("a", "100.00", 1)]),
    "two exclusive tiers": ([("a", Kind.SPEND_TIERS, tiers(("200", "25")), "all"),
                             ("a", Kind.SPEND_TIERS, {"tiers": [{"threshold": "300", "percent_off": "10"}]}, "all")],
                            [("a", "100.00", 3)]),
    "overlapping time discounts": ([("a", Kind.TIME_DISCOUNT, {"percent_off": "10"}, "all"),
                                    ("a", Kind.TIME_DISCOUNT, {"percent_off": "30"}, "first")],
                                   [("a", "100.00", 1), ("a", "100.00", 1)]),
    "shop and cross-shop tiers": ([("a", Kind.TIME_DISCOUNT, {"percent_off": "10"}, "first"),
                                   ("a", Kind.SPEND_TIERS, tiers(("200", "20")), "all"),
                                   (None, Kind.CROSS_SHOP_TIERS, tiers(("250", "30")), "all")],
                                  [("a", "150.00", 1), ("a", "100.00", 1), ("b", "80.00", 1)]),
    "platform time discount across shops": ([(None, Kind.TIME_DISCOUNT, {"percent_off": "5"}, "all")],
                                            [("a", "19.99", 3), ("b", "0.99", 7)]),
    "discount to zero": ([("a", Kind.TIME_DISCOUNT, {"percent_off": "100"}, "all"),
                          ("a", Kind.SPEND_TIERS, tiers(("0", "5")), "all")], [("a", "10.00", 1)]),
    "second item half price": ([("a", Kind.MULTI_BUY, {"nth": 2, "percent_off": "50"}, "all")],
                               [("a", "89.00", 3), ("a", "59.90", 1)]),
    "two items 10 % off, then tiers": ([("a", Kind.MULTI_BUY, {"min_quantity": 2, "percent_off": "10"}, "all"),
                                        ("a", Kind.SPEND_TIERS, tiers(("150", "15")), "all")],
                                       [("a", "45.00", 2), ("a", "80.00", 1)]),
    "any three for 99": ([("a", Kind.BUNDLE_PRICE, {"count": 3, "price": "99.00"}, "all")],
                         [("a", "45.00", 1), ("a", "40.00", 1), ("a", "30.00", 1), ("a", "25.00", 1)]),
    "gift over 199": ([("a", Kind.GIFT, lambda skus, gift: {"threshold": "199", "gift_sku_id": gift.pk}, "all")],
                      [("a", "120.00", 2)]),
    "add-on over 100": ([("a", Kind.ADD_ON, lambda skus, gift: {"threshold": "100", "sku_id": skus[-1][0].pk,
                                                                 "price": "9.90"}, "all")],
                        [("a", "120.00", 1), ("a", "30.00", 1)]),
    "shop coupon after tiers": ([("a", Kind.SPEND_TIERS, tiers(("200", "20")), "all"),
                                 ("a", Kind.SHOP_COUPON, {"threshold": "150", "amount_off": "15"}, "all"),
                                 (None, Kind.PLATFORM_COUPON, {"threshold": "100", "amount_off": "8"}, "all")],
                                [("a", "130.00", 1), ("a", "110.00", 1), ("b", "60.00", 1)]),
}


@pytest.fixture
def shops(seller):
    a = f.make_shop("星河数码", owner=seller, shipping_fee="10.00", free_shipping_over="199.00")
    b = f.make_shop("青木家居", owner=f.make_user(), shipping_fee="8.00")
    return {"a": a, "b": b}


def build(shops, name, shopper):
    promotions, basket = SCENARIOS[name]
    skus = [(f.make_product(shops[owner], price=price, stock=50).skus.get(), qty) for owner, price, qty in basket]
    gift = f.make_product(shops["a"], price="25.00", stock=50).skus.get()  # what a 满赠 gives
    for owner, kind, rules, scope in promotions:
        shop = shops[owner] if owner else None
        if kind in (Kind.SHOP_COUPON, Kind.PLATFORM_COUPON):
            f.give_coupon(shopper, f.make_coupon_template(shop, **rules))
            continue
        targets = {"scope": "skus", "target_ids": [skus[0][0].pk]} if scope == "first" else {}
        f.make_promotion(shop, kind, rules(skus, gift) if callable(rules) else rules, **targets)
    return skus


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_cart_shows_what_checkout_charges(name, shops, shopper, address):
    skus = build(shops, name, shopper)
    cart = get_cart(user=shopper, create=True)
    for sku, qty in skus:
        add_line(cart=cart, sku_id=sku.pk, quantity=qty)
    shown = cart_view(cart)
    shown_lines = {v.line.sku_id: v.net_total.amount for g in shown.groups for v in g.lines}
    placed = place_order(actor=shopper, address_id=address.pk)
    orders = list(Order.objects.filter(pk__in=placed.order_ids).order_by("shop_id"))
    charged_lines = {line.sku_id: line.net_total for o in orders for line in o.lines.all() if not line.is_gift}
    assert charged_lines == shown_lines
    assert [o.total for o in orders] == [g.total.amount for g in shown.groups]
    assert placed.payment.amount == shown.total.amount
    for order in orders:
        assert order.total >= 0
        assert all(line.net_total >= 0 for line in order.lines.all())


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_buy_now_and_product_page_show_what_checkout_charges(name, shops, shopper, address):
    skus = build(shops, name, shopper)
    sku, qty = skus[0]
    # the product page's price is one unit bought alone
    one_unit = unit_prices([sku], user=shopper).prices[sku.pk]
    # the product page prices the lines alone (no freight, no fee): the same lines, to the cent
    page_lines = unit_prices([sku], user=shopper, shipping=False).prices[sku.pk].lines
    assert [(line.net_total, line.explain()) for line in page_lines] == [
        (line.net_total, line.explain()) for line in one_unit.lines]
    single = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    [single_order] = Order.objects.filter(pk__in=single.order_ids)
    assert single_order.lines.get(is_gift=False).net_total == one_unit.lines[0].net_total.amount
    assert single_order.total == one_unit.total.amount
    # the buy-now page (a coupon the first order used is no longer the shopper's to use)
    page = buy_now_view({"sku_id": sku.pk, "quantity": qty}, user=shopper)
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": qty}])
    [order] = Order.objects.filter(pk__in=placed.order_ids)
    assert order.total == page.total.amount


def test_every_scenario_is_in_the_docs():
    # docs/promotions.md lists each kind this file prices; a new kind needs both
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[3] / "docs" / "promotions.md").read_text()
    for kind in {k for promotions, _b in SCENARIOS.values() for _o, k, _r, _s in promotions}:
        # every kind a shop or the platform runs from its promotions or coupons is priced above
        assert Kind(kind).value in docs or str(Kind(kind).label).lower() in docs.lower(), kind
