"""The money of a marketplace order from payment to payout, driven as people drive it:
a shopper buys from two shops with a platform coupon and pays; each shop ships its own
order; the shopper confirms receipt; the ledger takes the commission per line; the week
closes; an operator pays the shop; a refund after that lands in the next statement."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from shopyard.core import events
from shopyard.core.errors import InvalidTransition
from shopyard.core.models import OutboxEvent
from shopyard.payments import refunds
from shopyard.payments.models import Refund
from shopyard.settlement import queries, services
from shopyard.settlement.models import Account, Entry, Posting, Statement, StatementStatusChange

from .conftest import complete, deliver, ledger_sum

pytestmark = pytest.mark.django_db

D = Decimal


def _entries(order):
    """{(kind, account): amount} of an order's entries."""
    rows = Entry.objects.filter(order=order).values("kind", "account").annotate(t=Sum("amount"))
    return {(r["kind"], r["account"]): r["t"] for r in rows}


def _clearing(order):
    return Entry.objects.filter(order=order, account=Account.CLEARING).aggregate(t=Sum("amount"))["t"] or D("0")


def _refunded(order):
    return Refund.objects.filter(order=order, status="succeeded").aggregate(t=Sum("amount"))["t"] or D("0")


def _refund(seller, shop, order, amount, capture):
    line = order.lines.get()
    with capture(execute=True):
        refunds.refund_order_lines(actor=seller, shop=shop, order_id=order.pk,
                                   lines=[{"line_id": line.pk, "amount": amount}], reason="质量问题")
    deliver()


def _rates(operator, shop, other_shop, sku):
    services.set_category_rate(actor=operator, category_id=sku.product.category_id, rate="6.5")
    services.set_shop_rate(actor=operator, shop_id=other_shop.pk, rate="3")


def test_the_whole_flow_from_a_two_shop_cart_to_a_refund_after_payout(
        two_shop_checkout, shopper, seller, shop, other_shop, sku, operator, django_capture_on_commit_callbacks):
    mine, theirs = two_shop_checkout
    _rates(operator, shop, other_shop, sku)
    # given: one order per shop; the platform's ¥10 coupon split 6.28 / 3.72 over them
    assert (mine.total, theirs.total) == (D("123.5200"), D("75.2800"))
    assert not Entry.objects.exists()  # paid is not earned: nothing before completion
    # when each shop ships its own order and the shopper confirms receipt
    complete(mine, shopper)
    complete(theirs, shopper)
    # then per line: what the shopper paid and the platform's coupon go to the seller,
    # the commission (6.5 % of 113.52 = 7.3788 → 7.38) to the platform; shipping pays none
    assert _entries(mine) == {
        ("sale", "clearing"): D("113.5200"), ("sale", "seller_payable"): D("-113.5200"),
        ("platform_discount", "promotion_cost"): D("6.2800"), ("platform_discount", "seller_payable"): D("-6.2800"),
        ("commission", "seller_payable"): D("7.3800"), ("commission", "commission_revenue"): D("-7.3800"),
        ("shipping", "clearing"): D("10.0000"), ("shipping", "seller_payable"): D("-10.0000"),
    }
    # the other shop's override of 3 %: 67.28 × 3 % = 2.0184 → 2.02
    assert _entries(theirs)[("commission", "commission_revenue")] == D("-2.0200")
    line_posting = Posting.objects.get(key=f"order:{mine.pk}:line:{mine.lines.get().pk}")
    assert (line_posting.order_line_id, line_posting.rate) == (mine.lines.get().pk, D("6.50"))
    assert (_clearing(mine), _clearing(theirs)) == (mine.total, theirs.total)
    assert ledger_sum() == 0
    # and the running week's statement says what the shop is owed: 113.52 + 6.28 + 10 − 7.38
    statement = Statement.objects.get(shop=shop)
    assert statement.status == "open" and queries.figures(statement)["payable"] == D("122.4200")
    assert queries.balance(shop) == D("122.4200")

    # when the week ends and the job runs (twice)
    week_end = statement.period_end
    assert services.close_due_statements(now=week_end) == 2
    assert services.close_due_statements(now=week_end) == 0
    statement.refresh_from_db()
    assert (statement.status, statement.order_count, statement.sales, statement.platform_discounts,
            statement.commission, statement.refunds, statement.payable) == (
        "closed", 1, D("123.5200"), D("6.2800"), D("7.3800"), D("0"), D("122.4200"))

    # when an operator marks it paid
    services.mark_paid(actor=operator, statement_id=statement.pk, reference="BANK-0001")
    statement.refresh_from_db()
    assert (statement.status, statement.paid_by, statement.payout_reference) == ("paid", operator, "BANK-0001")
    assert queries.balance(shop) == 0
    payout = Entry.objects.filter(kind="payout").values_list("account", "amount")
    assert sorted(payout) == [("payouts", D("-122.4200")), ("seller_payable", D("122.4200"))]
    assert ledger_sum() == 0
    # and marking it paid again is refused, with nothing changed
    before = (Entry.objects.count(), StatementStatusChange.objects.count())
    with pytest.raises(InvalidTransition):
        services.mark_paid(actor=operator, statement_id=statement.pk, reference="BANK-0002")
    statement.refresh_from_db()
    assert (Entry.objects.count(), StatementStatusChange.objects.count()) == before
    assert statement.payout_reference == "BANK-0001"

    # when the shop refunds ¥30 of the settled line
    _refund(seller, shop, mine, "30.00", django_capture_on_commit_callbacks)
    # then negative entries land in the next statement: the refund, and the commission
    # (7.38 × 30 / 113.52 = 1.950 → 1.95) and the platform's subsidy (6.28 × 30 / 113.52 =
    # 1.659 → 1.66) in proportion
    following = Statement.objects.get(shop=shop, status="open")
    assert following.period_start == week_end
    assert [(e.kind, e.seller_amount) for e in queries.seller_entries(shop, statement=following).order_by("id")] == [
        ("refund", D("-30.0000")), ("discount_reversal", D("-1.6600")), ("commission_reversal", D("1.9500"))]
    assert queries.figures(following)["payable"] == D("-29.7100")
    assert queries.balance(shop) == D("-29.7100")
    assert _clearing(mine) == mine.total - _refunded(mine) == D("93.5200")
    assert ledger_sum() == 0

    # when the rest of the line is refunded, exactly the whole commission and subsidy are back
    _refund(seller, shop, mine, "83.52", django_capture_on_commit_callbacks)
    totals = _entries(mine)
    assert totals[("commission_reversal", "commission_revenue")] == D("7.3800")
    assert totals[("discount_reversal", "promotion_cost")] == D("-6.2800")
    assert _clearing(mine) == mine.total - _refunded(mine) == D("10.0000")  # the shipping stays paid
    assert ledger_sum() == 0
    # every account: clearing holds what shoppers paid less refunds (10.00 + 75.28); the other
    # shop's commission and subsidy stand; the shop, paid 122.42 before its line was refunded,
    # owes 112.42 while the other shop is owed 76.98: the accounts sum to zero
    assert queries.trial_balance() == {
        ("clearing", "CNY"): D("85.28"), ("commission_revenue", "CNY"): D("-2.02"),
        ("promotion_cost", "CNY"): D("3.72"), ("payouts", "CNY"): D("-122.42"),
        ("seller_payable", "CNY"): D("35.44")}
    assert (queries.balance(shop), queries.balance(other_shop)) == (D("-112.42"), D("76.98"))


