"""Coupons: what they take off, which one the pipeline picks, why a chosen one is
refused, what a bad template is refused for, and how payment and cancellation
settle a coupon on its orders."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopyard.checkout.pricing import price_lines
from shopyard.checkout.services import place_order
from shopyard.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopyard.core.money import Money
from shopyard.orders.models import Order, OrderAdjustment
from shopyard.orders.services import cancel_by_buyer, mark_paid
from shopyard.payments.models import Payment
from shopyard.promotions.coupon_queries import held_coupons, tab_counts
from shopyard.promotions.coupon_services import (
    claim_coupon,
    create_template,
    issue_coupons,
    publish_template,
    stop_template,
)
from shopyard.promotions.kinds import Kind
from shopyard.promotions.models import CouponTemplate, UserCoupon
from tests import factories as f

pytestmark = pytest.mark.django_db


def cny(value):
    return Money(Decimal(value), "CNY")


def priced(user, *pairs, **kw):
    return price_lines([(sku, qty, i) for i, (sku, qty) in enumerate(pairs)], user=user, **kw)


def lines(*pairs):
    return [{"sku_id": sku.pk, "quantity": qty} for sku, qty in pairs]


# --- what a coupon takes off --------------------------------------------------------------


def test_fixed_coupon_is_split_pro_rata_over_its_shops_lines(shopper, shop):
    a = f.make_product(shop, price="150.00").skus.get()
    b = f.make_product(shop, price="50.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop, threshold="199", amount_off="20", name="店铺券20"))
    pricing = priced(shopper, (a, 1), (b, 1))
    assert [line.discount for line in pricing.lines] == [cny("15.00"), cny("5.00")]
    adjustment = pricing.lines[0].adjustments[0]
    assert (adjustment.kind, adjustment.source, adjustment.source_id, adjustment.funded_by) == (
        Kind.SHOP_COUPON, "coupon", coupon.pk, "shop")
    assert pricing.lines[0].explain("zh-hans") == "¥150.00 − ¥15.00 店铺券20"
    assert pricing.total == cny("190.00")  # 180 after the coupon is below free shipping (199): +¥10


def test_percentage_coupon_is_capped(shopper, shop):
    sku = f.make_product(shop, price="300.00").skus.get()
    f.give_coupon(shopper, f.make_coupon_template(shop, benefit="percent", percent_off="20", max_off="50"))
    assert priced(shopper, (sku, 1)).lines[0].discount == cny("50.00")  # 20 % would be 60
    assert priced(shopper, (sku, 1), coupons=[]).lines[0].discount == cny("0")


def test_coupon_scope_covers_only_its_products(shopper, shop):
    star = f.make_product(shop, price="120.00")
    other = f.make_product(shop, price="120.00").skus.get()
    f.give_coupon(shopper, f.make_coupon_template(shop, scope="products", target_ids=[star.pk]))
    pricing = priced(shopper, (star.skus.get(), 1), (other, 1))
    assert [line.discount for line in pricing.lines] == [cny("10.00"), cny("0")]


def test_platform_coupon_spans_shops_and_the_platform_funds_it(shopper, shop, other_shop):
    a = f.make_product(shop, price="150.00").skus.get()
    b = f.make_product(other_shop, price="50.00").skus.get()
    f.give_coupon(shopper, f.make_coupon_template(None, threshold="200", amount_off="40"))
    pricing = priced(shopper, (a, 1), (b, 1))
    assert [line.discount for line in pricing.lines] == [cny("30.00"), cny("10.00")]
    assert {(a.kind, a.funded_by) for line in pricing.lines for a in line.adjustments} == {
        (Kind.PLATFORM_COUPON, "platform")}


def test_free_shipping_coupon_takes_off_the_shops_fee(shopper, other_shop):
    sku = f.make_product(other_shop, price="30.00").skus.get()  # other_shop charges ¥8
    f.give_coupon(shopper, f.make_coupon_template(other_shop, benefit="free_shipping"))
    pricing = priced(shopper, (sku, 1))
    group = pricing.shops[0]
    assert (group.shipping_fee, group.shipping_discount, pricing.total) == (cny("8.00"), cny("8.00"), cny("30.00"))
    assert group.shipping_adjustments[0].kind == Kind.SHIPPING_COUPON


def test_best_coupon_of_a_shop_is_chosen_and_the_others_offered_as_alternatives(shopper, shop):
    sku = f.make_product(shop, price="250.00").skus.get()
    small = f.give_coupon(shopper, f.make_coupon_template(shop, threshold="100", amount_off="10"))
    big = f.give_coupon(shopper, f.make_coupon_template(shop, threshold="200", amount_off="30"))
    pricing = priced(shopper, (sku, 1))
    assert [o.source_id for o in pricing.offers] == [big.pk]
    choices = {o.source_id: amount for o, amount in pricing.choices[f"shop_coupon:{shop.pk}"]}
    assert choices == {small.pk: cny("10.00"), big.pk: cny("30.00")}
    assert priced(shopper, (sku, 1), coupons=[small.pk]).total == cny("240.00")


def test_guests_and_other_shoppers_get_no_coupon(shopper, other_shopper, shop):
    sku = f.make_product(shop, price="150.00").skus.get()
    f.give_coupon(shopper, f.make_coupon_template(shop))
    assert priced(None, (sku, 1)).lines[0].discount == cny("0")
    assert priced(other_shopper, (sku, 1)).lines[0].discount == cny("0")


def test_checkout_keeps_the_coupon_rows_locks_the_coupon_and_charges_the_priced_total(shopper, shop, address):
    sku = f.make_product(shop, price="150.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    expected = priced(shopper, (sku, 1)).total
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)))
    order = Order.objects.get(pk=placed.order_ids[0])
    # 150 − 10 = 140, below the shop's free shipping (199): + ¥10 fee
    assert (order.discount_total, order.total) == (Decimal("10.00"), expected.amount)
    assert expected.amount == Decimal("150.00")
    assert Payment.objects.get(pk=placed.payment_id).amount == Decimal("150.00")
    row = OrderAdjustment.objects.get(order=order)
    assert (row.source, row.source_id, row.amount, row.funded_by) == ("coupon", coupon.pk, Decimal("10.00"), "shop")
    coupon.refresh_from_db()
    assert coupon.status == "locked" and list(coupon.orders.all()) == [order]
    assert str(coupon.checkout_id) == placed.checkout_id


# --- chosen coupons that cannot apply -----------------------------------------------------


def _refused(actor, address, sku_lines, coupons):
    before = (Order.objects.count(), Payment.objects.count(), list(UserCoupon.objects.values_list("status", flat=True)))
    with pytest.raises((ValidationFailed, NotFound, Conflict)) as caught:
        place_order(actor=actor, address_id=address.pk, lines=sku_lines, coupons=coupons)
    after = (Order.objects.count(), Payment.objects.count(), list(UserCoupon.objects.values_list("status", flat=True)))
    assert after == before  # nothing written
    return caught.value


def test_expired_and_not_yet_valid_coupons_are_refused_with_the_reason(shopper, shop, address):
    sku = f.make_product(shop, price="150.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    UserCoupon.objects.filter(pk=coupon.pk).update(valid_until=timezone.now() - timedelta(minutes=1),
                                                   valid_from=timezone.now() - timedelta(days=2))
    error = _refused(shopper, address, lines((sku, 1)), [coupon.pk])
    assert (error.status, list(error.fields)) == (422, ["coupons[0]"])
    assert error.fields["coupons[0]"][0].startswith("This coupon expired on ")
    UserCoupon.objects.filter(pk=coupon.pk).update(valid_from=timezone.now() + timedelta(days=1),
                                                   valid_until=timezone.now() + timedelta(days=2))
    error = _refused(shopper, address, lines((sku, 1)), [coupon.pk])
    assert error.fields["coupons[0]"][0].startswith("This coupon can be used from ")


def test_wrong_shop_and_below_threshold_are_refused_with_the_reason(shopper, shop, other_shop, address):
    mine = f.make_product(shop, price="50.00").skus.get()
    theirs = f.make_product(other_shop, price="500.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop, threshold="100", amount_off="10"))
    error = _refused(shopper, address, lines((theirs, 1)), [coupon.pk])
    assert error.fields == {"coupons[0]": ["This coupon is for items from 星河数码 only; this order has none."]}
    error = _refused(shopper, address, lines((mine, 1), (theirs, 1)), [coupon.pk])
    assert error.fields == {"coupons[0]": [
        "Spend ¥50.00 more on eligible items to use this coupon (minimum spend ¥100.00)."]}


def test_someone_elses_coupon_is_a_404_field_error_and_nothing_is_written(shopper, other_shopper, shop, address):
    sku = f.make_product(shop, price="150.00").skus.get()
    theirs = f.give_coupon(other_shopper, f.make_coupon_template(shop))
    error = _refused(shopper, address, lines((sku, 1)), [999999, theirs.pk])
    assert error.status == 404
    assert error.fields == {"coupons[0]": ["Coupon not found."], "coupons[1]": ["Coupon not found."]}
    assert UserCoupon.objects.get(pk=theirs.pk).status == "available"


def test_used_coupon_and_two_coupons_of_one_shop_are_refused(shopper, shop, address):
    sku = f.make_product(shop, price="300.00", stock=20).skus.get()
    a = f.give_coupon(shopper, f.make_coupon_template(shop))
    b = f.give_coupon(shopper, f.make_coupon_template(shop, threshold="200", amount_off="30"))
    error = _refused(shopper, address, lines((sku, 1)), [a.pk, b.pk])
    assert error.fields == {"coupons[0]": ["Only one coupon of this kind can be used per order."]}
    place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)), coupons=[a.pk])
    error = _refused(shopper, address, lines((sku, 1)), [a.pk])
    assert (error.status, error.fields) == (409, {"coupons[0]": ["This coupon has already been used."]})


def test_bad_coupon_ids_are_field_errors():
    from shopyard.checkout.services import clean_coupons

    with pytest.raises(ValidationFailed) as caught:
        clean_coupons([1, "x"])
    assert list(caught.value.fields) == ["coupons[1]"]
    with pytest.raises(ValidationFailed):
        clean_coupons("3")


# --- claiming and issuing -----------------------------------------------------------------


def test_claiming_respects_the_per_user_limit_and_the_total(shopper, other_shopper, shop):
    template = f.make_coupon_template(shop, per_user_limit=2, total_quantity=3)
    first, second = claim_coupon(actor=shopper, template_id=template.pk), claim_coupon(actor=shopper, template_id=template.pk)
    assert (first.claim_number, second.claim_number) == (1, 2)
    with pytest.raises(Conflict) as caught:
        claim_coupon(actor=shopper, template_id=template.pk)
    assert caught.value.fields == {"template_id": ["You already hold the most coupons of this kind allowed (2)."]}
    claim_coupon(actor=other_shopper, template_id=template.pk)
    with pytest.raises(Conflict) as caught:
        claim_coupon(actor=f.make_user(), template_id=template.pk)
    assert caught.value.fields == {"template_id": ["All coupons have been claimed."]}
    template.refresh_from_db()
    assert (template.issued, UserCoupon.objects.count()) == (3, 3)


def test_stopped_draft_expired_and_closed_templates_cannot_be_claimed(shopper, shop):
    now = timezone.now()
    stopped = f.make_coupon_template(shop)
    stop_template(actor=shop.members.first().user, shop=shop, template_id=stopped.pk)
    draft = f.make_coupon_template(shop, publish=False)
    later = f.make_coupon_template(shop, claim_starts_at=now + timedelta(hours=1))
    expired = f.make_coupon_template(shop)
    CouponTemplate.objects.filter(pk=expired.pk).update(valid_until=now - timedelta(seconds=1),
                                                        valid_from=now - timedelta(days=1))
    reasons = {}
    for name, template in {"stopped": stopped, "later": later, "expired": expired}.items():
        with pytest.raises(Conflict) as caught:
            claim_coupon(actor=shopper, template_id=template.pk)
        reasons[name] = caught.value.fields["template_id"][0]
    assert reasons["stopped"] == "This coupon is no longer being handed out."
    assert reasons["later"].startswith("Claiming opens at ")
    assert reasons["expired"] == "This coupon has expired."
    with pytest.raises(NotFound):
        claim_coupon(actor=shopper, template_id=draft.pk)
    assert UserCoupon.objects.count() == 0
    assert set(CouponTemplate.objects.values_list("issued", flat=True)) == {0}


def test_days_after_claiming_validity(shopper, shop):
    template = f.make_coupon_template(shop, validity="days", valid_days=7)
    coupon = claim_coupon(actor=shopper, template_id=template.pk)
    assert coupon.valid_until - coupon.valid_from == timedelta(days=7)
    assert abs(coupon.valid_from - timezone.now()) < timedelta(seconds=5)


def test_bulk_issue_reports_who_got_one_and_why_not(shop, seller):
    template = f.make_coupon_template(shop, total_quantity=3)
    alice, bob, carol, dave = (f.make_user(n) for n in ("alice", "bob", "carol", "dave"))
    f.give_coupon(bob, template)  # bob is at his limit of one
    report = issue_coupons(actor=seller, shop=shop, template_id=template.pk,
                           usernames=["alice", "bob", "nobody", "carol", "dave", "alice"])
    assert [name for name, _c in report.issued] == ["alice", "carol"]
    assert report.skipped == [("bob", "Already holds the most coupons of this kind allowed."),
                              ("nobody", "No such user."),
                              ("dave", "No coupons left of the total quantity.")]
    template.refresh_from_db()
    assert template.issued == 3
    assert set(UserCoupon.objects.values_list("user__username", "source")) == {
        ("bob", "claimed"), ("alice", "issued"), ("carol", "issued")}
    assert not UserCoupon.objects.filter(user=dave).exists()


def test_another_shops_template_and_platform_templates_are_out_of_a_sellers_reach(shop, other_shop, seller):
    theirs = f.make_coupon_template(other_shop)
    with pytest.raises(NotFound):
        issue_coupons(actor=seller, shop=shop, template_id=theirs.pk, usernames=["shopper"])
    with pytest.raises(NotFound):
        stop_template(actor=seller, shop=shop, template_id=theirs.pk)
    with pytest.raises(PermissionDenied):
        create_template(actor=seller, shop=None, name="x", benefit="amount", amount_off="5", total_quantity=1,
                        claim_starts_at=timezone.now(), claim_ends_at=timezone.now() + timedelta(days=1),
                        valid_from=timezone.now(), valid_until=timezone.now() + timedelta(days=2))
    assert CouponTemplate.objects.get(pk=theirs.pk).status == "active"


# --- bad templates ------------------------------------------------------------------------


def _bad(shop, **changes):
    now = timezone.now()
    data = {"name": "满100减10", "benefit": "amount", "threshold": "100", "amount_off": "10", "total_quantity": 100,
            "claim_starts_at": now, "claim_ends_at": now + timedelta(days=1), "valid_from": now,
            "valid_until": now + timedelta(days=2)}
    data.update(changes)
    before = CouponTemplate.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        create_template(actor=shop.members.first().user, shop=shop, **data)
    assert CouponTemplate.objects.count() == before
    return caught.value.fields


@pytest.mark.parametrize("changes, field", [
    ({"benefit": "percent", "percent_off": "0"}, "percent_off"),
    ({"benefit": "percent", "percent_off": "100.01"}, "percent_off"),
    ({"benefit": "percent", "percent_off": "-5"}, "percent_off"),
    ({"amount_off": "100"}, "amount_off"),  # not less than the threshold
    ({"amount_off": "-1"}, "amount_off"),
    ({"threshold": "-1"}, "threshold"),
    ({"benefit": "percent", "percent_off": "10", "max_off": "-3"}, "max_off"),
    ({"total_quantity": 0}, "total_quantity"),
    ({"total_quantity": 10**9}, "total_quantity"),
    ({"total_quantity": "ten"}, "total_quantity"),
    ({"per_user_limit": 0}, "per_user_limit"),
    ({"valid_until": timezone.now() - timedelta(days=1)}, "valid_until"),  # end before start
    ({"claim_ends_at": timezone.now() - timedelta(days=1)}, "claim_ends_at"),
    ({"validity": "days", "valid_days": 0}, "valid_days"),
    ({"benefit": "bogus"}, "benefit"),
    ({"scope": "products", "target_ids": []}, "target_ids"),
    ({"name": ""}, "name"),
])
def test_bad_templates_are_refused_by_field(shop, changes, field):
    assert field in _bad(shop, **changes)


def test_scope_naming_another_shops_product_is_refused(shop, other_shop):
    theirs = f.make_product(other_shop)
    assert _bad(shop, scope="products", target_ids=[theirs.pk]) == {"target_ids[0]": ["Not found in your shop."]}


def test_template_state_machine_walks_its_table(shop, seller):
    template = f.make_coupon_template(shop, publish=False)
    publish_template(actor=seller, shop=shop, template_id=template.pk)
    with pytest.raises(Conflict):
        publish_template(actor=seller, shop=shop, template_id=template.pk)
    stop_template(actor=seller, shop=shop, template_id=template.pk)
    with pytest.raises(Conflict):
        stop_template(actor=seller, shop=shop, template_id=template.pk)
    assert list(template.history.values_list("to_status", flat=True)) == ["draft", "active", "stopped"]


# --- payment and cancellation -------------------------------------------------------------


def test_paid_order_uses_the_coupon_for_good(shopper, shop, address, django_capture_on_commit_callbacks):
    sku = f.make_product(shop, price="150.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        mark_paid(actor=None, orders=placed.order_ids)
    coupon.refresh_from_db()
    assert coupon.status == "used" and coupon.used_at is not None
    assert tab_counts(shopper) == {"usable": 0, "used": 1, "expired": 0}


def test_cancelled_unpaid_order_returns_its_coupon_exactly_once(shopper, shop, address,
                                                                django_capture_on_commit_callbacks):
    from shopyard.promotions.coupon_services import on_order_cancelled

    sku = f.make_product(shop, price="150.00", stock=20).skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    first = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=first.order_ids[0])
    coupon.refresh_from_db()
    assert (coupon.status, coupon.returned_count, list(coupon.orders.all())) == ("available", 1, [])
    # used again on a new order, then the first cancellation is delivered a second time:
    # the coupon stays on the new order
    second = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)))
    on_order_cancelled({"order_id": first.order_ids[0]})
    coupon.refresh_from_db()
    assert (coupon.status, coupon.returned_count) == ("locked", 1)
    assert [o.pk for o in coupon.orders.all()] == second.order_ids


def test_platform_coupon_returns_only_when_every_order_is_cancelled(shopper, shop, other_shop, address,
                                                                     django_capture_on_commit_callbacks):
    a = f.make_product(shop, price="150.00").skus.get()
    b = f.make_product(other_shop, price="60.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(None, threshold="200", amount_off="40"))
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines((a, 1), (b, 1)))
    assert sorted(o.pk for o in UserCoupon.objects.get(pk=coupon.pk).orders.all()) == sorted(placed.order_ids)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=placed.order_ids[0])
    assert UserCoupon.objects.get(pk=coupon.pk).status == "locked"
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=placed.order_ids[1])
    coupon.refresh_from_db()
    assert (coupon.status, coupon.returned_count) == ("available", 1)


def test_timed_out_order_returns_its_coupon(shopper, shop, address, django_capture_on_commit_callbacks):
    from shopyard.orders.services import transition
    from shopyard.orders.state import Action

    sku = f.make_product(shop, price="150.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        transition(placed.order_ids[0], Action.EXPIRE, actor=None)
    assert UserCoupon.objects.get(pk=coupon.pk).status == "available"


def test_my_coupon_tabs(shopper, shop):
    usable = f.give_coupon(shopper, f.make_coupon_template(shop))
    old = f.give_coupon(shopper, f.make_coupon_template(shop))
    UserCoupon.objects.filter(pk=old.pk).update(valid_from=timezone.now() - timedelta(days=3),
                                                valid_until=timezone.now() - timedelta(days=1))
    assert [c.pk for c in held_coupons(shopper, "usable")] == [usable.pk]
    assert [c.pk for c in held_coupons(shopper, "expired")] == [old.pk]
    assert list(held_coupons(shopper, "used")) == []


def test_category_scope_covers_subcategories(shopper, shop):
    parent = f.make_category("家电")
    child = f.make_category("厨房电器", parent=parent)
    kettle = f.make_product(shop, price="120.00", category=child).skus.get()
    sofa = f.make_product(shop, price="120.00").skus.get()
    f.give_coupon(shopper, f.make_coupon_template(shop, scope="categories", target_ids=[parent.pk]))
    pricing = priced(shopper, (kettle, 1), (sofa, 1))
    assert [line.discount for line in pricing.lines] == [cny("10.00"), cny("0")]


def test_a_new_coupon_after_the_page_was_shown_is_not_used(shopper, shop, address):
    # the checkout page posts its pickers back: an empty choice means none, even if the
    # shopper claimed a coupon in another tab meanwhile
    sku = f.make_product(shop, price="150.00").skus.get()
    f.give_coupon(shopper, f.make_coupon_template(shop))
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)), coupons=[])
    assert Order.objects.get(pk=placed.order_ids[0]).discount_total == 0
    assert UserCoupon.objects.get().status == "available"


@pytest.mark.parametrize("status", ["draft", "active", "stopped"])
@pytest.mark.parametrize("action", ["publish", "stop"])
def test_template_transitions_follow_the_table(shop, seller, status, action):
    from shopyard.promotions.coupon_state import TEMPLATE_TRANSITIONS

    template = f.make_coupon_template(shop, publish=False)
    CouponTemplate.objects.filter(pk=template.pk).update(status=status)
    service = {"publish": publish_template, "stop": stop_template}[action]
    target = TEMPLATE_TRANSITIONS.get((status, action))
    if target is None:
        with pytest.raises(Conflict):
            service(actor=seller, shop=shop, template_id=template.pk)
        assert CouponTemplate.objects.get(pk=template.pk).status == status
    else:
        assert service(actor=seller, shop=shop, template_id=template.pk).status == target


def test_user_coupon_moves_only_along_its_table(shopper, shop, address, django_capture_on_commit_callbacks):
    from shopyard.promotions.coupon_services import on_order_cancelled, on_order_paid
    from shopyard.promotions.coupon_state import USER_COUPON_TRANSITIONS, CouponAction, from_state

    assert [from_state(a) for a in CouponAction] == ["available", "locked", "locked", "used"]
    assert set(USER_COUPON_TRANSITIONS.values()) == {"locked", "used", "available"}
    sku = f.make_product(shop, price="150.00").skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        mark_paid(actor=None, orders=placed.order_ids)
    # a paid coupon is never given back, even by a stray cancellation event
    on_order_cancelled({"order_id": placed.order_ids[0]})
    on_order_paid({"order_id": placed.order_ids[0]})
    coupon.refresh_from_db()
    assert (coupon.status, coupon.returned_count) == ("used", 0)


def test_the_best_coupon_is_looked_for_only_in_a_checkout_of_a_shopper_who_holds_one_usable_now(
        shopper, shop, other_shop, address):
    """checkout reads, with the address, whether the shopper holds any coupon usable now
    (coupon_queries.holds_usable); only then does AUTO read their coupons. Each coupon
    below is either left alone or applied, exactly as when the coupons were always read."""
    sku = f.make_product(shop, price="150.00").skus.get()
    now = timezone.now()

    def order_discount(**kw):
        placed = place_order(actor=shopper, address_id=address.pk, lines=lines((sku, 1)), **kw)
        return Order.objects.get(pk=placed.order_ids[0]).discount_total

    def statements():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert order_discount() == 0
        return len(captured.captured_queries)

    none_held = statements()  # holds none
    # held, but not usable now: expired, not yet valid, used; each costs no read of coupons either
    for valid_from, valid_until, status in ((now - timedelta(days=2), now - timedelta(seconds=1), "available"),
                                            (now + timedelta(minutes=5), now + timedelta(days=2), "available"),
                                            (now - timedelta(days=1), now + timedelta(days=2), "used")):
        UserCoupon.objects.filter(user=shopper).delete()
        coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
        UserCoupon.objects.filter(pk=coupon.pk).update(valid_from=valid_from, valid_until=valid_until, status=status)
        assert statements() == none_held
    # usable now, but in another shop: read, and not applied here
    UserCoupon.objects.filter(user=shopper).delete()
    f.give_coupon(shopper, f.make_coupon_template(other_shop))
    assert statements() == none_held + 1
    # usable now in this shop: read and applied
    UserCoupon.objects.filter(user=shopper).delete()
    f.give_coupon(shopper, f.make_coupon_template(shop))
    assert order_discount() == Decimal("10.00")
