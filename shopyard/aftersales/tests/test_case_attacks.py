"""Hostile sequences of cases on one order: what a buyer could stack to get back more than
the goods they give up, and replays of steps a case has moved past."""

from decimal import Decimal

import pytest

from shopyard.aftersales import services
from shopyard.aftersales.models import Case, CaseEvent
from shopyard.core.errors import Conflict
from shopyard.payments.models import Refund
from tests import factories as f

from .support import delivered, one_line, paid_order, reason

pytestmark = pytest.mark.django_db


def _open(buyer, order, kind="refund_only", code="quality", quantity=1, **kw):
    return services.open_case(actor=buyer, order_id=order.pk, kind=kind, reason_id=reason(code).pk,
                              lines=kw.pop("lines") if "lines" in kw else one_line(order, quantity), **kw)


@pytest.fixture
def three_units(shopper, address, shop):
    sku = f.make_product(shop, price="10.00", stock=10).skus.get()
    return delivered(paid_order(shopper, address, [(sku, 3)]))


@pytest.mark.parametrize("kind,code", [("exchange", "quality"), ("repair", "faulty")])
def test_units_kept_by_an_exchange_are_not_refunded_with_the_rest(three_units, shopper, kind, code):
    # given one unit of three (10.00 each) held by an exchange or a repair
    _open(shopper, three_units, kind=kind, code=code, quantity=1)
    # when the buyer returns the two other units
    case = _open(shopper, three_units, kind="return_refund", quantity=2)
    # then they get back the two units' share, not the whole line
    assert case.requested_amount == Decimal("20.00")
    assert list(case.lines.values_list("quantity", "amount")) == [(2, Decimal("20.00"))]


def test_exchange_share_with_thirds_leaves_the_remainder_to_the_refund(shopper, address, shop):
    sku = f.make_product(shop, price="40.00", stock=10).skus.get()
    f.make_promotion(shop, "spend_tiers", {"tiers": [{"threshold": "120", "amount_off": "20"}]})
    order = delivered(paid_order(shopper, address, [(sku, 3)]))
    assert order.lines.get().net_total == Decimal("100")
    _open(shopper, order, kind="exchange", quantity=1)
    assert _open(shopper, order, kind="return_refund", quantity=2).requested_amount == Decimal("66.67")


def test_ship_return_after_the_case_closed_is_a_409_with_nothing_written(three_units, shopper, seller, shop):
    case = _open(shopper, three_units, kind="return_refund")
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    services.cancel_case(actor=shopper, case_id=case.pk)
    events = CaseEvent.objects.count()
    with pytest.raises(Conflict):
        services.ship_return(actor=shopper, case_id=case.pk, carrier="zto", tracking_number="73100000000001")
    case.refresh_from_db()
    assert (case.status, case.return_tracking, CaseEvent.objects.count()) == ("cancelled", "", events)


def test_inspect_twice_is_a_409_and_refunds_once(three_units, shopper, seller, shop):
    case = _open(shopper, three_units, kind="return_refund")
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    services.ship_return(actor=shopper, case_id=case.pk, carrier="zto", tracking_number="73100000000001")
    services.receive(actor=seller, shop=shop, case_id=case.pk)
    services.inspect(actor=seller, shop=shop, case_id=case.pk, resaleable=True)
    with pytest.raises(Conflict):
        services.inspect(actor=seller, shop=shop, case_id=case.pk, resaleable=True)
    assert Refund.objects.count() == 1
    assert Case.objects.get(pk=case.pk).status == "refunding"


