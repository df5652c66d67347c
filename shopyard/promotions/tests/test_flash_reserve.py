"""Reserving flash units, on the database path and on the Redis path: the
per-user limit, the time window (server time), sold out, and giving units
back exactly once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.inventory.models import StockLevel
from shopyard.promotions import flash, flash_store
from shopyard.promotions.models import FlashPurchaseCount, FlashReservation, FlashSaleItem
from tests import factories as f


@pytest.fixture
def live_item(shop, sku):
    sale = f.make_flash_sale(shop, [(sku, "19.90", 3, 2)])
    return sale.items.get()


def _state(item):
    item.refresh_from_db()
    return item.available, FlashReservation.objects.filter(item=item).exclude(status="released").count()


def test_reserving_takes_flash_units_only_and_holds_the_per_user_limit(db, flash_path, live_item, shopper, sku):
    # given 3 flash units, at most 2 per buyer; normal stock holds the other 7
    first = flash.reserve(actor=shopper, item_id=live_item.pk, quantity=2)
    assert (first.quantity, first.status, first.user_id) == (2, "reserved", shopper.pk)
    assert _state(live_item) == (1, 1)
    assert StockLevel.objects.get(sku=sku).quantity == 7

    # when the same buyer asks for one more: over the limit, refused, nothing changed
    with pytest.raises(Conflict) as refused:
        flash.reserve(actor=shopper, item_id=live_item.pk, quantity=1)
    assert refused.value.code == "flash_limit_reached"
    assert "at most 2" in refused.value.fields["quantity"][0]
    assert _state(live_item) == (1, 1)
    assert FlashPurchaseCount.objects.get(item=live_item, user=shopper).quantity == 2

    # a quantity above the limit is bad input (422), before anything is taken
    other = f.make_user("other-buyer")
    with pytest.raises(ValidationFailed) as bad:
        flash.reserve(actor=other, item_id=live_item.pk, quantity=3)
    assert list(bad.value.fields) == ["quantity"]
    # asking for 2 when 1 is left says how many are left
    with pytest.raises(Conflict) as short:
        flash.reserve(actor=other, item_id=live_item.pk, quantity=2)
    assert (short.value.code, short.value.fields["quantity"]) == ("out_of_stock", ["Only 1 left."])
    assert _state(live_item) == (1, 1)


def test_sold_out_is_answered_without_a_database_query(db, flash_path, live_item, shopper, other_shopper):
    flash.reserve(actor=shopper, item_id=live_item.pk, quantity=2)
    flash.reserve(actor=other_shopper, item_id=live_item.pk, quantity=1)
    late = f.make_user("late")
    with pytest.raises(Conflict) as first:  # the database path learns it here and marks it
        flash.reserve(actor=late, item_id=live_item.pk, quantity=1)
    assert first.value.code == "sold_out"
    with CaptureQueriesContext(connection) as queries, pytest.raises(Conflict) as again:
        flash.reserve(actor=late, item_id=live_item.pk, quantity=1)
    assert (again.value.code, again.value.fields) == ("sold_out", {"item_id": ["Sold out."]})
    assert len(queries) == 0
    assert _state(live_item) == (0, 2)


@pytest.mark.parametrize("when,code", [("before", "flash_not_started"), ("after", "flash_ended")])
def test_buying_opens_at_the_start_second_and_closes_at_the_end(db, flash_path, live_item, shopper, when, code):
    sale = live_item.sale
    moment = sale.starts_at - timedelta(seconds=1) if when == "before" else sale.ends_at
    with pytest.raises(Conflict) as refused:
        flash.reserve(actor=shopper, item_id=live_item.pk, quantity=1, now=moment)
    assert refused.value.code == code
    assert "item_id" in refused.value.fields
    assert _state(live_item) == (3, 0)
    # the start second itself is open
    assert flash.reserve(actor=shopper, item_id=live_item.pk, quantity=1, now=sale.starts_at).quantity == 1


def test_unknown_draft_and_malformed_items_are_refused(db, flash_path, shop, sku, shopper):
    draft = f.make_flash_sale(shop, [(sku, "19.90", 3, 1)], publish=False).items.get()
    for item_id in (draft.pk, 2**50):
        with pytest.raises(NotFound):
            flash.reserve(actor=shopper, item_id=item_id, quantity=1)
    for item_id in ("abc", "²", -1):
        with pytest.raises(ValidationFailed):
            flash.reserve(actor=shopper, item_id=item_id, quantity=1)
    for quantity in (0, -1, "x", 10**9):
        with pytest.raises(ValidationFailed):
            flash.reserve(actor=shopper, item_id=draft.pk, quantity=quantity)
    assert not FlashReservation.objects.exists()


def test_release_gives_units_back_exactly_once_and_the_buyer_may_buy_again(
        db, flash_path, live_item, shopper, django_capture_on_commit_callbacks):
    taken = flash.reserve(actor=shopper, item_id=live_item.pk, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):  # Redis is told after the commit
        assert flash.release(reservation=taken, reason="test") is True
        assert flash.release(reservation=taken, reason="test again") is False
    assert _state(live_item) == (3, 0)
    assert FlashPurchaseCount.objects.get(item=live_item, user=shopper).quantity == 0
    if flash_path == "redis":
        assert flash_store.left(live_item.pk) == 3
    again = flash.reserve(actor=shopper, item_id=live_item.pk, quantity=2)
    assert _state(live_item) == (1, 1)
    assert FlashReservation.objects.get(pk=taken.pk).status == "released"
    assert again.pk != taken.pk


def test_a_unit_released_after_the_end_goes_to_normal_stock(db, flash_path, live_item, shopper, sku):
    taken = flash.reserve(actor=shopper, item_id=live_item.pk, quantity=1)
    flash.end_finished_sales(now=live_item.sale.ends_at)
    assert StockLevel.objects.get(sku=sku).quantity == 9  # 7 + the 2 unsold
    assert flash.release(reservation=taken, reason="late cancel") is True
    live_item.refresh_from_db()
    assert (live_item.available, live_item.returned, StockLevel.objects.get(sku=sku).quantity) == (0, 3, 10)


def test_redis_counters_lost_are_loaded_again_from_the_database(db, flash_redis, live_item, shopper, other_shopper):
    flash.reserve(actor=shopper, item_id=live_item.pk, quantity=2)
    flash_store.forget(live_item.pk)  # e.g. Redis restarted without persistence
    with pytest.raises(Conflict) as refused:  # the buyer's count came back too
        flash.reserve(actor=shopper, item_id=live_item.pk, quantity=1)
    assert refused.value.code == "flash_limit_reached"
    flash.reserve(actor=other_shopper, item_id=live_item.pk, quantity=1)
    assert flash_store.left(live_item.pk) == 0
    assert FlashSaleItem.objects.get(pk=live_item.pk).available == 0


def test_with_redis_down_reserving_falls_back_to_the_database_and_never_oversells(db, settings, live_item, shopper,
                                                                                  other_shopper):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    flash.reserve(actor=shopper, item_id=live_item.pk, quantity=2)
    flash.reserve(actor=other_shopper, item_id=live_item.pk, quantity=1)
    with pytest.raises(Conflict) as refused:
        flash.reserve(actor=f.make_user("third"), item_id=live_item.pk, quantity=1)
    assert refused.value.code == "sold_out"
    assert _state(live_item) == (0, 2)
