"""Multi-buy (第二件半价 / 2 件 9 折), any N for a fixed price (N 元任选), gifts (满赠)
and add-on deals (加价购): what they take off, how they stack with limited-time
discounts and spend-and-save tiers, that the cart shows what checkout charges,
and that bad rules are refused with nothing written."""

from decimal import Decimal

import pytest

from shopyard.cart.queries import cart_view
from shopyard.cart.services import add_line, get_cart
from shopyard.catalog.models import Sku
from shopyard.checkout.buy_now import buy_now_view
from shopyard.checkout.pricing import price_lines
from shopyard.checkout.services import place_order
from shopyard.core.errors import ValidationFailed
from shopyard.core.money import Money
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order, OrderAdjustment, OrderLine
from shopyard.promotions.kinds import DEFAULT_STACKS_WITH, STEP, Kind
from shopyard.promotions.models import Promotion
from shopyard.promotions.services import create_promotion, kinds_for, update_promotion
from tests import factories as f

pytestmark = pytest.mark.django_db


def cny(value):
    return Money(Decimal(value), "CNY")


def priced(*pairs, **kw):
    return price_lines([(sku, qty, i) for i, (sku, qty) in enumerate(pairs)], **kw)


def sku_of(shop, price, stock=20, **kw):
    return f.make_product(shop, price=price, stock=stock, **kw).skus.get()


def stock_of(sku):
    return StockLevel.objects.get(sku=sku).quantity


# --- multi-buy ------------------------------------------------------------------------

def test_second_item_half_price_takes_the_cheapest_of_each_pair(shop):
    # units by price, high to low: 100, 60, 60, 60 → the 2nd and 4th (both 60) are half price
    dear = sku_of(shop, "100.00")
    cheap = sku_of(shop, "60.00")
    f.make_promotion(shop, Kind.MULTI_BUY, {"nth": 2, "percent_off": "50"}, name="第二件半价")
    pricing = priced((dear, 1), (cheap, 3))
    assert [line.discount for line in pricing.lines] == [cny("0"), cny("60.00")]
    assert pricing.lines[1].explain("zh-hans") == "¥180.00 − ¥60.00 第二件半价"
    # one unit alone gets nothing
    assert priced((dear, 1)).lines[0].adjustments == []


def test_second_item_half_price_on_one_line_of_four(shop):
    sku = sku_of(shop, "99.90")
    f.make_promotion(shop, Kind.MULTI_BUY, {"nth": 2, "percent_off": "50"})
    [line] = priced((sku, 4)).lines  # units 2 and 4: 49.95 each
    assert line.discount == cny("99.90")
    assert line.net_total == cny("299.70")


def test_n_items_percent_off_once_the_quantity_is_reached(shop):
    a = sku_of(shop, "80.00")
    b = sku_of(shop, "45.50")
    f.make_promotion(shop, Kind.MULTI_BUY, {"min_quantity": 2, "percent_off": "10"})
    assert priced((a, 1)).lines[0].adjustments == []
    pricing = priced((a, 1), (b, 1))
    # 10 % per unit, rounded half up: 8.00 and 4.55
    assert [line.discount for line in pricing.lines] == [cny("8.00"), cny("4.55")]


def test_multi_buy_only_counts_units_in_its_scope(shop):
    star = f.make_product(shop, price="100.00", stock=20)
    other = sku_of(shop, "100.00")
    f.make_promotion(shop, Kind.MULTI_BUY, {"nth": 2, "percent_off": "50"}, scope="products", target_ids=[star.pk])
    pricing = priced((star.skus.get(), 1), (other, 1))
    assert [line.discount for line in pricing.lines] == [cny("0"), cny("0")]


# --- any N for a fixed price --------------------------------------------------------------

