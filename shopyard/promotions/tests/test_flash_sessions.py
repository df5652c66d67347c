"""Flash-sale sessions: the state machine, setting units aside from normal
stock at publishing and giving the unsold ones back at the end, and the
seller's and operators' API refusing bad input with nothing written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.core.errors import InvalidTransition, ValidationFailed
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.promotions import flash
from shopyard.promotions.flash_state import PERFORMERS, TRANSITIONS, Action, Status, allowed_actions
from shopyard.promotions.models import FlashSale, FlashSaleItem, FlashSaleStatusChange
from tests import factories as f


def _stock(sku):
    return StockLevel.objects.get(sku=sku).quantity


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_transition_table_walks_every_pair(db, shop, sku, status, action):
    # given a session in `status` (rows written directly: the table is what is tested)
    now = timezone.now()
    sale = FlashSale.objects.create(shop=shop, name="s", starts_at=now + timedelta(hours=1),
                                    ends_at=now + timedelta(hours=2), status=status)
    FlashSaleItem.objects.create(sale=sale, sku=sku, flash_price="9.90", currency="CNY", quantity=2,
                                 available=2 if status == Status.SCHEDULED else 0, per_user_limit=1)
    later = now + timedelta(hours=3)  # END needs the session to be over
    do = {Action.PUBLISH: lambda: flash.publish(actor=shop.members.first().user, sale=sale),
          Action.CANCEL: lambda: flash.cancel(actor=shop.members.first().user, sale=sale),
          Action.END: lambda: flash.end_finished_sales(now=later)}[action]
    target = TRANSITIONS.get((status, action))
    if target is None:
        # then a forbidden pair is refused (END just finds nothing to end) and nothing changes
        if action == Action.END:
            assert do() == 0
        else:
            with pytest.raises(InvalidTransition):
                do()
        assert FlashSale.objects.get(pk=sale.pk).status == status
        assert not FlashSaleStatusChange.objects.filter(sale=sale).exists()
    else:
        do()
        assert FlashSale.objects.get(pk=sale.pk).status == target
        change = FlashSaleStatusChange.objects.get(sale=sale)
        assert (change.from_status, change.to_status, change.action) == (status, target, action)
    assert allowed_actions(status) == {a for (s, a) in TRANSITIONS if s == status}
    assert set(PERFORMERS) == set(Action)


def test_publishing_sets_units_aside_and_the_end_gives_unsold_ones_back(db, shop, sku):
    # given a SKU with 10 in stock and a draft session taking 4 of them
    assert _stock(sku) == 10
    sale = f.make_flash_sale(shop, [(sku, "19.90", 4, 1)], publish=False)
    assert _stock(sku) == 10

    # when it is published, the 4 units leave normal stock with a ledger row
    flash.publish(actor=shop.members.first().user, sale=sale)
    item = FlashSaleItem.objects.get(sale=sale)
    assert (_stock(sku), item.available, item.quantity) == (6, 4, 4)
    assert list(StockMovement.objects.filter(sku=sku, reason="flash_set_aside").values_list("delta", flat=True)) == [-4]

    # when one unit is reserved and the session ends (the periodic job, after ends_at)
    buyer = f.make_user("early-bird")
    flash.reserve(actor=buyer, item_id=item.pk, quantity=1)
    assert flash.end_finished_sales(now=sale.ends_at - timedelta(seconds=1)) == 0
    assert flash.end_finished_sales(now=sale.ends_at) == 1

    # then the 3 unsold units are back in normal stock, once, and the session is ended
    item.refresh_from_db()
    assert (_stock(sku), item.available, item.returned) == (9, 0, 3)
    assert FlashSale.objects.get(pk=sale.pk).status == Status.ENDED
    assert flash.end_finished_sales(now=sale.ends_at + timedelta(hours=1)) == 0
    assert _stock(sku) == 9
    assert list(StockMovement.objects.filter(sku=sku, reason="flash_returned").values_list("delta", flat=True)) == [3]


def test_cancelling_before_the_start_returns_the_units_and_after_the_start_is_refused(db, shop, sku):
    seller = shop.members.first().user
    upcoming = f.make_flash_sale(shop, [(sku, "19.90", 5, 1)], starts_in_minutes=30)
    assert _stock(sku) == 5
    flash.cancel(actor=seller, sale=upcoming)
    assert (_stock(sku), FlashSale.objects.get(pk=upcoming.pk).status) == (10, Status.CANCELLED)

    live = f.make_flash_sale(shop, [(sku, "19.90", 5, 1)])
    with pytest.raises(InvalidTransition) as refused:
        flash.cancel(actor=seller, sale=live)
    assert refused.value.code == "flash_started"
    assert (_stock(sku), FlashSale.objects.get(pk=live.pk).status) == (5, Status.SCHEDULED)


def test_publishing_more_units_than_are_in_stock_is_refused_with_nothing_written(db, shop, sku):
    sale = f.make_flash_sale(shop, [(sku, "19.90", 8, 1)], publish=False)
    StockLevel.objects.filter(sku=sku).update(quantity=3)  # sold meanwhile
    with pytest.raises(ValidationFailed) as refused:
        flash.publish(actor=shop.members.first().user, sale=sale)
    assert "Only 3 units" in refused.value.fields[f"items[{sale.items.get().pk}].flash_stock"][0]
    assert (_stock(sku), FlashSale.objects.get(pk=sale.pk).status) == (3, Status.DRAFT)
    assert FlashSaleItem.objects.get(sale=sale).available == 0


# --- API: sellers and operators ----------------------------------------------------


def _times(start_minutes=10, minutes=60):
    now = timezone.now()
    return {"starts_at": (now + timedelta(minutes=start_minutes)).isoformat(),
            "ends_at": (now + timedelta(minutes=start_minutes + minutes)).isoformat()}


def test_seller_creates_fills_and_publishes_a_session_over_the_api(api, shop, sku, seller_token):
    r = api.post("/seller/flash/sessions", {"name": "双十一秒杀", "name_en": "11.11", **_times()}, token=seller_token)
    assert r.status_code == 201, r.json()
    sale_id = r.json()["id"]
    assert (r.json()["status"], r.json()["phase"], r.json()["shop_id"]) == ("draft", "draft", shop.pk)
    r = api.post(f"/seller/flash/sessions/{sale_id}/items",
                 {"sku_id": sku.pk, "flash_price": "9.90", "flash_stock": 5, "per_user_limit": 2}, token=seller_token)
    assert r.status_code == 201, r.json()
    assert (r.json()["flash_price"], r.json()["list_price"], r.json()["left"]) == ("9.90", "59.90", 0)
    r = api.post(f"/seller/flash/sessions/{sale_id}/publish", token=seller_token)
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["phase"], r.json()["items"][0]["left"]) == ("scheduled", "upcoming", 5)
    assert _stock(sku) == 5
    listed = api.get("/seller/flash/sessions", token=seller_token).json()
    assert [s["id"] for s in listed] == [sale_id]


BAD_SESSIONS = [
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"starts_at": "2026-13-40"}, "starts_at"),
    ({"ends_at": "yesterday"}, "ends_at"),
    ("end_before_start", "ends_at"),
    ("in_the_past", "ends_at"),
    ("too_long", "ends_at"),
]


@pytest.mark.parametrize("change,field", BAD_SESSIONS)
def test_bad_sessions_are_refused_with_a_field_message_and_nothing_written(api, shop, seller_token, change, field):
    body = {"name": "秒杀", **_times()}
    now = timezone.now()
    if change == "end_before_start":
        body.update(starts_at=(now + timedelta(hours=2)).isoformat(), ends_at=(now + timedelta(hours=1)).isoformat())
    elif change == "in_the_past":
        body.update(starts_at=(now - timedelta(hours=2)).isoformat(), ends_at=(now - timedelta(hours=1)).isoformat())
    elif change == "too_long":
        body.update(ends_at=(now + timedelta(days=40)).isoformat())
    else:
        body.update(change)
    r = api.post("/seller/flash/sessions", body, token=seller_token)
    assert r.status_code == 422, r.json()
    assert field in r.json()["fields"], r.json()
    assert not FlashSale.objects.exists()


BAD_ITEMS = [
    ({"flash_price": "59.90"}, "flash_price", "below the list price"),
    ({"flash_price": "60.00"}, "flash_price", "below the list price"),
    ({"flash_price": "-1"}, "flash_price", "valid amount"),
    ({"flash_price": "9.999"}, "flash_price", "two decimal places"),
    ({"flash_price": "٩.٩٠"}, "flash_price", "valid amount"),
    ({"flash_price": "0"}, "flash_price", "at least"),
    ({"flash_stock": 0}, "flash_stock", "from 1"),
    ({"flash_stock": -5}, "flash_stock", "from 1"),
    ({"flash_stock": 10**12}, "flash_stock", "from 1"),
    ({"flash_stock": 11}, "flash_stock", "Only 10 units"),
    ({"per_user_limit": 0}, "per_user_limit", "from 1"),
    ({"per_user_limit": -1}, "per_user_limit", "from 1"),
    ({"per_user_limit": 10**6}, "per_user_limit", "from 1"),
]


@pytest.mark.parametrize("change,field,says", BAD_ITEMS)
def test_bad_items_are_refused_with_a_field_message_and_nothing_written(api, shop, sku, seller_token, change, field, says):
    sale = f.make_flash_sale(shop, [], publish=False)
    body = {"sku_id": sku.pk, "flash_price": "9.90", "flash_stock": 5, "per_user_limit": 1, **change}
    r = api.post(f"/seller/flash/sessions/{sale.pk}/items", body, token=seller_token)
    assert r.status_code == 422, r.json()
    assert says in " ".join(r.json()["fields"][field]), r.json()
    assert not FlashSaleItem.objects.exists()
    assert _stock(sku) == 10


def test_foreign_ids_are_404_and_published_sessions_are_not_edited(api, shop, sku, other_sku, seller_token):
    # a SKU of another shop, an unknown SKU, another shop's session
    sale = f.make_flash_sale(shop, [], publish=False)
    body = {"flash_price": "9.90", "flash_stock": 1, "per_user_limit": 1}
    assert api.post(f"/seller/flash/sessions/{sale.pk}/items", {**body, "sku_id": other_sku.pk},
                    token=seller_token).status_code == 404
    assert api.post(f"/seller/flash/sessions/{sale.pk}/items", {**body, "sku_id": 2**50},
                    token=seller_token).status_code == 404
    theirs = f.make_flash_sale(other_sku.product.shop, [], publish=False)
    assert api.post(f"/seller/flash/sessions/{theirs.pk}/items", {**body, "sku_id": sku.pk},
                    token=seller_token).status_code == 404
    assert api.post(f"/seller/flash/sessions/{theirs.pk}/publish", token=seller_token).status_code == 404
    assert not FlashSaleItem.objects.exists()
    # publishing an empty session is refused; a published one takes no new items
    r = api.post(f"/seller/flash/sessions/{sale.pk}/publish", token=seller_token)
    assert (r.status_code, list(r.json()["fields"])) == (422, ["items"])
    live = f.make_flash_sale(shop, [(sku, "9.90", 1, 1)])
    r = api.post(f"/seller/flash/sessions/{live.pk}/items", {**body, "sku_id": sku.pk}, token=seller_token)
    assert r.status_code == 409
    assert FlashSaleItem.objects.filter(sale=live).count() == 1


def test_platform_sessions_are_for_operators_only(api, shop, sku, seller_token):
    operator = f.make_user("operator", is_staff=True)
    token = f.token_for(operator)
    r = api.post("/operator/flash/sessions", {"name": "平台秒杀", **_times()}, token=seller_token)
    assert r.status_code == 403
    r = api.post("/operator/flash/sessions", {"name": "平台秒杀", **_times()}, token=token)
    assert (r.status_code, r.json()["shop_id"]) == (201, None)
    sale_id = r.json()["id"]
    # an operator's session takes any shop's SKU
    r = api.post(f"/operator/flash/sessions/{sale_id}/items",
                 {"sku_id": sku.pk, "flash_price": "29.90", "flash_stock": 3, "per_user_limit": 1}, token=token)
    assert r.status_code == 201, r.json()
    assert api.post(f"/operator/flash/sessions/{sale_id}/publish", token=token).status_code == 200
    assert _stock(sku) == 7
    # a seller cannot reach it through the seller API
    assert api.post(f"/seller/flash/sessions/{sale_id}/cancel", token=seller_token).status_code == 404
