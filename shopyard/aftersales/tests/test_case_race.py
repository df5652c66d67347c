"""Across every case of an order nothing refunds more than was paid, also when cases race
(real threads; SQLite IMMEDIATE transactions, PostgreSQL row locks)."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from shopyard.aftersales import services
from shopyard.aftersales.models import Case, CaseLine
from shopyard.core.errors import DomainError
from shopyard.payments import refunds
from shopyard.payments.models import Payment, Refund, RefundLine
from tests import factories as f

from .support import delivered, one_line, paid_order, reason

pytestmark = pytest.mark.django_db(transaction=True)


def _race(fns):
    barrier = threading.Barrier(len(fns))
    outcomes = [None] * len(fns)

    def run(i):
        try:
            barrier.wait(timeout=60)
            fns[i]()
            outcomes[i] = "ok"
        except DomainError as exc:
            outcomes[i] = exc.status
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


def _order(shopper, address, shop, units=3):
    sku = f.make_product(shop, price="100.00", stock=10).skus.get()
    return paid_order(shopper, address, [(sku, units)])


def test_racing_openings_never_claim_more_units_than_bought(shopper, address, shop):
    order = _order(shopper, address, shop, units=3)
    outcomes = _race([lambda: services.open_case(
        actor=shopper, order_id=order.pk, kind="refund_only", reason_id=reason("quality").pk,
        lines=one_line(order, 1)) for _i in range(8)])
    print(f"\n8 openings of 1 unit against 3 on {connection.vendor}: {Counter(outcomes)}")
    assert Counter(outcomes) == {"ok": 3, 422: 5}, outcomes
    assert CaseLine.objects.aggregate(n=Sum("quantity"))["n"] == 3
    assert Case.objects.aggregate(s=Sum("requested_amount"))["s"] == Decimal("300")


def test_racing_approvals_and_seller_refunds_never_exceed_the_payment(shopper, address, shop, seller):
    order = _order(shopper, address, shop, units=2)
    line = order.lines.get()
    cases = [services.open_case(actor=shopper, order_id=order.pk, kind="refund_only",
                                reason_id=reason("quality").pk, lines=one_line(order, 1)) for _i in range(2)]
    approvals = [lambda c=c: services.approve(actor=seller, shop=shop, case_id=c.pk) for c in cases]
    direct = [lambda i=i: refunds.refund_order_lines(actor=seller, shop=shop, order_id=order.pk, reason=f"r{i}",
                                                     lines=[{"line_id": line.pk, "amount": "30.00"}])
              for i in range(6)]
    outcomes = _race(approvals + direct)
    print(f"\n2 case approvals + 6 refunds of 30.00 against 200.00 on {connection.vendor}: {Counter(outcomes)}")
    assert all(o in ("ok", 409, 422) for o in outcomes), outcomes
    payment = Payment.objects.get(orders=order)
    refunded = Refund.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]
    assert refunded <= Decimal("200") == payment.amount
    assert RefundLine.objects.filter(line=line).aggregate(s=Sum("amount"))["s"] == refunded
    # an approval refused by payments left its case untouched (still requested, no refund)
    for case, outcome in zip(cases, outcomes[:2], strict=True):
        case.refresh_from_db()
        assert (case.refund_id is not None) == (outcome == "ok")
        assert case.status in (("refunding", "refunded") if outcome == "ok" else ("requested",))


def test_two_operators_deciding_one_dispute_at_once_refund_once(shopper, address, shop, seller, home_operator):
    # given a dispute, and two operators (or one double POST) deciding it at the same moment
    order = delivered(_order(shopper, address, shop, units=1))
    case = services.open_case(actor=shopper, order_id=order.pk, kind="refund_only", reason_id=reason("quality").pk,
                              lines=one_line(order, 1))
    services.escalate(actor=shopper, case_id=case.pk, note="help")
    decisions = [lambda: services.decide(actor=home_operator, case_id=case.pk, decision="full", note="a"),
                 lambda: services.decide(actor=home_operator, case_id=case.pk, decision="partial", amount="40",
                                         note="b"),
                 lambda: services.decide(actor=home_operator, case_id=case.pk, decision="full", note="c")]
    outcomes = _race(decisions)
    print(f"\n3 decisions of one dispute on {connection.vendor}: {Counter(outcomes)}")
    # then one is carried out, the others are 409s, and one refund exists
    assert Counter(outcomes) == {"ok": 1, 409: 2}, outcomes
    case.refresh_from_db()
    refund = Refund.objects.get()
    assert case.status in ("refunding", "refunded")
    assert (case.refund_id, case.approved_amount) == (refund.pk, refund.amount)
    assert case.events.filter(role="operator").count() == 1
