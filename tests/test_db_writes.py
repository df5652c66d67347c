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


def test_an_order_its_lines_and_its_history_are_written_together_and_refused_together(shopper, sku, other_sku):
    import uuid

    from shopyard.orders.models import Order, OrderLine, OrderStatusChange
    from shopyard.orders.services import create_order

    def line(s, quantity):
        return {"sku": s, "product_id_snapshot": s.product_id, "product_title": "标题", "product_title_en": "Title",
                "sku_code": s.code, "sku_name": "红", "sku_name_en": "Red", "unit_price": "10.0000",
                "quantity": quantity, "line_total": f"{10 * quantity}.0000", "discount": "0", "net_total": "0",
                "is_gift": False}

    def order(number, lines):
        return create_order(actor=shopper, shop=sku.product.shop, checkout_id=uuid.uuid4(), number=number,
                            currency="CNY", subtotal="50.0000", shipping_fee="0", total="50.0000",
                            address={"city": "杭州"}, note="门口", lines=lines)

    # when an order of two lines is written
    with recording_writes() as written:
        made = order("N-TOGETHER", [line(sku, 2), line(other_sku, 3)])
    # then the order, its lines and its first history row are written and seen, each instance
    # holding its own row's id
    assert {table_of(Order), table_of(OrderLine), table_of(OrderStatusChange)} <= written
    row = Order.objects.get(pk=made.pk)
    assert (row.number, row.status, row.note, row.shipping_address, row.user_id) == (
        "N-TOGETHER", "pending_payment", "门口", {"city": "杭州"}, shopper.pk)
    assert not made._state.adding and made.placed_at == row.placed_at
    assert [(ln.pk, ln.order_id) for ln in made.line_list] == list(
        OrderLine.objects.filter(order=row).order_by("pk").values_list("pk", "order_id"))
    assert [(OrderLine.objects.get(pk=ln.pk).sku_code, OrderLine.objects.get(pk=ln.pk).quantity)
            for ln in made.line_list] == [(sku.code, 2), (other_sku.code, 3)]
    assert list(row.history.values_list("from_status", "to_status", "action", "actor_id", "actor_label")) == [
        ("", "pending_payment", "place", shopper.pk, shopper.username)]
    # and an order one of whose lines the database refuses (a negative quantity) writes nothing at all
    counts = (Order.objects.count(), OrderLine.objects.count(), OrderStatusChange.objects.count())
    with pytest.raises(IntegrityError), transaction.atomic():
        order("N-REFUSED", [line(sku, 1), line(other_sku, -1)])
    assert (Order.objects.count(), OrderLine.objects.count(), OrderStatusChange.objects.count()) == counts
    assert not Order.objects.filter(number="N-REFUSED").exists()