def test_any_three_for_99_bundles_the_dearest_units_and_splits_the_saving(shop):
    skus = [sku_of(shop, p) for p in ("50.00", "40.00", "30.00", "20.00", "10.00")]
    f.make_promotion(shop, Kind.BUNDLE_PRICE, {"count": 3, "price": "99.00"}, name="99元任选3件")
    pricing = priced(*[(s, 1) for s in skus])
    # 50 + 40 + 30 = 120 for ¥99: ¥21 off, pro rata; the 20 and 10 make no full set
    assert [line.discount for line in pricing.lines] == [cny("8.75"), cny("7.00"), cny("5.25"), cny("0"), cny("0")]
    assert sum(line.net_total.amount for line in pricing.lines[:3]) == Decimal("99.00")


def test_any_n_repeats_for_each_full_set_and_skips_a_set_worth_less_than_its_price(shop):
    dear = sku_of(shop, "40.00")
    cheap = sku_of(shop, "30.00")
    f.make_promotion(shop, Kind.BUNDLE_PRICE, {"count": 3, "price": "99.00"})
    pricing = priced((dear, 6), (cheap, 3))
    # two sets of 3 × 40 (¥21 off each); 3 × 30 = 90 is below 99, so no third set
    assert [line.discount for line in pricing.lines] == [cny("42.00"), cny("0")]
    assert priced((cheap, 3)).lines[0].adjustments == []


# --- gifts ---------------------------------------------------------------------------------

def test_gift_is_added_at_zero_when_the_threshold_is_reached(shop):
    sku = sku_of(shop, "100.00")
    gift = sku_of(shop, "25.00", stock=5)
    f.make_promotion(shop, Kind.GIFT, {"threshold": "199", "gift_sku_id": gift.pk, "gift_quantity": 1}, name="满199赠")
    below = priced((sku, 1))
    assert [line.sku.pk for line in below.lines] == [sku.pk]
    pricing = priced((sku, 2))
    assert [(line.sku.pk, line.is_gift, line.net_total) for line in pricing.lines] == [
        (sku.pk, False, cny("200.00")), (gift.pk, True, cny("0"))]
    assert pricing.lines[1].line_total == cny("25.00")  # kept at list price, all of it taken off
    assert pricing.total == cny("200.00")


def test_gift_by_quantity_and_only_when_buyable_and_in_stock(shop):
    sku = sku_of(shop, "10.00")
    gift = sku_of(shop, "5.00", stock=1)
    f.make_promotion(shop, Kind.GIFT, {"min_quantity": 2, "gift_sku_id": gift.pk, "gift_quantity": 1})
    assert priced((sku, 1)).lines[-1].sku.pk == sku.pk
    assert priced((sku, 2)).lines[-1].is_gift
    # the gift's last unit is in the basket already: no gift would leave stock for it
    assert not priced((sku, 2), (gift, 1)).lines[-1].is_gift
    StockLevel.objects.filter(sku=gift).update(quantity=0)
    assert not priced((sku, 2)).lines[-1].is_gift
    StockLevel.objects.filter(sku=gift).update(quantity=5)
    Sku.objects.filter(pk=gift.pk).update(is_active=False)  # not buyable: catalog.queries.visible_skus
    assert not priced((sku, 2)).lines[-1].is_gift


def test_gift_is_taken_from_stock_and_the_order_shows_it(client, shopper, shop, address):
    sku = sku_of(shop, "120.00")
    gift = sku_of(shop, "19.90", stock=3)
    promotion = f.make_promotion(shop, Kind.GIFT, {"threshold": "199", "gift_sku_id": gift.pk, "gift_quantity": 2})
    cart = get_cart(user=shopper, create=True)
    add_line(cart=cart, sku_id=sku.pk, quantity=2)
    shown = cart_view(cart)
    assert [g.sku.pk for g in shown.groups[0].gifts] == [gift.pk]
    placed = place_order(actor=shopper, address_id=address.pk)
    order = Order.objects.get(pk=placed.order_ids[0])
    assert order.total == shown.total.amount == Decimal("240.00")
    line = order.lines.get(is_gift=True)
    assert (line.sku_id, line.quantity, line.unit_price, line.discount, line.net_total) == (
        gift.pk, 2, Decimal("19.90"), Decimal("39.80"), Decimal("0"))
    assert line.adjustments.get().source_id == promotion.pk
    assert stock_of(gift) == 1
    # the shopper's order page marks it as a gift
    client.force_login(shopper)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert page.count('<span class="badge badge-accent">Gift</span>') == 1