def test_a_refund_before_completion_is_posted_when_the_order_completes(
        two_shop_checkout, shopper, seller, shop, django_capture_on_commit_callbacks):
    mine, _theirs = two_shop_checkout
    # given ¥20 refunded while the order is paid, not yet completed: nothing in the ledger
    _refund(seller, shop, mine, "20.00", django_capture_on_commit_callbacks)
    assert not Entry.objects.exists()
    # when it completes
    complete(mine, shopper)
    # then the sale and the refund are both there: the ledger says paid − refunded
    assert _clearing(mine) == mine.total - D("20.00") == D("103.5200")
    # commission at the default 5 %: 113.52 → 5.68; 20 of it back: 5.68 × 20 / 113.52 = 1.0007 → 1.00
    assert _entries(mine)[("commission_reversal", "commission_revenue")] == D("1.0000")
    assert ledger_sum() == 0


def test_a_redelivered_event_writes_nothing_twice(two_shop_checkout, shopper, seller, shop,
                                                  django_capture_on_commit_callbacks):
    mine, _theirs = two_shop_checkout
    complete(mine, shopper)
    _refund(seller, shop, mine, "30.00", django_capture_on_commit_callbacks)
    before = sorted(Entry.objects.values_list("posting__key", "kind", "account", "amount"))
    # when every event settlement subscribes to is delivered again (its delivery's commit was lost)
    names = [name for name in events.subscribed_names()
             if any(key.startswith("settlement.") for key in events.subscribers(name))]
    redelivered = OutboxEvent.objects.filter(name__in=names).update(status="new", dispatched_at=None)
    assert redelivered == 2  # the completion and the refund's success
    deliver()
    services.on_order_completed({"order_id": mine.pk})
    services.on_refund_succeeded({"refund_id": Refund.objects.get().pk})
    # then nothing new was written
    assert sorted(Entry.objects.values_list("posting__key", "kind", "account", "amount")) == before
    assert not OutboxEvent.objects.filter(status__in=["new", "pending", "dead"]).exists()


def test_every_posting_balances_and_each_order_sums_to_paid_minus_refunds(
        two_shop_checkout, shopper, seller, shop, other_shop, operator, django_capture_on_commit_callbacks):
    mine, theirs = two_shop_checkout
    complete(mine, shopper)
    complete(theirs, shopper)
    _refund(seller, shop, mine, "0.01", django_capture_on_commit_callbacks)
    _refund(other_shop.members.first().user, other_shop, theirs, "67.28", django_capture_on_commit_callbacks)
    services.close_due_statements(now=Statement.objects.order_by("period_end").first().period_end)
    for statement in Statement.objects.filter(status="closed"):
        services.mark_paid(actor=operator, statement_id=statement.pk)
    for posting in Posting.objects.all():
        assert sum(posting.entries.values_list("amount", flat=True)) == 0, posting.key
    assert ledger_sum() == 0
    for order in (mine, theirs):
        assert _clearing(order) == order.total - _refunded(order)
    # and every closed statement's payable is its seller-payable entries (payouts aside)
    for statement in Statement.objects.exclude(status="open"):
        entries = Entry.objects.filter(statement=statement, account="seller_payable").exclude(kind="payout")
        assert statement.payable == -entries.aggregate(t=Sum("amount"))["t"]
