"""The deadline job: fires once per deadline, changes nothing on a second run, and races
with a seller's action without both winning."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from shopyard.aftersales import services
from shopyard.aftersales.models import Case, CaseEvent
from shopyard.core.errors import DomainError
from shopyard.payments.models import Refund
from tests import factories as f

from .support import delivered, one_line, paid_order, reason


def _setup(shopper, address, shop, kind="refund_only", quantity=1):
    sku = f.make_product(shop, price="100.00", stock=10).skus.get()
    order = paid_order(shopper, address, [(sku, 2)])
    if kind != "refund_only":
        delivered(order)
    return services.open_case(actor=shopper, order_id=order.pk, kind=kind, reason_id=reason("quality").pk,
                              lines=one_line(order, quantity))


def _world():
    return (sorted(Case.objects.values_list("pk", "status", "deadline", "seller_missed_deadline",
                                            "buyer_missed_deadline")),
            CaseEvent.objects.count(), Refund.objects.count())


@pytest.mark.django_db
def test_shop_silent_past_the_respond_deadline_approves_and_refunds_once(shopper, address, shop, settings):
    case = _setup(shopper, address, shop)
    assert case.deadline == case.opened_at + timedelta(hours=settings.AFTERSALES_RESPOND_HOURS)
    # not yet at the deadline itself
    assert services.run_deadlines(now=case.deadline) == 0
    due = case.deadline
    assert services.run_deadlines(now=due + timedelta(seconds=1)) == 1
    case.refresh_from_db()
    assert (case.status, case.seller_missed_deadline, case.approved_amount) == ("refunding", True, Decimal("100"))
    assert list(case.events.values_list("action", "role", "actor_label")) == [
        ("open", "buyer", "shopper"), ("auto_approve", "system", "system"), ("refund", "system", "system")]
    before = _world()
    # a second run (a restart) does nothing
    assert services.run_deadlines(now=due + timedelta(days=30)) == 0
    assert _world() == before


@pytest.mark.django_db
def test_return_not_shipped_in_time_closes_the_case(shopper, address, shop, seller):
    case = _setup(shopper, address, shop, kind="return_refund")
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    case.refresh_from_db()
    due = case.deadline
    assert case.status == "approved" and due is not None
    assert services.run_deadlines(now=due + timedelta(seconds=1)) == 1
    case.refresh_from_db()
    assert (case.status, case.buyer_missed_deadline, case.closed_at is not None) == ("closed", True, True)
    assert services.run_deadlines(now=due + timedelta(days=1)) == 0


@pytest.mark.django_db
def test_inspection_not_done_in_time_is_accepted_without_restock(shopper, address, shop, seller):
    from shopyard.inventory.models import StockMovement

    case = _setup(shopper, address, shop, kind="return_refund")
    services.approve(actor=seller, shop=shop, case_id=case.pk)
    services.ship_return(actor=shopper, case_id=case.pk, carrier="sf", tracking_number="SF1234567890123")
    services.receive(actor=seller, shop=shop, case_id=case.pk)
    case.refresh_from_db()
    assert services.run_deadlines(now=case.deadline + timedelta(seconds=1)) == 1
    case.refresh_from_db()
    assert (case.status, case.seller_missed_deadline, case.resaleable) == ("refunding", True, None)
    assert Refund.objects.get().amount == Decimal("100")
    assert not StockMovement.objects.filter(reason="aftersales_return").exists()


def _race(fns):
    barrier = threading.Barrier(len(fns))
    outcomes = [None] * len(fns)

    def run(i):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = ("ok", fns[i]())
        except DomainError as exc:
            outcomes[i] = ("refused", exc.status)
        except Exception as exc:  # anything else is a bug
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_deadline_job_racing_a_seller_rejection_one_wins(shopper, address, shop, seller):
    case = _setup(shopper, address, shop)
    later = timezone.now() + timedelta(days=5)
    outcomes = _race([
        lambda: services.run_deadlines(now=later),
        lambda: services.reject(actor=seller, shop=shop, case_id=case.pk, note="no").status,
        lambda: services.run_deadlines(now=later),
    ])
    case.refresh_from_db()
    kinds = [o[0] for o in outcomes]
    assert "error" not in kinds, outcomes
    if case.status == "rejected":  # the seller won: the job found nothing due
        assert outcomes[1] == ("ok", "rejected") and outcomes[0][1] == outcomes[2][1] == 0
        assert Refund.objects.count() == 0
    else:  # the job won once; the seller's rejection came too late (409)
        # (the refund runs after commit here, so the case may be refunded already)
        assert case.status in ("refunding", "refunded") and outcomes[1] == ("refused", 409)
        assert sorted([outcomes[0][1], outcomes[2][1]]) == [0, 1]
        assert Refund.objects.count() == 1
    assert case.events.filter(action__in=["auto_approve", "reject"]).count() == 1