def test_gift_of_another_shop_is_refused_with_nothing_written(shop, other_shop):
    foreign = sku_of(other_shop, "10.00")
    seller = shop.members.first().user
    before = Promotion.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        f.make_promotion(shop, Kind.GIFT, {"threshold": "100", "gift_sku_id": foreign.pk}, actor=seller)
    assert list(exc.value.fields) == ["rules.gift_sku_id"]
    assert Promotion.objects.count() == before


# --- add-on deals ------------------------------------------------------------------------------

def test_add_on_prices_up_to_limit_units_once_the_others_reach_the_threshold(shop):
    main = sku_of(shop, "60.00")
    extra = sku_of(shop, "30.00")
    f.make_promotion(shop, Kind.ADD_ON, {"threshold": "100", "sku_id": extra.pk, "price": "9.90", "limit": 1},
                     name="满100加9.9换购")
    # the add-on SKU itself does not count towards the threshold
    assert priced((main, 1), (extra, 3)).lines[1].adjustments == []
    pricing = priced((main, 2), (extra, 3))
    assert pricing.lines[1].discount == cny("20.10")  # one unit at 9.90, two at 30
    assert pricing.lines[1].net_total == cny("69.90")


def test_add_on_scope_limits_what_counts_but_not_the_add_on_sku(shop):
    covered = f.make_product(shop, price="100.00", stock=10)
    other = sku_of(shop, "500.00")
    extra = sku_of(shop, "30.00")
    f.make_promotion(shop, Kind.ADD_ON, {"threshold": "100", "sku_id": extra.pk, "price": "1.00", "limit": 2},
                     scope="products", target_ids=[covered.pk])
    assert priced((other, 1), (extra, 1)).lines[1].adjustments == []
    assert priced((covered.skus.get(), 1), (extra, 5)).lines[1].discount == cny("58.00")


# --- stacking ---------------------------------------------------------------------------------------

def test_item_level_kinds_do_not_stack_with_a_time_discount_but_do_with_spend_tiers(shop):
    # the defaults this test relies on
    for kind in (Kind.MULTI_BUY, Kind.BUNDLE_PRICE, Kind.ADD_ON):
        assert Kind.TIME_DISCOUNT not in DEFAULT_STACKS_WITH[kind]
        assert Kind.SPEND_TIERS in DEFAULT_STACKS_WITH[kind] and kind in DEFAULT_STACKS_WITH[Kind.SPEND_TIERS]
    timed = f.make_product(shop, price="100.00", stock=10)
    plain = sku_of(shop, "100.00")
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "20"}, scope="products", target_ids=[timed.pk])
    f.make_promotion(shop, Kind.MULTI_BUY, {"nth": 2, "percent_off": "50"})
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    pricing = priced((timed.skus.get(), 2), (plain, 2))
    # the timed line keeps its 20 %; only the plain line's units make a pair (50 off);
    # then 满200减20 on what is left (160 + 150 = 310), split pro rata
    assert [[a.kind for a in line.adjustments] for line in pricing.lines] == [
        [Kind.TIME_DISCOUNT, Kind.SPEND_TIERS], [Kind.MULTI_BUY, Kind.SPEND_TIERS]]
    assert [line.discount for line in pricing.lines] == [cny("50.32"), cny("59.68")]
    assert pricing.lines[0].adjustments[1].amount + pricing.lines[1].adjustments[1].amount == cny("20.00")


