"""The written rules: commission rounding, proportional reversal, which rate applies,
0–100 % rates, the weekly period and its job, and the statement state machine."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shopyard.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shopyard.settlement import services
from shopyard.settlement.models import (
    CategoryCommission,
    Entry,
    ShopCommission,
    Statement,
    StatementStatusChange,
)
from shopyard.settlement.state import TRANSITIONS, Action, Status
from tests import factories as f

from .conftest import complete

D = Decimal


@pytest.mark.parametrize(("paid", "rate", "currency", "commission"), [
    ("113.52", "6.5", "CNY", "7.38"),     # 7.3788 → 7.38
    ("0.10", "5", "CNY", "0.01"),         # 0.005 → 0.01: half up
    ("0.09", "5", "CNY", "0.00"),         # 0.0045 → 0.00
    ("100.00", "0", "CNY", "0.00"),
    ("100.00", "100", "CNY", "100.00"),
    ("105", "5", "JPY", "5"),             # 5.25 yen → 5: the currency's minor unit
    ("110", "5", "JPY", "6"),             # 5.5 → 6
])
def test_commission_is_paid_times_rate_rounded_half_up_to_the_minor_unit(paid, rate, currency, commission):
    assert services.commission_for(D(paid), D(rate), currency) == D(commission)


def test_refunds_reverse_commission_cumulatively_so_the_parts_add_up_exactly():
    # a line that paid 100.00 with a commission of 3.33, refunded in three thirds
    paid, commission, done, parts = D("100.00"), D("3.33"), D("0"), []
    for refunded in (D("33.33"), D("66.66"), D("100.00")):
        target = services.reversed_share(commission, refunded, paid, "CNY")
        parts.append(target - done)
        done = target
    assert parts == [D("1.11"), D("1.11"), D("1.11")] and sum(parts) == commission
    # never more than the whole, nothing from a zero line
    assert services.reversed_share(commission, D("150"), paid, "CNY") == commission
    assert services.reversed_share(commission, D("1"), D("0"), "CNY") == 0


@pytest.mark.django_db
def test_the_rate_that_applies_shop_override_then_nearest_category_then_default(operator, shop, settings):
    settings.SETTLEMENT_DEFAULT_COMMISSION_RATE = "4"
    parent = f.make_category("数码")
    child = f.make_category("耳机", parent=parent)
    other = f.make_category("家居")
    assert services.commission_rate(shop_id=shop.pk, category_id=child.pk) == D("4")
    services.set_category_rate(actor=operator, category_id=parent.pk, rate="8")
    assert services.commission_rate(shop_id=shop.pk, category_id=child.pk) == D("8.00")  # inherited
    assert services.commission_rate(shop_id=shop.pk, category_id=other.pk) == D("4")
    services.set_category_rate(actor=operator, category_id=child.pk, rate="2.5")
    assert services.commission_rate(shop_id=shop.pk, category_id=child.pk) == D("2.50")
    services.set_shop_rate(actor=operator, shop_id=shop.pk, rate="1")
    assert services.commission_rate(shop_id=shop.pk, category_id=child.pk) == D("1.00")
    services.clear_shop_rate(actor=operator, shop_id=shop.pk)
    assert services.commission_rate(shop_id=shop.pk, category_id=child.pk) == D("2.50")


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "message"), [
    ("-1", "between 0 and 100"), ("100.01", "between 0 and 100"), ("1e3", "between 0 and 100"),
    ("abc", "such as 5"), ("NaN", "such as 5"), ("Infinity", "such as 5"), ("", "such as 5"),
    ("1.234", "2 decimal places"), (True, "such as 5"), (None, "such as 5"),
])
def test_a_rate_outside_0_to_100_or_not_a_number_is_refused_and_nothing_changes(operator, shop, value, message):
    category = f.make_category()
    services.set_category_rate(actor=operator, category_id=category.pk, rate="5")
    with pytest.raises(ValidationFailed) as exc:
        services.set_category_rate(actor=operator, category_id=category.pk, rate=value)
    assert message in str(exc.value.fields["rate"][0])
    with pytest.raises(ValidationFailed):
        services.set_shop_rate(actor=operator, shop_id=shop.pk, rate=value)
    assert list(CategoryCommission.objects.values_list("rate", flat=True)) == [D("5.00")]
    assert not ShopCommission.objects.exists()


@pytest.mark.django_db
def test_only_operators_set_rates_and_unknown_ids_are_not_found(seller, operator, shop):
    category = f.make_category()
    with pytest.raises(PermissionDenied):
        services.set_category_rate(actor=seller, category_id=category.pk, rate="5")
    with pytest.raises(PermissionDenied):
        services.set_shop_rate(actor=seller, shop_id=shop.pk, rate="5")
    with pytest.raises(NotFound):
        services.set_category_rate(actor=operator, category_id=999999, rate="5")
    with pytest.raises(NotFound):
        services.set_shop_rate(actor=operator, shop_id=999999, rate="5")
    with pytest.raises(NotFound):
        services.clear_shop_rate(actor=operator, shop_id=shop.pk)
    assert not CategoryCommission.objects.exists() and not ShopCommission.objects.exists()


def test_the_week_runs_monday_to_monday_in_the_platform_time_zone(settings):
    tz = ZoneInfo(settings.TIME_ZONE)
    # Sunday 23:30 in Shanghai is still last week; it is Sunday 15:30 UTC
    sunday = datetime(2026, 11, 29, 23, 30, tzinfo=tz)
    assert services.period_bounds(sunday) == (datetime(2026, 11, 23, tzinfo=tz), datetime(2026, 11, 30, tzinfo=tz))
    monday = datetime(2026, 11, 30, 0, 0, tzinfo=tz)
    assert services.period_bounds(monday)[0] == datetime(2026, 11, 30, tzinfo=tz)


def test_the_statement_transition_table():
    assert TRANSITIONS == {(Status.OPEN, Action.CLOSE): Status.CLOSED,
                           (Status.CLOSED, Action.MARK_PAID): Status.PAID}


@pytest.mark.django_db
def test_statement_actions_in_every_state(two_shop_checkout, shopper, shop, operator, seller):
    mine, _theirs = two_shop_checkout
    complete(mine, shopper)
    statement = Statement.objects.get(shop=shop)
    # open: not paid, not closed before the week ends
    with pytest.raises(InvalidTransition):
        services.mark_paid(actor=operator, statement_id=statement.pk)
    with pytest.raises(Conflict) as exc:
        services.close_statement(actor=operator, statement_id=statement.pk)
    assert exc.value.code == "period_not_ended"
    with pytest.raises(PermissionDenied):
        services.close_statement(actor=seller, statement_id=statement.pk, now=statement.period_end)
    # closed: not closed again
    services.close_statement(actor=operator, statement_id=statement.pk, now=statement.period_end)
    with pytest.raises(InvalidTransition):
        services.close_statement(actor=operator, statement_id=statement.pk, now=statement.period_end)
    # a seller never marks paid; a too-long reference is refused; nothing changed
    with pytest.raises(PermissionDenied):
        services.mark_paid(actor=seller, statement_id=statement.pk)
    with pytest.raises(ValidationFailed):
        services.mark_paid(actor=operator, statement_id=statement.pk, reference="x" * 65)
    with pytest.raises(NotFound):
        services.mark_paid(actor=operator, statement_id=999999)
    statement.refresh_from_db()
    assert statement.status == "closed" and not Entry.objects.filter(kind="payout").exists()
    assert list(StatementStatusChange.objects.values_list("to_status", flat=True)) == ["closed"]
    # paid: nothing further
    services.mark_paid(actor=operator, statement_id=statement.pk)
    for action in (services.mark_paid, services.close_statement):
        with pytest.raises(InvalidTransition):
            action(actor=operator, statement_id=statement.pk)


@pytest.mark.django_db
def test_the_weekly_job_closes_each_shops_ended_week_once(two_shop_checkout, shopper, shop, other_shop):
    mine, theirs = two_shop_checkout
    complete(mine, shopper)
    complete(theirs, shopper)
    end = Statement.objects.get(shop=shop).period_end
    assert services.close_due_statements(now=end) == 2
    assert services.close_due_statements(now=end) == 0
    assert sorted(Statement.objects.values_list("shop_id", "status")) == sorted(
        [(shop.pk, "closed"), (other_shop.pk, "closed")])