def test_the_statistics_csv_does_not_run_a_sellers_formula(shopper, address):
    # given a hostile seller's shop and product named like spreadsheet formulas, with a case
    from shopyard.aftersales import stats
    from shopyard.catalog.models import Product
    from shopyard.shops.models import Shop

    shop_name, title = '=HYPERLINK("http://evil.example","x")', "@SUM(1+1)*cmd|' /C calc'!A0"
    evil = f.make_shop(shop_name)
    Shop.objects.filter(pk=evil.pk).update(name_en=shop_name)
    sku = f.make_product(evil, price="10.00", title=title).skus.get()
    Product.objects.filter(pk=sku.product_id).update(title=title, title_en=title)
    order = delivered(paid_order(shopper, address, [(sku, 1)]))
    _open(shopper, order)
    # when an operator exports every shop's figures
    rows = stats.csv_rows(stats.figures(shop=None, period=stats.parse_period()))
    # then no text cell starts with a character a spreadsheet reads as a formula
    texts = [cell for row in rows for cell in row if isinstance(cell, str)]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in texts
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in texts
    assert not [t for t in texts if t[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_a_partial_decision_is_not_undone_by_a_case_on_the_other_units(shopper, address, shop, seller,
                                                                        home_operator):
    # given two units of 50.00; the refund of one was disputed and decided at 20.00
    sku = f.make_product(shop, price="50.00", stock=10).skus.get()
    order = delivered(paid_order(shopper, address, [(sku, 2)]))
    first = _open(shopper, order, quantity=1)
    services.reject(actor=seller, shop=shop, case_id=first.pk, note="used")
    services.escalate(actor=shopper, case_id=first.pk, note="it was broken")
    services.decide(actor=home_operator, case_id=first.pk, decision="partial", amount="20", note="half-ish")
    # when the buyer asks for the other unit
    second = _open(shopper, order, quantity=1)
    # then that unit's own 50.00 is asked, not the 30.00 the operator did not grant as well
    assert second.requested_amount == Decimal("50.00")


def test_units_the_shop_refunded_itself_are_not_offered_again(shopper, address, shop, seller):
    # given two units of 50.00, one of which the shop refunded from its console (not a case)
    from shopyard.aftersales.queries import lines_left
    from shopyard.core.errors import ValidationFailed
    from shopyard.payments.refunds import refund_order_lines

    sku = f.make_product(shop, price="50.00", stock=10).skus.get()
    order = delivered(paid_order(shopper, address, [(sku, 2)]))
    line = order.lines.get()
    refund_order_lines(actor=seller, shop=shop, order_id=order.pk, lines=[{"line_id": line.pk, "quantity": 1}],
                       reason="one was missing")
    # when the buyer asks to return both units
    with pytest.raises(ValidationFailed) as exc:
        _open(shopper, order, kind="return_refund", quantity=2)
    # then only the one unit not refunded is left (a case for two could never be refunded)
    assert exc.value.fields == {"lines[0].quantity": ["Only 1 unit(s) of this line are left for after-sales."]}
    assert lines_left(order) == {line.pk: 1}
    assert Case.objects.count() == 0
    assert _open(shopper, order, kind="return_refund", quantity=1).requested_amount == Decimal("50.00")


def test_no_photos_are_added_to_a_case_that_ended(three_units, shopper, media):
    # given a case the buyer withdrew
    from shopyard.aftersales.models import CasePhoto

    case = _open(shopper, three_units)
    services.cancel_case(actor=shopper, case_id=case.pk)
    events = CaseEvent.objects.count()
    # when they keep uploading "evidence" to it
    with pytest.raises(Conflict) as exc:
        services.add_photos(actor=shopper, case_id=case.pk, photos=[f.png_upload()])
    # then a 409 and nothing written
    assert exc.value.status == 409
    assert (CasePhoto.objects.count(), CaseEvent.objects.count()) == (0, events)


def test_a_side_adds_at_most_so_many_photos_to_one_case(three_units, shopper, media):
    from shopyard.aftersales.models import CasePhoto
    from shopyard.core.errors import ValidationFailed

    case = _open(shopper, three_units)
    for _i in range(-(-services.MAX_CASE_PHOTOS // services.MAX_PHOTOS)):
        services.add_photos(actor=shopper, case_id=case.pk, photos=[f.png_upload() for _p in range(services.MAX_PHOTOS)])
    with pytest.raises(ValidationFailed) as exc:
        services.add_photos(actor=shopper, case_id=case.pk, photos=[f.png_upload()])
    assert exc.value.fields == {"photos": [f"A case holds at most {services.MAX_CASE_PHOTOS} photos from each side."]}
    assert CasePhoto.objects.count() == services.MAX_CASE_PHOTOS


def test_a_buyer_withdraws_a_rejected_case_and_asks_again(three_units, shopper, seller, shop):
    # given a refund of every unit the shop rejected ("send it back first")
    case = _open(shopper, three_units, quantity=3)
    services.reject(actor=seller, shop=shop, case_id=case.pk, note="return it first")
    # when the buyer withdraws it instead of asking the platform
    services.cancel_case(actor=shopper, case_id=case.pk)
    # then the units are free for the request the shop asked for
    case.refresh_from_db()
    assert case.status == "cancelled"
    assert _open(shopper, three_units, kind="return_refund", quantity=3).requested_amount == Decimal("30.00")


def test_the_shop_never_sees_which_operator_decided(three_units, shopper, seller, shop, home_operator, api,
                                                    seller_token):
    # given a dispute an operator decided
    case = _open(shopper, three_units)
    services.escalate(actor=seller, shop=shop, case_id=case.pk, note="fraud")
    services.decide(actor=home_operator, case_id=case.pk, decision="reject", note="no evidence")
    # when the shop reads the case
    r = api.get(f"/seller/aftersales/cases/{case.pk}", token=seller_token)
    # then the decision is the platform's, not an operator's login name
    decided = [e for e in r.json()["timeline"] if e["role"] == "operator"]
    assert [e["actor"] for e in decided] == ["the platform"]
    assert home_operator.username not in r.content.decode()


def test_a_unit_the_shop_refunded_in_part_does_not_raise_the_last_units_share(shopper, address, shop, seller):
    # given two units of 50.00; the shop refunded one of them itself with 20.00
    from shopyard.payments.refunds import refund_order_lines

    sku = f.make_product(shop, price="50.00", stock=10).skus.get()
    order = delivered(paid_order(shopper, address, [(sku, 2)]))
    line = order.lines.get()
    refund_order_lines(actor=seller, shop=shop, order_id=order.pk, reason="scratched",
                       lines=[{"line_id": line.pk, "quantity": 1, "amount": "20.00"}])
    # when the buyer returns the other unit, it is worth its own 50.00, not the 80.00 left on the line
    assert _open(shopper, order, kind="return_refund", quantity=1).requested_amount == Decimal("50.00")


@pytest.mark.parametrize("received", ["2026-11-01T20:00", "2026-11-01T00:30"])
def test_the_seven_day_window_runs_to_the_end_of_the_seventh_local_day(three_units, shopper, settings, received):
    # given goods received on 1 November in Shanghai (00:30 there is still 31 October in UTC)
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from shopyard.aftersales.queries import order_offers
    from shopyard.core.errors import ValidationFailed
    from shopyard.orders.models import Order

    settings.TIME_ZONE = "Asia/Shanghai"
    shanghai = ZoneInfo("Asia/Shanghai")
    at = datetime.fromisoformat(received).replace(tzinfo=shanghai)
    Order.objects.filter(pk=three_units.pk).update(delivered_at=at, shipped_at=at - timedelta(days=1))
    three_units.refresh_from_db()
    last_moment = datetime(2026, 11, 8, 23, 59, 59, tzinfo=shanghai)
    closed = datetime(2026, 11, 9, 0, 0, 0, tzinfo=shanghai)
    # then "changed my mind" is open to the very end of 8 November (seven days after the day of receipt)
    assert "aftersales" in order_offers(three_units, now=last_moment)
    case = services.open_case(actor=shopper, order_id=three_units.pk, kind="return_refund",
                              reason_id=reason("changed_mind").pk, lines=one_line(three_units), now=last_moment)
    assert case.status == "requested"
    # and closed from midnight on
    with pytest.raises(ValidationFailed) as exc:
        services.open_case(actor=shopper, order_id=three_units.pk, kind="return_refund",
                           reason_id=reason("changed_mind").pk, lines=one_line(three_units), now=closed)
    assert list(exc.value.fields) == ["reason_id"]


def test_a_side_that_let_its_deadline_pass_cannot_act_before_the_job_runs(three_units, shopper, seller, shop):
    # given a case whose respond deadline passed a minute ago (the deadline job has not run yet)
    from datetime import timedelta

    from django.utils import timezone

    case = _open(shopper, three_units, kind="return_refund")
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    events = CaseEvent.objects.count()
    # when the late shop rejects (or escalates) it, then a 409 and nothing written
    with pytest.raises(Conflict) as exc:
        services.reject(actor=seller, shop=shop, case_id=case.pk, note="too late")
    assert (exc.value.status, exc.value.code) == (409, "deadline_passed")
    with pytest.raises(Conflict):
        services.escalate(actor=seller, shop=shop, case_id=case.pk, note="dodge")
    assert (Case.objects.get(pk=case.pk).status, CaseEvent.objects.count()) == ("requested", events)
    # the job approves it as the rule says
    assert services.run_deadlines() == 1
    case.refresh_from_db()
    assert (case.status, case.seller_missed_deadline) == ("approved", True)
    # and a buyer who let the return deadline pass cannot ship it any more
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    with pytest.raises(Conflict):
        services.ship_return(actor=shopper, case_id=case.pk, carrier="zto", tracking_number="73100000000001")
    assert Case.objects.get(pk=case.pk).return_tracking == ""


def test_a_deadline_the_system_cannot_carry_out_is_parked_once_not_retried_every_run(shopper, address, shop, seller):
    # given a refund case on one unit, and the shop refunding that unit itself from its console meanwhile
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.payments.refunds import refund_order_lines

    sku = f.make_product(shop, price="50.00", stock=10).skus.get()
    order = delivered(paid_order(shopper, address, [(sku, 1)]))
    case = _open(shopper, order, kind="refund_only", quantity=1)
    refund_order_lines(actor=seller, shop=shop, order_id=order.pk,
                       lines=[{"line_id": order.lines.get().pk, "quantity": 1}], reason="refunded by phone")
    refunds = Refund.objects.count()
    # when the shop's answer deadline passes, the job cannot approve and refund (nothing is left to refund)
    later = timezone.now() + timedelta(days=30)
    assert services.run_deadlines(now=later) == 0
    # then the case keeps its status without a deadline, the timeline says why, and no run tries it again
    case.refresh_from_db()
    assert (case.status, case.deadline) == ("requested", None)
    parked = CaseEvent.objects.filter(case=case, action="deadline_failed").get()
    assert parked.role == "system" and parked.note
    from shopyard.aftersales.queries import event_label

    assert event_label(parked) == "Deadline passed: the system could not carry out its step"
    assert services.run_deadlines(now=later + timedelta(days=1)) == 0
    assert CaseEvent.objects.filter(case=case, action="deadline_failed").count() == 1
    assert Refund.objects.count() == refunds
    # and either side can still take it to the platform
    services.escalate(actor=shopper, case_id=case.pk, note="店家已电话退款，请平台确认")
    case.refresh_from_db()
    assert case.status == "disputed"