def test_bundle_then_spend_tiers_and_a_bundle_that_stacks_with_nothing(shop, other_shop):
    sku = sku_of(shop, "50.00")
    f.make_promotion(shop, Kind.BUNDLE_PRICE, {"count": 2, "price": "80.00"})
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "150", "amount_off": "10"}]})
    [line] = priced((sku, 4)).lines  # 200 → two sets of 80 = 160 → 满150减10 → 150
    assert [a.amount for a in line.adjustments] == [cny("40.00"), cny("10.00")]
    lone = sku_of(other_shop, "50.00")
    f.make_promotion(other_shop, Kind.BUNDLE_PRICE, {"count": 2, "price": "80.00"}, stacks_with=[])
    f.make_promotion(other_shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "150", "amount_off": "10"}]})
    [line] = priced((lone, 4)).lines
    assert [a.kind for a in line.adjustments] == [Kind.BUNDLE_PRICE]


def test_add_on_price_does_not_stack_with_a_time_discount_on_the_add_on_sku(shop):
    main = sku_of(shop, "150.00")
    extra = f.make_product(shop, price="30.00", stock=10)
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, scope="products", target_ids=[extra.pk])
    f.make_promotion(shop, Kind.ADD_ON, {"threshold": "100", "sku_id": extra.skus.get().pk, "price": "9.90"})
    pricing = priced((main, 1), (extra.skus.get(), 1))
    # the time discount (step 20) comes first; the add-on price (step 50) does not stack with it
    assert [a.kind for a in pricing.lines[1].adjustments] == [Kind.TIME_DISCOUNT]


def test_gift_counts_lines_whatever_took_something_off_them(shop):
    # a gift takes nothing off, so it counts lines priced by a time discount and tiers
    assert all(Kind.GIFT in DEFAULT_STACKS_WITH[k] for k in Kind if k not in (Kind.FLASH_SALE, Kind.GROUP_BUY))
    sku = sku_of(shop, "120.00")
    gift = sku_of(shop, "9.00")
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"})
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "15"}]})
    f.make_promotion(shop, Kind.GIFT, {"threshold": "199", "gift_sku_id": gift.pk})
    # 240 → 216 → 201: still reaches 199
    pricing = priced((sku, 2))
    assert pricing.lines[0].net_total == cny("201.00")
    assert pricing.lines[1].is_gift
    # 3 × 80 = 240 → 216 → 201 as well; 2 × 100 = 200 → 180 → no tier → no gift
    cheaper = sku_of(shop, "100.00")
    assert not priced((cheaper, 2)).lines[-1].is_gift


# --- what the cart shows is what checkout charges ---------------------------------------------------------

def _scenario(kind, shop, other_shop):
    """Lines and promotions for each kind, together with a time discount and spend tiers
    that stack (or not) by default, and a platform campaign across shops."""
    a, b, c = sku_of(shop, "88.00"), sku_of(shop, "45.50"), sku_of(shop, "19.90")
    far = sku_of(other_shop, "66.60")
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "15"}, scope="skus", target_ids=[b.pk])
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "100", "amount_off": "12"},
                                                       {"threshold": "300", "percent_off": "10"}]})
    f.make_promotion(None, Kind.CROSS_SHOP_TIERS, {"tiers": [{"threshold": "200", "amount_off": "25"}]})
    rules = {
        Kind.MULTI_BUY: {"nth": 2, "percent_off": "50"},
        Kind.BUNDLE_PRICE: {"count": 2, "price": "99.00"},
        Kind.GIFT: {"threshold": "150", "gift_sku_id": c.pk, "gift_quantity": 1},
        Kind.ADD_ON: {"threshold": "100", "sku_id": c.pk, "price": "3.30", "limit": 2},
    }[kind]
    f.make_promotion(shop, kind, rules)
    return [(a, 3), (b, 2), (c, 3), (far, 1)]


