"""The pricing pipeline with limited-time discounts and spend-and-save tiers:
what a shopper pays, how a discount is split over lines, which of two
overlapping promotions wins, and what the order keeps."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopyard.cart.queries import cart_view
from shopyard.cart.services import add_line, get_cart
from shopyard.checkout.pricing import price_lines
from shopyard.checkout.services import place_order
from shopyard.core.money import Money, allocate
from shopyard.orders.models import Order, OrderAdjustment
from shopyard.promotions.kinds import Kind
from shopyard.promotions.offers import Discount
from tests import factories as f

pytestmark = pytest.mark.django_db


def cny(value):
    return Money(Decimal(value), "CNY")


def priced(*pairs, user=None, **kw):
    return price_lines([(sku, qty, i) for i, (sku, qty) in enumerate(pairs)], user=user, **kw)


def test_percentage_time_discount_prices_the_line_and_explains_it(shop):
    sku = f.make_product(shop, price="199.00").skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "20"}, name="双11限时", name_en="Singles' Day")
    pricing = priced((sku, 2))
    [line] = pricing.lines
    assert line.line_total == cny("398.00")
    assert line.discount == cny("79.60")
    assert line.net_total == cny("318.40")
    assert line.explain("zh-hans") == "¥398.00 − ¥79.60 双11限时"
    assert line.explain("en") == "¥398.00 − ¥79.60 Singles' Day"
    # 318.40 passes the shop's free-shipping threshold of 199
    assert pricing.total == cny("318.40")


def test_fixed_time_price_never_goes_above_the_list_price(shop):
    cheap = f.make_product(shop, price="50.00").skus.get()
    dear = f.make_product(shop, price="120.00").skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"price": "99.00"})
    pricing = priced((cheap, 1), (dear, 1))
    assert [line.net_total for line in pricing.lines] == [cny("50.00"), cny("99.00")]
    assert pricing.lines[0].adjustments == []


def test_spend_tiers_take_the_highest_tier_reached_and_split_it_pro_rata(shop):
    a = f.make_product(shop, price="150.00").skus.get()
    b = f.make_product(shop, price="100.00").skus.get()
    c = f.make_product(shop, price="200.00").skus.get()
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"},
                                                       {"threshold": "400", "amount_off": "50"}]})
    pricing = priced((a, 1), (b, 1), (c, 1))  # 450 reaches the ¥400 tier
    assert [line.discount for line in pricing.lines] == [cny("16.67"), cny("11.11"), cny("22.22")]
    assert pricing.shops[0].discount == cny("50.00")
    assert pricing.lines[0].adjustments[0].label == "满¥400.00减¥50.00"
    assert pricing.lines[0].adjustments[0].label_en == "¥50.00 off ¥400.00"
    assert pricing.total == cny("400.00")
    # below the first tier nothing comes off
    assert priced((b, 1)).lines[0].adjustments == []


def test_spend_tiers_percentage_and_repeat_with_cap(shop):
    sku = f.make_product(shop, price="100.00", stock=50).skus.get()
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "300", "percent_off": "10"}]})
    assert priced((sku, 3)).lines[0].discount == cny("30.00")
    other = f.make_shop(owner=f.make_user())
    every = f.make_product(other, price="100.00", stock=50).skus.get()
    f.make_promotion(other, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}],
                                               "repeat": True, "cap": "50"})
    assert priced((every, 5)).lines[0].discount == cny("40.00")  # 500: twice ¥20
    assert priced((every, 9)).lines[0].discount == cny("50.00")  # 900: four times, capped at ¥50


def test_scope_by_category_covers_subcategories_and_leaves_the_rest(shop):
    parent = f.make_category("数码")
    child = f.make_category("手机", parent=parent)
    phone = f.make_product(shop, price="100.00", category=child).skus.get()
    sofa = f.make_product(shop, price="100.00").skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, scope="categories", target_ids=[parent.pk])
    pricing = priced((phone, 1), (sofa, 1))
    assert [line.discount for line in pricing.lines] == [cny("10.00"), cny("0")]


def test_another_shops_promotion_never_touches_my_lines(shop, other_shop):
    mine = f.make_product(shop, price="100.00").skus.get()
    f.make_promotion(other_shop, Kind.TIME_DISCOUNT, {"percent_off": "50"})
    assert priced((mine, 1)).lines[0].adjustments == []


def test_overlapping_time_discounts_give_each_line_the_best_one(shop):
    # a 10 % shop-wide discount and a 30 % one on a single product: the product gets 30 %,
    # everything else 10 %; never both (time discounts do not stack with each other)
    star = f.make_product(shop, price="100.00")
    plain = f.make_product(shop, price="100.00").skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"})
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "30"}, scope="products", target_ids=[star.pk])
    pricing = priced((star.skus.get(), 1), (plain, 1))
    assert [line.discount for line in pricing.lines] == [cny("30.00"), cny("10.00")]
    assert [len(line.adjustments) for line in pricing.lines] == [1, 1]


def test_exclusive_promotions_resolve_to_the_best_total_for_the_shopper(shop):
    sku = f.make_product(shop, price="100.00", stock=50).skus.get()
    # two spend-and-save promotions that do not stack with each other
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "25"}]})
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "300", "percent_off": "10"}]})
    assert priced((sku, 2)).lines[0].discount == cny("25.00")  # only the first reached
    assert priced((sku, 3)).lines[0].discount == cny("30.00")  # 10 % of 300 beats ¥25
    assert len(priced((sku, 3)).lines[0].adjustments) == 1


def test_time_discount_then_spend_tiers_on_what_is_left(shop):
    sku = f.make_product(shop, price="120.00", stock=50).skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, name="限时9折", name_en="10% off")
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    [line] = priced((sku, 2)).lines  # 240 → 216 → reaches 200 → 196
    assert [a.amount for a in line.adjustments] == [cny("24.00"), cny("20.00")]
    assert line.net_total == cny("196.00")
    assert line.explain("en") == "¥240.00 − ¥24.00 10% off − ¥20.00 ¥20.00 off ¥200.00"


def test_a_promotion_that_does_not_stack_keeps_the_line_to_itself(shop):
    sku = f.make_product(shop, price="120.00", stock=50).skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, stacks_with=[])
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    [line] = priced((sku, 2)).lines
    assert [a.kind for a in line.adjustments] == [Kind.TIME_DISCOUNT]


def test_drafts_stopped_future_and_past_promotions_price_nothing(shop):
    sku = f.make_product(shop, price="100.00").skus.get()
    now = timezone.now()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "50"}, publish=False)
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "50"}, starts_at=now + timedelta(hours=1),
                     ends_at=now + timedelta(hours=2))
    assert priced((sku, 1)).lines[0].adjustments == []
    # a promotion's window is [start, end): priced at its start second, not at its end
    live = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "20"}, starts_at=now + timedelta(minutes=5),
                            ends_at=now + timedelta(minutes=10))
    assert priced((sku, 1), now=live.starts_at).lines[0].discount == cny("20.00")
    assert priced((sku, 1), now=live.ends_at).lines[0].adjustments == []


def test_no_line_is_priced_below_zero(shop):
    sku = f.make_product(shop, price="10.00").skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "100"})
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "0", "amount_off": "5"}]})
    [line] = priced((sku, 1)).lines
    assert line.net_total == cny("0")
    assert [a.amount for a in line.adjustments] == [cny("10.00")]


def test_platform_campaign_spans_shops_and_is_funded_by_the_platform(shop, other_shop):
    a = f.make_product(shop, price="150.00").skus.get()
    b = f.make_product(other_shop, price="50.00").skus.get()
    f.make_promotion(None, Kind.CROSS_SHOP_TIERS, {"tiers": [{"threshold": "200", "amount_off": "40"}]})
    pricing = priced((a, 1), (b, 1))
    assert [line.discount for line in pricing.lines] == [cny("30.00"), cny("10.00")]
    assert {adj.funded_by for line in pricing.lines for adj in line.adjustments} == {"platform"}


def test_allocation_adds_up_exactly_and_never_exceeds_a_share():
    for total, weights in [("10", ["33.33", "33.33", "33.34"]), ("0.05", ["0.01", "10"]), ("99.99", ["20"] * 7),
                           ("7", ["0.01", "0.01", "6.98"])]:
        shares = allocate(cny(total), [cny(w) for w in weights])
        assert sum(s.amount for s in shares) == Decimal(total)
        assert all(s.amount <= Decimal(w) for s, w in zip(shares, weights, strict=True))


def test_checkout_charges_what_the_cart_shows_and_keeps_every_adjustment(shopper, shop, other_shop, address):
    a = f.make_product(shop, price="150.00").skus.get()
    b = f.make_product(shop, price="100.00").skus.get()
    c = f.make_product(other_shop, price="80.00").skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, scope="skus", target_ids=[a.pk])
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    f.make_promotion(None, Kind.CROSS_SHOP_TIERS, {"tiers": [{"threshold": "250", "amount_off": "30"}]})
    cart = get_cart(user=shopper, create=True)
    for sku in (a, b, c):
        add_line(cart=cart, sku_id=sku.pk, quantity=1)
    shown = cart_view(cart)
    placed = place_order(actor=shopper, address_id=address.pk)
    orders = Order.objects.filter(pk__in=placed.order_ids).order_by("shop_id")
    assert sum(o.total for o in orders) == shown.total.amount
    assert [o.total for o in orders] == [g.total.amount for g in shown.groups]
    for order in orders:
        lines = list(order.lines.all())
        assert order.subtotal - order.discount_total + order.shipping_fee - order.shipping_discount == order.total
        assert sum(line.discount for line in lines) == order.discount_total
        for line in lines:
            assert line.line_total - line.discount == line.net_total
            assert sum(adj.amount for adj in line.adjustments.all()) == line.discount
    funders = set(OrderAdjustment.objects.filter(order__in=orders).values_list("kind", "funded_by"))
    assert funders == {(Kind.TIME_DISCOUNT, "shop"), (Kind.SPEND_TIERS, "shop"), (Kind.CROSS_SHOP_TIERS, "platform")}
    # the payment charges the discounted total
    assert placed.payment.amount == shown.total.amount


def test_pricing_a_cart_of_fifty_lines_costs_a_fixed_number_of_queries(shop, other_shop, django_assert_max_num_queries):
    skus = [f.make_product(s, price="30.00").skus.get() for s in (shop, other_shop) for _i in range(25)]
    for s in (shop, other_shop):
        f.make_promotion(s, Kind.TIME_DISCOUNT, {"percent_off": "5"}, scope="skus", target_ids=[skus[0].pk] if s == shop else [skus[-1].pk])
        f.make_promotion(s, Kind.SPEND_TIERS, {"tiers": [{"threshold": "100", "amount_off": "10"}]})
    entries = [(sku, 1, i) for i, sku in enumerate(
        type(skus[0]).objects.select_related("product__shop").filter(pk__in=[s.pk for s in skus]))]
    with django_assert_max_num_queries(4):
        pricing = price_lines(entries)
    assert pricing.discount.amount > 0


def test_member_price_hook_prices_first_and_stacks_with_spend_tiers(shop, shopper):
    # the loyalty issue registers a loader like this one: a member's price per SKU
    from shopyard.promotions import engine
    from shopyard.promotions.offers import Offer

    class MemberPrice(Offer):
        kind, source, per_line = Kind.MEMBER_PRICE, "member", True
        label, label_en = "会员价", "Member price"

        def discounts(self, lines):
            return [Discount(line.index, Money(line.amount.amount * Decimal("0.05"), line.currency)) for line in lines]

    def loader(context):
        return [MemberPrice()] if context.user is not None else []

    engine.register("test_member_price", loader)
    try:
        sku = f.make_product(shop, price="220.00").skus.get()
        f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
        [member] = priced((sku, 1), user=shopper).lines
        assert [(a.kind, a.amount) for a in member.adjustments] == [
            (Kind.MEMBER_PRICE, cny("11.00")), (Kind.SPEND_TIERS, cny("20.00"))]
        [guest] = priced((sku, 1)).lines
        assert [a.kind for a in guest.adjustments] == [Kind.SPEND_TIERS]
    finally:
        engine.unregister("test_member_price")
