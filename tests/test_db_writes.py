"""tests/db_writes.py, the check behind "a refused call changes nothing" in the
tenant matrix: every way the code writes a row must be seen, on SQLite and on
PostgreSQL (the CI runs this module in both stages)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shopyard.catalog.models import Sku
from shopyard.core.bulk_sql import create_row_with_links, create_rows, insert_rows, update_rows
from shopyard.core.models import OutboxDelivery, OutboxEvent
from shopyard.shops.models import Shop, ShopMember
from tests import factories as f
from tests.db_writes import UNKNOWN, recording_writes, table_of, tables_of_apps

pytestmark = pytest.mark.django_db

SHOPS, SKUS, MEMBERS = table_of(Shop), table_of(Sku), table_of(ShopMember)


def test_orm_writes_are_seen_with_their_table(shop, sku):
    with recording_writes() as created:
        f.make_user("new-member")
    with recording_writes() as updated:
        Shop.objects.filter(pk=shop.pk).update(description="老店")
    with recording_writes() as saved:
        sku.name = "红色"
        sku.save(update_fields=["name"])
    ShopMember.objects.create(shop=shop, user=f.make_user("leaving"), role="cs_agent")
    with recording_writes() as deleted:
        ShopMember.objects.filter(shop=shop, role="cs_agent").delete()
    with recording_writes() as bulk:
        ShopMember.objects.bulk_create([ShopMember(shop=shop, user=f.make_user(f"bulk-{n}"), role="cs_agent")
                                        for n in range(2)])
    assert get_user_model()._meta.db_table in created
    assert updated == {SHOPS} and saved == {SKUS}
    assert MEMBERS in bulk and deleted == {MEMBERS}


def test_raw_and_executemany_writes_are_seen(shop, sku):
    with recording_writes() as raw:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {connection.ops.quote_name(SHOPS)} SET description = %s WHERE id = %s",
                           ["raw", shop.pk])
    sku.name = "蓝色"
    with recording_writes() as many:
        update_rows(Sku, [sku], ["name"])
    user = f.make_user("linked")
    with recording_writes() as inserted:
        insert_rows(ShopMember, [ShopMember(shop=shop, user=user, role="cs_agent")])
    assert raw == {SHOPS} and many == {SKUS} and inserted == {MEMBERS}


def test_rows_written_by_composed_sql_get_their_own_ids_and_are_seen(db):
    # given three new events, written in one statement
    with recording_writes() as written:
        events = create_rows(OutboxEvent, [OutboxEvent(name=f"thing.{n}", payload={"n": n}) for n in range(3)])
    # then each instance holds the id of its own row, is saved, and the write is seen
    assert written == {table_of(OutboxEvent)}
    assert [OutboxEvent.objects.get(pk=e.pk).payload for e in events] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(not e._state.adding and e.created_at is not None for e in events)
    # and a row a unique constraint refuses is skipped when asked, the others written
    create_rows(OutboxDelivery, [OutboxDelivery(event=events[0], subscriber="a", next_attempt_at=timezone.now())])
    create_rows(OutboxDelivery, [OutboxDelivery(event=events[0], subscriber=s, next_attempt_at=timezone.now())
                                 for s in ("a", "b")], ignore_conflicts=True)
    assert sorted(OutboxDelivery.objects.values_list("subscriber", flat=True)) == ["a", "b"]


def test_a_row_and_its_links_are_written_together_and_refused_together(shopper, address, sku, other_sku):
    from shopyard.checkout.services import place_order
    from shopyard.payments.models import Payment

    links = Payment.orders.through
    # given a checkout of two shops' items: two orders and their payment
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": 1}, {"sku_id": other_sku.pk, "quantity": 1}])
    assert len(placed.order_ids) == 2 and links.objects.count() == 2

    def payment():
        return Payment(reference="PAY-LINKED", user_id=shopper.pk, gateway="simulated", amount="1.00", currency="CNY")

    # when a new payment is written with links to both orders
    with recording_writes() as written:
        made = create_row_with_links(payment(), links, to_row="payment", to_other="order", others=placed.order_ids)
    # then the instance holds its row's id, the row and exactly its links exist, and both writes are seen
    assert written == {table_of(Payment), table_of(links)}
    assert not made._state.adding and Payment.objects.get(pk=made.pk).reference == "PAY-LINKED"
    assert sorted(made.orders.values_list("pk", flat=True)) == sorted(placed.order_ids)
    # and a row its unique reference refuses writes no link either
    with pytest.raises(IntegrityError), transaction.atomic():
        create_row_with_links(payment(), links, to_row="payment", to_other="order", others=placed.order_ids)
    assert Payment.objects.filter(reference="PAY-LINKED").count() == 1
    assert links.objects.count() == 4


def test_reads_and_writes_that_match_nothing_are_not_writes(shop):
    with recording_writes() as written:
        list(Shop.objects.select_for_update().filter(pk=shop.pk))
        Shop.objects.filter(pk=-1).update(description="nobody")
        ShopMember.objects.filter(pk=-1).delete()
        assert Shop.objects.count() == 1
    assert written == set()


def test_ignored_tables_are_left_out_and_the_rest_kept(shop, shopper):
    ignore = tables_of_apps(("sessions", "auth", "accounts"))
    assert Session._meta.db_table in ignore and get_user_model()._meta.db_table in ignore
    with recording_writes(ignore=ignore) as written:
        get_user_model().objects.filter(pk=shopper.pk).update(last_login=timezone.now())
        Session.objects.create(session_key="k" * 32, session_data="", expire_date=timezone.now())
    assert written == set()
    with recording_writes(ignore=ignore) as written:
        get_user_model().objects.filter(pk=shopper.pk).update(last_login=timezone.now())
        Shop.objects.filter(pk=shop.pk).update(description="x")
    assert written == {SHOPS}


def test_a_statement_it_cannot_read_counts_as_a_write(shop):
    """A write in a shape the parser does not know is not let through; a write inside a
    WITH (a CTE) is seen with its table."""
    sql = (f"WITH s AS (SELECT id FROM {connection.ops.quote_name(SHOPS)}) "
           f"UPDATE {connection.ops.quote_name(SHOPS)} SET description = 'cte' WHERE id IN (SELECT id FROM s)")
    with recording_writes() as written:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert written == {SHOPS}
    shop.refresh_from_db()
    assert shop.description == "cte"
    with recording_writes() as written:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE shopyard_written_test (id integer)")
    assert written == {UNKNOWN}