@pytest.mark.parametrize("kind", [Kind.MULTI_BUY, Kind.BUNDLE_PRICE, Kind.GIFT, Kind.ADD_ON])
def test_cart_and_buy_now_show_what_checkout_charges(kind, shopper, shop, other_shop, address):
    lines = _scenario(kind, shop, other_shop)
    cart = get_cart(user=shopper, create=True)
    for sku, qty in lines:
        add_line(cart=cart, sku_id=sku.pk, quantity=qty)
    shown = cart_view(cart)
    assert shown.total is not None
    pricing = priced(*lines, user=shopper)
    kinds = {a.kind for line in pricing.lines for a in line.adjustments}
    assert kind in kinds  # the kind under test really priced something
    placed = place_order(actor=shopper, address_id=address.pk)
    orders = list(Order.objects.filter(pk__in=placed.order_ids).order_by("shop_id"))
    assert [o.total for o in orders] == [g.total.amount for g in shown.groups]
    assert sum(o.total for o in orders) == shown.total.amount == placed.payment.amount
    for order in orders:
        order_lines = list(order.lines.all())
        assert sum(line.discount for line in order_lines) == order.discount_total
        for line in order_lines:
            assert sum(a.amount for a in line.adjustments.all()) == line.discount
            assert line.net_total >= 0
    stored = set(OrderAdjustment.objects.filter(order__in=orders).values_list("kind", flat=True))
    assert stored == kinds
    assert OrderLine.objects.filter(order__in=orders, is_gift=True).exists() == (kind == Kind.GIFT)


@pytest.mark.parametrize("kind", [Kind.MULTI_BUY, Kind.BUNDLE_PRICE, Kind.GIFT, Kind.ADD_ON])
def test_buy_now_page_shows_what_checkout_charges(kind, shopper, shop, other_shop, address):
    (a, _qty), *_rest = _scenario(kind, shop, other_shop)
    shown = buy_now_view({"sku_id": a.pk, "quantity": 3})
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": a.pk, "quantity": 3}])
    assert placed.payment.amount == shown.total.amount
    assert Order.objects.get(pk=placed.order_ids[0]).total == shown.groups[0].total.amount


# --- bad input ------------------------------------------------------------------------------------------

BAD_RULES = [
    (Kind.MULTI_BUY, {"nth": 2, "percent_off": "0"}, "rules.percent_off"),
    (Kind.MULTI_BUY, {"nth": 2, "percent_off": "100.01"}, "rules.percent_off"),
    (Kind.MULTI_BUY, {"nth": 1, "percent_off": "50"}, "rules.nth"),
    (Kind.MULTI_BUY, {"min_quantity": 1, "percent_off": "10"}, "rules.min_quantity"),
    (Kind.MULTI_BUY, {"nth": 2, "min_quantity": 2, "percent_off": "10"}, "rules"),
    (Kind.MULTI_BUY, {"nth": "２", "percent_off": "50"}, "rules.nth"),
    (Kind.BUNDLE_PRICE, {"count": 1, "price": "9.90"}, "rules.count"),
    (Kind.BUNDLE_PRICE, {"count": 3, "price": "-1"}, "rules.price"),
    (Kind.BUNDLE_PRICE, {"count": 3, "price": "0"}, "rules.price"),
    (Kind.GIFT, {"threshold": "-5", "gift_sku_id": "GIFT"}, "rules.threshold"),
    (Kind.GIFT, {"gift_sku_id": "GIFT"}, "rules"),
    (Kind.GIFT, {"threshold": "100", "gift_sku_id": "x"}, "rules.gift_sku_id"),
    (Kind.GIFT, {"min_quantity": 2, "gift_sku_id": "GIFT", "gift_quantity": 0}, "rules.gift_quantity"),
    (Kind.ADD_ON, {"threshold": "-1", "sku_id": "GIFT", "price": "1.00"}, "rules.threshold"),
    (Kind.ADD_ON, {"threshold": "100", "sku_id": "GIFT", "price": "30.00"}, "rules.price"),
    (Kind.ADD_ON, {"threshold": "100", "sku_id": "GIFT", "price": "1.00", "limit": 0}, "rules.limit"),
    (Kind.ADD_ON, {"threshold": "100", "sku_id": "FOREIGN", "price": "1.00"}, "rules.sku_id"),
    (Kind.GIFT, {"threshold": "100", "gift_sku_id": "FOREIGN"}, "rules.gift_sku_id"),
]


