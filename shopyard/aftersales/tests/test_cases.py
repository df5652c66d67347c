"""After-sales cases through their services: opening rules, every case type carried to its
end, disputes, refunds only through payments, stock back only when resaleable."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from shopyard.aftersales import services
from shopyard.aftersales.models import Case, CaseEvent, CaseLine, CreditEntry
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order
from shopyard.payments import refunds
from shopyard.payments.models import Refund, RefundLine
from tests import factories as f

from .support import delivered, one_line, paid_order, reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(shopper, address, shop):
    sku = f.make_product(shop, price="100.00", stock=10).skus.get()
    return paid_order(shopper, address, [(sku, 2)])


def _open(buyer, order, kind="refund_only", code="quality", quantity=1, **kw):
    return services.open_case(actor=buyer, order_id=order.pk, kind=kind, reason_id=reason(code).pk,
                              lines=kw.pop("lines") if "lines" in kw else one_line(order, quantity), **kw)


def _refund_done(case):
    case.refresh_from_db()
    refunds.perform_refund(refund_id=case.refund_id)
    services.on_refund_succeeded({"refund_id": case.refund_id})
    case.refresh_from_db()
    return case


def _nothing_written():
    return (Case.objects.count(), CaseLine.objects.count(), CaseEvent.objects.count(), Refund.objects.count())


# --- opening: bad input ---------------------------------------------------------------


def test_lines_of_someone_elses_order_are_not_found(order, other_shopper):
    with pytest.raises(NotFound):
        _open(other_shopper, order)
    assert _nothing_written() == (0, 0, 0, 0)


def test_a_line_of_another_order_is_refused(order, shopper, address, shop):
    other = paid_order(shopper, address, [(f.make_product(shop, price="5.00").skus.get(), 1)])
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, lines=one_line(other))
    assert exc.value.fields == {"lines[0].line_id": ["This line is not part of the order."]}
    assert _nothing_written() == (0, 0, 0, 0)


def test_unpaid_and_cancelled_orders_are_refused_with_409(shopper, address, sku):
    from shopyard.checkout.services import place_order
    from shopyard.orders.services import cancel_by_buyer

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    unpaid = Order.objects.get(pk=placed.order_ids[0])
    with pytest.raises(Conflict) as exc:
        _open(shopper, unpaid)
    assert (exc.value.status, exc.value.code) == (409, "order_not_eligible")
    cancel_by_buyer(actor=shopper, order_id=unpaid.pk)
    with pytest.raises(Conflict):
        _open(shopper, unpaid)
    assert _nothing_written() == (0, 0, 0, 0)


def test_a_return_on_an_order_not_shipped_is_refused(order, shopper):
    with pytest.raises(Conflict) as exc:
        _open(shopper, order, kind="return_refund")
    assert exc.value.code == "not_shipped"
    assert _nothing_written() == (0, 0, 0, 0)


def test_outside_the_window_is_refused_and_inside_accepted(order, shopper):
    # delivered 8 days ago: "changed my mind" (7 days) is closed, "quality" (15 days) open
    delivered(order, days_ago=8)
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, kind="return_refund", code="changed_mind")
    assert list(exc.value.fields) == ["reason_id"] and "closed on" in exc.value.fields["reason_id"][0]
    assert _nothing_written() == (0, 0, 0, 0)
    case = _open(shopper, order, kind="return_refund", code="quality")
    assert case.status == "requested"


def test_the_shop_policy_overrides_the_window(order, shopper, shop):
    from shopyard.aftersales.models import ShopPolicy

    ShopPolicy.objects.create(shop=shop, changed_mind_days=10)
    delivered(order, days_ago=8)
    assert _open(shopper, order, kind="return_refund", code="changed_mind").status == "requested"


def test_quantity_above_what_is_left_is_refused(order, shopper):
    delivered(order)
    _open(shopper, order, kind="return_refund", quantity=1)
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, kind="exchange", quantity=2)
    assert exc.value.fields == {"lines[0].quantity": ["Only 1 unit(s) of this line are left for after-sales."]}
    assert Case.objects.count() == 1
    # a cancelled case gives its units back
    services.cancel_case(actor=shopper, case_id=Case.objects.get().pk)
    assert _open(shopper, order, kind="exchange", quantity=2).requested_amount == Decimal("200")


@pytest.mark.parametrize("lines,field", [
    ([], "lines"),
    ([{"line_id": "x", "quantity": 1}], "lines[0].line_id"),
    ([{"line_id": 1, "quantity": 0}], "lines[0].quantity"),
    ([{"line_id": 1, "quantity": "²"}], "lines[0].quantity"),
    (["nope"], "lines[0]"),
])
def test_malformed_lines_are_refused(order, shopper, lines, field):
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, lines=lines)
    assert field in exc.value.fields
    assert _nothing_written() == (0, 0, 0, 0)


def test_a_reason_not_for_the_type_and_an_unknown_type_are_refused(order, shopper):
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, kind="refund_only", code="price_protection")
    assert list(exc.value.fields) == ["reason_id"]
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, kind="teleport")
    assert list(exc.value.fields) == ["kind"]


def test_oversized_and_non_image_photos_are_refused(order, shopper, media, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, photos=[SimpleUploadedFile("a.jpg", b"not an image", "image/jpeg")])
    assert exc.value.fields == {"photos": ["Upload a valid JPEG, PNG, WebP or GIF image."]}
    settings.MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, photos=[f.png_upload(size=(400, 400))])
    assert list(exc.value.fields) == ["photos"] and "larger than" in exc.value.fields["photos"][0]
    assert _nothing_written() == (0, 0, 0, 0)


def test_compensation_above_the_paid_amount_is_refused(order, shopper):
    delivered(order)
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, kind="compensation", code="price_protection", amount="100.01", compensation="refund")
    assert exc.value.fields == {"amount": ["At most ¥100.00 can be asked for these lines."]}
    for bad in ("-1", "0", "abc", "1.001"):
        with pytest.raises(ValidationFailed):
            _open(shopper, order, kind="compensation", code="price_protection", amount=bad, compensation="refund")
    assert _nothing_written() == (0, 0, 0, 0)


# --- every type to its end ------------------------------------------------------------


def test_refund_only_runs_to_refunded_through_payments(order, shopper, seller, shop):
    case = _open(shopper, order, quantity=1)
    assert (case.requested_amount, case.deadline is not None) == (Decimal("100"), True)
    services.approve(actor=seller, shop=shop, case_id=case.pk, note="ok")
    case.refresh_from_db()
    assert case.status == "refunding" and case.refund.kind == "lines"
    assert list(RefundLine.objects.values_list("line_id", "quantity", "amount")) == [
        (order.lines.get().pk, 1, Decimal("100"))]
    case = _refund_done(case)
    assert case.status == "refunded" and case.refunded_at and case.closed_at and case.deadline is None
    assert list(case.events.values_list("action", "role")) == [
        ("open", "buyer"), ("approve", "seller"), ("refund", "system"), ("refund_done", "system")]


def test_return_and_refund_restocks_only_resaleable_goods(order, shopper, seller, shop):
    delivered(order)
    sku = order.lines.get().sku
    stock = StockLevel.objects.get(sku=sku).quantity
    case = _open(shopper, order, kind="return_refund", quantity=2)
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    services.ship_return(actor=shopper, case_id=case.pk, carrier="sf", tracking_number="SF1234567890123")
    services.receive(actor=seller, shop=shop, case_id=case.pk)
    services.inspect(actor=seller, shop=shop, case_id=case.pk, resaleable=True, note="like new")
    case.refresh_from_db()
    assert case.status == "refunding" and case.resaleable is True and case.approved_amount == Decimal("200")
    assert StockLevel.objects.get(sku=sku).quantity == stock + 2
    assert StockMovement.objects.filter(reason="aftersales_return", order=order).get().delta == 2
    assert _refund_done(case).status == "refunded"


def test_goods_not_resaleable_stay_out_of_stock(order, shopper, seller, shop):
    delivered(order)
    sku = order.lines.get().sku
    stock = StockLevel.objects.get(sku=sku).quantity
    case = _open(shopper, order, kind="return_refund", quantity=1)
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    services.ship_return(actor=shopper, case_id=case.pk, carrier="sf", tracking_number="SF1234567890123")
    services.receive(actor=seller, shop=shop, case_id=case.pk)
    services.inspect(actor=seller, shop=shop, case_id=case.pk, resaleable=False)
    assert StockLevel.objects.get(sku=sku).quantity == stock
    assert not StockMovement.objects.filter(reason="aftersales_return").exists()


@pytest.mark.parametrize("kind,code", [("exchange", "quality"), ("repair", "faulty")])
def test_exchange_and_repair_run_to_completed(order, shopper, seller, shop, kind, code):
    delivered(order)
    case = _open(shopper, order, kind=kind, code=code)
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    services.ship_return(actor=shopper, case_id=case.pk, carrier="zto", tracking_number="73100000000001")
    services.receive(actor=seller, shop=shop, case_id=case.pk)
    services.inspect(actor=seller, shop=shop, case_id=case.pk, resaleable=False)
    services.ship_replacement(actor=seller, shop=shop, case_id=case.pk, carrier="sf",
                              tracking_number="SF1234567890999")
    services.confirm_case(actor=shopper, case_id=case.pk)
    case.refresh_from_db()
    assert case.status == "completed" and case.replacement_tracking == "SF1234567890999"
    assert not Refund.objects.exists()
    moved = StockMovement.objects.filter(reason="aftersales_replace").count()
    assert moved == (1 if kind == "exchange" else 0)


def test_compensation_as_store_credit_writes_a_credit_row(order, shopper, seller, shop):
    delivered(order)
    case = _open(shopper, order, kind="compensation", code="price_protection", amount="15.50",
                 compensation="credit")
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    case.refresh_from_db()
    assert case.status == "completed"
    assert list(CreditEntry.objects.values_list("user_id", "amount", "case_id")) == [
        (shopper.pk, Decimal("15.5"), case.pk)]
    assert not Refund.objects.exists()


def test_compensation_as_partial_refund(order, shopper, seller, shop):
    delivered(order)
    case = _open(shopper, order, kind="compensation", code="damaged", amount="30", compensation="refund")
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    case.refresh_from_db()
    assert case.status == "refunding"
    assert list(RefundLine.objects.values_list("quantity", "amount")) == [(None, Decimal("30"))]


# --- disputes -------------------------------------------------------------------------


def test_rejected_case_escalated_and_decided_in_part(order, shopper, seller, shop, home_operator):
    case = _open(shopper, order, quantity=2)
    services.reject(actor=seller, shop=shop, case_id=case.pk, note="used")
    services.escalate(actor=shopper, case_id=case.pk, note="it was broken", photos=[f.png_upload()])
    with pytest.raises(ValidationFailed):
        services.decide(actor=home_operator, case_id=case.pk, decision="partial", amount="200")
    services.decide(actor=home_operator, case_id=case.pk, decision="partial", amount="80", note="half-ish")
    case.refresh_from_db()
    assert (case.status, case.decision, case.approved_amount, case.escalated_by) == (
        "refunding", "partial", Decimal("80"), "buyer")
    assert Refund.objects.get().amount == Decimal("80")


def test_decide_reject_ends_the_case(order, shopper, seller, shop, home_operator):
    delivered(order)
    case = _open(shopper, order, kind="return_refund")
    services.escalate(actor=seller, shop=shop, case_id=case.pk, note="fraud")
    services.decide(actor=home_operator, case_id=case.pk, decision="reject", note="no evidence")
    case.refresh_from_db()
    assert (case.status, case.escalated_by) == ("closed", "seller")
    with pytest.raises(Conflict):
        services.escalate(actor=shopper, case_id=case.pk, note="again")


def test_only_staff_decide(order, shopper, seller, shop):
    case = _open(shopper, order)
    services.escalate(actor=shopper, case_id=case.pk, note="help")
    with pytest.raises(NotFound):
        services.decide(actor=seller, case_id=case.pk, decision="full", note="mine")


def test_a_seller_cannot_act_on_another_shops_case(order, shopper, other_shop):
    case = _open(shopper, order)
    with pytest.raises(NotFound):
        services.approve(actor=None, shop=other_shop, case_id=case.pk)
    case.refresh_from_db()
    assert case.status == "requested"


def test_an_action_the_status_does_not_allow_is_a_409(order, shopper):
    case = _open(shopper, order)
    with pytest.raises(Conflict) as exc:
        services.confirm_case(actor=shopper, case_id=case.pk)
    assert exc.value.status == 409
    case.refresh_from_db()
    assert (case.status, case.events.count()) == ("requested", 1)


# --- money across cases ---------------------------------------------------------------


def test_cases_never_refund_more_than_was_paid(shopper, address, shop, seller):
    # 3 units for 100.00 after a discount: 33.33 + 33.33 + the 33.34 remainder
    sku = f.make_product(shop, price="40.00", stock=10).skus.get()
    f.make_promotion(shop, "spend_tiers", {"tiers": [{"threshold": "120", "amount_off": "20"}]})
    order = delivered(paid_order(shopper, address, [(sku, 3)]))
    line = order.lines.get()
    assert line.net_total == Decimal("100")
    cases = [_open(shopper, order, quantity=1) for _i in range(3)]
    assert [c.requested_amount for c in cases] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    for case in cases:
        services.approve(actor=seller, shop=shop, case_id=case.pk)
    assert RefundLine.objects.filter(line=line).aggregate(s=Sum("amount"))["s"] == Decimal("100")
    with pytest.raises(ValidationFailed):
        _open(shopper, order, quantity=1)


# --- a full refund gives the coupon back and tells loyalty ----------------------------


def test_full_refund_of_an_order_returns_its_coupon_and_emits_case_refunded(shopper, address, shop, seller):
    from shopyard.core.models import OutboxEvent
    from shopyard.promotions import coupon_services
    from shopyard.promotions.models import UserCoupon

    sku = f.make_product(shop, price="60.00", stock=10).skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))  # ¥10 off ¥100
    order = paid_order(shopper, address, [(sku, 2)])
    coupon_services.on_order_paid({"order_id": order.pk})  # as order.paid delivers it after commit
    coupon.refresh_from_db()
    assert coupon.status == "used" and order.lines.get().net_total == Decimal("110")
    # a first case for one unit: not the whole order, the coupon stays used
    first = _open(shopper, order, quantity=1)
    services.approve(actor=seller, shop=shop, case_id=first.pk)
    _refund_done(first)
    coupon.refresh_from_db()
    assert coupon.status == "used"
    # the second unit: now every line is refunded in full, the coupon comes back
    second = _open(shopper, order, quantity=1)
    assert second.requested_amount == Decimal("55")
    services.approve(actor=seller, shop=shop, case_id=second.pk)
    _refund_done(second)
    coupon.refresh_from_db()
    assert (coupon.status, coupon.returned_count) == ("available", 1)
    assert not UserCoupon.orders.through.objects.filter(usercoupon_id=coupon.pk).exists()
    payloads = list(OutboxEvent.objects.filter(name="aftersales_case.refunded").order_by("pk")
                    .values_list("payload", flat=True))
    assert [(p["case_id"], p["order_refunded_in_full"], p["coupons_returned"]) for p in payloads] == [
        (first.pk, False, 0), (second.pk, True, 1)]
    # a replayed refund notification changes nothing
    services.on_refund_succeeded({"refund_id": second.refund_id})
    assert OutboxEvent.objects.filter(name="aftersales_case.refunded").count() == 2


def test_a_paid_order_refunded_in_full_before_shipping_is_closed(order, shopper, seller, shop):
    from shopyard.core.models import OutboxEvent

    sku = order.lines.get().sku
    stock = StockLevel.objects.get(sku=sku).quantity
    first = _open(shopper, order, quantity=1)
    services.approve(actor=seller, shop=shop, case_id=first.pk)
    order.refresh_from_db()
    assert order.status == "paid"  # one unit is still to ship
    second = _open(shopper, order, quantity=1)
    services.approve(actor=seller, shop=shop, case_id=second.pk)
    order.refresh_from_db()
    assert order.status == "cancelled" and order.history.last().action == "close"
    assert StockLevel.objects.get(sku=sku).quantity == stock + 2
    assert OutboxEvent.objects.filter(name="order.cancelled", payload__order_id=order.pk).count() == 1


def test_an_expired_coupon_is_not_returned_by_a_full_refund(shopper, address, shop, seller):
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions import coupon_services
    from shopyard.promotions.models import UserCoupon

    sku = f.make_product(shop, price="120.00", stock=10).skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    order = paid_order(shopper, address, [(sku, 1)])
    coupon_services.on_order_paid({"order_id": order.pk})
    UserCoupon.objects.filter(pk=coupon.pk).update(valid_until=timezone.now() - timedelta(minutes=1),
                                                   valid_from=timezone.now() - timedelta(days=2))
    case = _open(shopper, order, quantity=1)
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    _refund_done(case)
    coupon.refresh_from_db()
    assert (case.status, coupon.status, coupon.returned_count) == ("refunded", "used", 0)
