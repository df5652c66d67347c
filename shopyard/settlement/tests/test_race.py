"""Settlement under real concurrency (SQLite's IMMEDIATE transactions, PostgreSQL's row
locks): deliveries of one completion racing each other write one set of postings;
two operators marking one statement paid at once pay it once."""

import threading

import pytest
from django.db import connection

from shopyard.core.errors import Conflict
from shopyard.settlement import services
from shopyard.settlement.models import Entry, Posting, Statement
from tests import factories as f

from .conftest import ledger_sum

pytestmark = pytest.mark.django_db(transaction=True)


def _race(n, work):
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = ("ok", work(i))
        except Conflict as exc:
            outcomes[i] = ("refused", exc.status)
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


@pytest.fixture
def completed(shopper, address, sku, subscribe_for_test):
    """A completed order whose `order.completed` delivery has not reached settlement yet
    (its handler is stood in for by a no-op for this test)."""
    subscribe_for_test("order.completed", lambda payload: None, key="settlement.order_completed")
    order = f.make_completed_order(shopper, address, [(sku, 2)])
    assert not Entry.objects.exists()
    return order


def test_racing_deliveries_of_one_completion_write_one_set_of_postings(completed):
    outcomes = _race(4, lambda i: services.record_order_completed(order_id=completed.pk))
    assert sorted(o[0] for o in outcomes) == ["ok"] * 4, outcomes
    assert sorted(o[1] for o in outcomes) == [0, 0, 0, 2]  # the line and the shipping, once
    assert sorted(Posting.objects.values_list("key", flat=True)) == [
        f"order:{completed.pk}:line:{completed.lines.get().pk}", f"order:{completed.pk}:shipping"]
    assert Statement.objects.count() == 1 and ledger_sum() == 0


def test_two_operators_marking_one_statement_paid_pay_it_once(completed):
    services.record_order_completed(order_id=completed.pk)
    statement = Statement.objects.get()
    services.close_statement(actor=None, statement_id=statement.pk, now=statement.period_end)
    operators = [f.make_user(f"op-{i}", is_staff=True) for i in range(2)]
    outcomes = _race(2, lambda i: services.mark_paid(actor=operators[i], statement_id=statement.pk,
                                                      reference=f"B-{i}").status)
    assert sorted(outcomes) == [("ok", "paid"), ("refused", 409)], outcomes
    assert Entry.objects.filter(kind="payout").count() == 2  # one posting: its two sides
    assert ledger_sum() == 0