@pytest.mark.parametrize(("kind", "rules", "field"), BAD_RULES)
def test_bad_rules_are_refused_with_the_field_named_and_nothing_written(kind, rules, field, shop, other_shop):
    own = sku_of(shop, "30.00")
    foreign = sku_of(other_shop, "30.00")
    ids = {"GIFT": own.pk, "FOREIGN": foreign.pk}
    rules = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in rules.items()}
    before = Promotion.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        f.make_promotion(shop, kind, rules, publish=False)
    assert field in exc.value.fields, exc.value.fields
    assert Promotion.objects.count() == before


def test_bundle_price_at_or_above_what_its_items_cost_is_refused(shop):
    sku = sku_of(shop, "30.00")
    with pytest.raises(ValidationFailed) as exc:
        f.make_promotion(shop, Kind.BUNDLE_PRICE, {"count": 3, "price": "90.00"}, scope="skus", target_ids=[sku.pk])
    assert exc.value.fields == {"rules.price": ["The set price must be below what 3 of the chosen items cost "
                                                "(at most ¥90.00)."]}
    assert not Promotion.objects.exists()
    f.make_promotion(shop, Kind.BUNDLE_PRICE, {"count": 3, "price": "89.99"}, scope="skus", target_ids=[sku.pk])


def test_editing_a_draft_checks_references_again(shop, other_shop):
    own = sku_of(shop, "30.00")
    foreign = sku_of(other_shop, "30.00")
    draft = f.make_promotion(shop, Kind.ADD_ON, {"threshold": "100", "sku_id": own.pk, "price": "9.90"}, publish=False)
    seller = shop.members.first().user
    with pytest.raises(ValidationFailed) as exc:
        update_promotion(actor=seller, shop=shop, promotion_id=draft.pk,
                         rules={"threshold": "100", "sku_id": foreign.pk, "price": "9.90"})
    assert list(exc.value.fields) == ["rules.sku_id"]
    draft.refresh_from_db()
    assert draft.rules["sku_id"] == own.pk


def test_shops_run_every_new_kind_and_the_platform_none_of_them(shop):
    for kind in (Kind.MULTI_BUY, Kind.BUNDLE_PRICE, Kind.GIFT, Kind.ADD_ON):
        assert kind in kinds_for(shop)
        assert kind not in kinds_for(None)
    operator = f.make_user(is_staff=True)
    with pytest.raises(ValidationFailed) as exc:
        create_promotion(actor=operator, shop=None, kind=Kind.MULTI_BUY, name="x", starts_at="2030-01-01T00:00",
                         ends_at="2030-01-02T00:00", rules={"nth": 2, "percent_off": "50"})
    assert list(exc.value.fields) == ["kind"]


def test_cart_and_order_api_show_the_gift(api, shopper, shopper_token, shop, address):
    sku = sku_of(shop, "100.00")
    gift = sku_of(shop, "12.00", stock=4)
    f.make_promotion(shop, Kind.GIFT, {"min_quantity": 2, "gift_sku_id": gift.pk, "gift_quantity": 1})
    api.post("/cart/lines", {"sku_id": sku.pk, "quantity": 2}, token=shopper_token)
    cart = api.get("/cart", token=shopper_token).json()
    [group] = cart["groups"]
    assert [(g["sku_id"], g["quantity"], g["unit_price"]) for g in group["gifts"]] == [(gift.pk, 1, "12.00")]
    assert cart["total"] == "200.00"
    placed = api.post("/orders", {"address_id": address.pk}, token=shopper_token).json()
    assert placed["payment"]["amount"] == cart["total"]
    order = api.get(f"/orders/{placed['orders'][0]['id']}", token=shopper_token).json()
    assert [(ln["sku_id"], ln["is_gift"]) for ln in order["lines"]] == [(sku.pk, False), (gift.pk, True)]
    assert order["total"] == cart["total"]
    assert stock_of(gift) == 3


def test_pricing_fifty_lines_with_every_new_kind_costs_a_fixed_number_of_queries(
        shop, other_shop, django_assert_max_num_queries):
    skus = [sku_of(s, "30.00") for s in (shop, other_shop) for _i in range(25)]
    for s, own in ((shop, skus[0]), (other_shop, skus[-1])):
        f.make_promotion(s, Kind.MULTI_BUY, {"nth": 2, "percent_off": "50"})
        f.make_promotion(s, Kind.BUNDLE_PRICE, {"count": 3, "price": "80.00"})
        f.make_promotion(s, Kind.GIFT, {"threshold": "100", "gift_sku_id": own.pk})
        f.make_promotion(s, Kind.ADD_ON, {"threshold": "100", "sku_id": own.pk, "price": "1.00"})
        f.make_promotion(s, Kind.SPEND_TIERS, {"tiers": [{"threshold": "100", "amount_off": "10"}]})
    entries = [(sku, 2, i) for i, sku in enumerate(
        Sku.objects.select_related("product__shop").filter(pk__in=[s.pk for s in skus]))]
    # live promotions, their scope rows (none: whole range), the gift SKUs
    with django_assert_max_num_queries(3):
        pricing = price_lines(entries)
    assert sum(1 for line in pricing.lines if line.is_gift) == 2
    assert {a.kind for line in pricing.lines for a in line.adjustments} >= {Kind.MULTI_BUY, Kind.GIFT,
                                                                            Kind.SPEND_TIERS}


NEW_KIND_RULES = {
    Kind.MULTI_BUY: lambda extra: {"nth": 2, "percent_off": "50"},
    Kind.BUNDLE_PRICE: lambda extra: {"count": 2, "price": "150.00"},
    Kind.GIFT: lambda extra: {"threshold": "100", "gift_sku_id": extra.pk},
    Kind.ADD_ON: lambda extra: {"threshold": "100", "sku_id": extra.pk, "price": "1.00"},
}
OTHER_RULES = {Kind.TIME_DISCOUNT: {"percent_off": "10"},
               Kind.SPEND_TIERS: {"tiers": [{"threshold": "100", "amount_off": "10"}]}}


@pytest.mark.parametrize("other", list(OTHER_RULES))
@pytest.mark.parametrize("kind", list(NEW_KIND_RULES))
def test_every_new_kind_shares_a_line_with_time_discounts_and_tiers_exactly_as_the_defaults_say(shop, kind, other):
    main = sku_of(shop, "100.00")
    extra = sku_of(shop, "30.00")
    f.make_promotion(shop, other, OTHER_RULES[other])
    f.make_promotion(shop, kind, NEW_KIND_RULES[kind](extra))
    lines = [(main, 4)] if kind == Kind.GIFT else [(main, 4), (extra, 1)]
    pricing = priced(*lines)
    stack = kind in DEFAULT_STACKS_WITH[other] and other in DEFAULT_STACKS_WITH[kind]
    # the line both promotions would price on their own: the add-on line for 加价购, else the first
    line = pricing.lines[1] if kind == Kind.ADD_ON else pricing.lines[0]
    kinds = {a.kind for a in line.adjustments}
    if kind == Kind.GIFT:
        assert other in kinds and any(p.is_gift for p in pricing.lines) == stack
    else:
        # together when they stack; otherwise the one whose step comes first keeps the line
        expected = {kind, other} if stack else {min((kind, other), key=lambda k: STEP[k])}
        assert kinds == expected


def test_cart_and_checkout_pages_show_the_gift_at_zero(client, shopper, shop, address):
    sku = sku_of(shop, "150.00")
    gift = f.make_product(shop, price="15.00", stock=3, title="旅行装").skus.get()
    f.make_promotion(shop, Kind.GIFT, {"threshold": "100", "gift_sku_id": gift.pk})
    add_line(cart=get_cart(user=shopper, create=True), sku_id=sku.pk, quantity=1)
    client.force_login(shopper)
    for url in ("/cart/", "/checkout/"):
        page = client.get(url).content.decode()
        row = page.split(f'data-gift-sku="{gift.pk}"')[1].split("</div>")[0:3]
        assert "Gift" in "".join(row) and "¥0.00" in "".join(row), url
