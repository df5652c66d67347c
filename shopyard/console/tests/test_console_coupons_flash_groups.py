"""Seller console pages for coupons, flash sales and group buying, driven through
the test client as a seller would: each list and form renders for the shop's
staff with its tables in their scroll box; create, publish, stop, cancel and
issue go through the pages to the services; bad input shows the service's
field messages with nothing written; another shop's rows are 404 and another
shop's staff cannot reach ours."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopyard.checkout.group_buy import open_group
from shopyard.inventory.models import StockLevel
from shopyard.promotions.models import (
    CouponTemplate,
    FlashSale,
    FlashSaleItem,
    GroupBuy,
    UserCoupon,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

FMT = "%Y-%m-%dT%H:%M"


def at(**delta) -> str:
    return (timezone.localtime() + timedelta(**delta)).strftime(FMT)


def scrolls(page: str) -> bool:
    """Every table of the page sits in its .console-scroll box (phones scroll it, not the page)."""
    tables = page.count("<table")
    return tables > 0 and len(re.findall(r'class="console-scroll">\s*<table', page)) == tables


def plain(value):
    """A stored value as the form typed it: Decimal("100.0000") → "100"."""
    return f"{value.normalize():f}" if isinstance(value, Decimal) else value


def coupon_post(**fields):
    data = {"name": "满100减10", "name_en": "10 off 100", "benefit": "amount", "threshold": "100",
            "amount_off": "10", "scope": "all", "total_quantity": "50", "per_user_limit": "2", "validity": "fixed",
            "valid_from": at(minutes=-1), "valid_until": at(days=30), "claim_starts_at": at(minutes=-1),
            "claim_ends_at": at(days=7)}
    data.update(fields)
    return data


# --- navigation ------------------------------------------------------------------------------

def test_promotion_pages_carry_the_sub_tabs(seller_client):
    for url, active in [("/console/promotions/", "/console/promotions/"),
                        ("/console/promotions/coupons/", "/console/promotions/coupons/"),
                        ("/console/promotions/flash/", "/console/promotions/flash/"),
                        ("/console/promotions/group-buys/", "/console/promotions/group-buys/")]:
        page = seller_client.get(url).content.decode()
        tabs = page.split('class="console-tabs console-promotion-tabs"')[1].split("</nav>")[0]
        for href in ("/console/promotions/coupons/", "/console/promotions/flash/", "/console/promotions/group-buys/"):
            assert f'href="{href}"' in tabs
        assert f'href="{active}" class="active"' in tabs
        # the side navigation still marks Promotions
        assert 'href="/console/promotions/" aria-current="page"' in page


# --- coupons ----------------------------------------------------------------------------------

def test_coupon_list_shows_status_and_issued_of_total(seller_client, shop, other_shop, shopper):
    live = f.make_coupon_template(shop, name="满百减十", total_quantity=20)
    f.give_coupon(shopper, live)
    draft = f.make_coupon_template(shop, name="草稿券", publish=False, benefit="percent", max_off="30")
    f.make_coupon_template(other_shop, name="别家券")
    response = seller_client.get("/console/promotions/coupons/")
    assert response.status_code == 200
    page = response.content.decode()
    row = page.split(f'id="coupon-{live.pk}"')[1].split("</tr>")[0]
    assert "1 / 20" in row and 'data-status="active"' in row and "¥10.00 off ¥100.00" in row
    row = page.split(f'id="coupon-{draft.pk}"')[1].split("</tr>")[0]
    assert "0 / 100" in row and 'data-status="draft"' in row and "10% off (up to ¥30.00)" in row
    assert "别家券" not in page
    assert scrolls(page)


@pytest.mark.parametrize(("fields", "stored"), [
    ({}, {"benefit": "amount", "threshold": "100", "amount_off": "10", "validity": "fixed"}),
    ({"benefit": "percent", "threshold": "", "amount_off": "", "percent_off": "15", "max_off": "20"},
     {"benefit": "percent", "percent_off": "15", "max_off": "20", "validity": "fixed"}),
    ({"benefit": "free_shipping", "threshold": "59", "amount_off": "", "validity": "days", "valid_days": "3",
      "valid_from": "", "valid_until": ""},
     {"benefit": "free_shipping", "threshold": "59", "validity": "days", "valid_days": 3}),
])
def test_seller_creates_each_coupon_benefit(seller_client, shop, fields, stored):
    assert seller_client.get("/console/promotions/coupons/new/").status_code == 200
    response = seller_client.post("/console/promotions/coupons/new/", coupon_post(**fields))
    assert response.status_code == 302, response.content.decode()[:2000]
    template = CouponTemplate.objects.get(shop=shop)
    assert response["Location"] == f"/console/promotions/coupons/{template.pk}/"
    assert (template.status, template.total_quantity, template.per_user_limit) == ("draft", 50, 2)
    assert {name: plain(getattr(template, name)) for name in stored} == stored
    page = seller_client.get(response["Location"]).content.decode()
    assert "满100减10" in page and 'data-status="draft"' in page and scrolls(page)


def test_coupon_scope_saves_the_chosen_products(seller_client, shop, other_shop):
    mine, theirs = f.make_product(shop, price="20.00"), f.make_product(other_shop, price="20.00")
    response = seller_client.post("/console/promotions/coupons/new/", coupon_post(
        scope="products", target_products=[str(mine.pk)]))
    assert response.status_code == 302
    assert list(CouponTemplate.objects.get().products.all()) == [mine]
    # another shop's product is refused by the service, shown on the page
    response = seller_client.post("/console/promotions/coupons/new/", coupon_post(
        name="别家商品", scope="products", target_products=[str(theirs.pk)]))
    assert response.status_code == 422
    assert "Not found in your shop." in response.content.decode()
    assert CouponTemplate.objects.count() == 1


def test_bad_coupon_shows_field_messages_and_writes_nothing(seller_client, shop):
    response = seller_client.post("/console/promotions/coupons/new/", coupon_post(
        name="", amount_off="100", total_quantity="0", claim_ends_at="soon"))
    assert response.status_code == 422
    page = response.content.decode()

    def beside(field_id, message):
        block = page.split(f'id="{field_id}"')[1].split('class="form-row"')[0]
        return message in block

    assert beside("c-name", "This field is required.")
    assert beside("c-amount", "The amount off must be less than the minimum spend.")
    assert beside("c-total", "Enter a whole number from 1 to 10000000.")
    assert beside("c-closes", "Enter a date and time")
    assert 'value="100"' in page  # what was typed stays
    assert not CouponTemplate.objects.exists()


def test_publish_stop_and_issue_through_the_page(seller_client, shop, shopper, other_shopper):
    template = f.make_coupon_template(shop, name="老客券", publish=False, total_quantity=2, per_user_limit=1)
    base = f"/console/promotions/coupons/{template.pk}/"
    # a draft hands nothing out: the issue box says why
    response = seller_client.post(base + "issue/", {"usernames": shopper.username})
    assert response.status_code == 409 and "This coupon is not available yet." in response.content.decode()
    assert seller_client.post(base + "publish/").status_code == 302
    template.refresh_from_db()
    assert template.status == "active"
    f.give_coupon(other_shopper, template)
    third = f.make_user("third")
    typed = f"{shopper.username}\n\n{other_shopper.username}\nnobody-here\n{third.username}\n"
    response = seller_client.post(base + "issue/", {"usernames": typed})
    assert response.status_code == 200
    report = response.content.decode().split('id="issue-report"')[1]
    assert "1 user got a coupon" in report and f"<li>{shopper.username}</li>" in report
    skipped = dict(re.findall(r'<tr class="skipped"><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td>', report))
    assert skipped == {other_shopper.username: "Already holds the most coupons of this kind allowed.",
                       "nobody-here": "No such user.",
                       third.username: "No coupons left of the total quantity."}
    assert UserCoupon.objects.filter(template=template, user=shopper, source="issued").count() == 1
    assert "2 / 2" in response.content.decode()
    # no usernames at all: the message sits beside the box, nothing issued
    response = seller_client.post(base + "issue/", {"usernames": " \n "})
    assert response.status_code == 422
    assert "Give a list of usernames." in response.content.decode().split('id="c-usernames"')[1]
    # stop
    assert seller_client.post(base + "stop/").status_code == 302
    template.refresh_from_db()
    assert template.status == "stopped"
    page = seller_client.get(base).content.decode()
    assert "coupons already held stay usable" in page and f"{base}stop/" not in page


def test_foreign_coupon_is_404_and_other_staff_cannot_reach_ours(seller_client, client, shop, other_shop,
                                                                  shopper):
    theirs = f.make_coupon_template(other_shop, publish=False)
    base = f"/console/promotions/coupons/{theirs.pk}/"
    assert seller_client.get(base).status_code == 404
    for action in ("publish/", "stop/"):
        assert seller_client.post(base + action).status_code == 404
    assert seller_client.post(base + "issue/", {"usernames": shopper.username}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.issued) == ("draft", 0)
    ours = f.make_coupon_template(shop, name="我家券")
    client.force_login(other_shop.members.first().user)
    assert client.get(f"/console/promotions/coupons/{ours.pk}/").status_code == 404
    assert client.post(f"/console/promotions/coupons/{ours.pk}/stop/").status_code == 404
    assert "我家券" not in client.get("/console/promotions/coupons/").content.decode()
    ours.refresh_from_db()
    assert ours.status == "active"
    # a shopper (no membership) is refused the pages altogether
    client.force_login(shopper)
    assert client.get("/console/promotions/coupons/").status_code == 403


# --- flash sales ------------------------------------------------------------------------------

def test_flash_list_shows_sessions_with_status_time_and_items(seller_client, shop, other_shop, sku):
    live = f.make_flash_sale(shop, [(sku, "29.90", 3, 1)], name="整点秒杀")
    draft = f.make_flash_sale(shop, [], publish=False, name="明日秒杀", starts_in_minutes=60 * 24)
    f.make_flash_sale(other_shop, [], publish=False, name="别家秒杀")
    page = seller_client.get("/console/promotions/flash/").content.decode()
    row = page.split(f'id="flash-{live.pk}"')[1].split("</tr>")[0]
    assert 'data-phase="live"' in row and '<td data-label="Items" class="flash-items">1</td>' in row
    assert timezone.localtime(live.starts_at).strftime("%Y-%m-%d %H:%M") in row
    row = page.split(f'id="flash-{draft.pk}"')[1].split("</tr>")[0]
    assert 'data-phase="draft"' in row
    assert "别家秒杀" not in page and scrolls(page)


def test_seller_builds_previews_and_publishes_a_flash_sale(seller_client, shop, sku):
    assert seller_client.get("/console/promotions/flash/new/").status_code == 200
    response = seller_client.post("/console/promotions/flash/new/", {
        "name": "双12秒杀", "name_en": "", "starts_at": at(hours=1), "ends_at": at(hours=3)})
    assert response.status_code == 302, response.content.decode()[:2000]
    sale = FlashSale.objects.get(shop=shop)
    base = f"/console/promotions/flash/{sale.pk}/"
    assert response["Location"] == base
    page = seller_client.get(base).content.decode()
    assert f'<option value="{sku.pk}"' in page
    assert "sets each item's flash stock aside from its normal stock" in page
    response = seller_client.post(base + "items/", {"sku_id": str(sku.pk), "flash_price": "29.90",
                                                    "flash_stock": "4", "per_user_limit": "2"})
    assert response.status_code == 302
    item = FlashSaleItem.objects.get(sale=sale)
    assert (str(item.flash_price.normalize()), item.quantity, item.per_user_limit) == ("29.9", 4, 2)
    page = seller_client.get(base).content.decode()
    preview = page.split(f'id="flash-item-{item.pk}"')[1].split("</tr>")[0]
    assert "¥59.90" in preview and "¥29.90" in preview and "(50%)" in preview
    assert scrolls(page)
    stock_before = StockLevel.objects.get(sku=sku).quantity
    response = seller_client.post(base + "publish/", follow=True)
    assert "its units are set aside from normal stock" in response.content.decode()
    sale.refresh_from_db()
    assert sale.status == "scheduled"
    assert StockLevel.objects.get(sku=sku).quantity == stock_before - 4
    # not started yet: it can still be cancelled, and the units go back
    assert seller_client.post(base + "cancel/").status_code == 302
    sale.refresh_from_db()
    assert sale.status == "cancelled"
    assert StockLevel.objects.get(sku=sku).quantity == stock_before


def test_started_flash_sale_cannot_be_cancelled(seller_client, shop, sku):
    sale = f.make_flash_sale(shop, [(sku, "29.90", 3, 1)])
    base = f"/console/promotions/flash/{sale.pk}/"
    assert f"{base}cancel/" not in seller_client.get(base).content.decode()
    response = seller_client.post(base + "cancel/", follow=True)
    assert "The session has started: it can no longer be cancelled." in response.content.decode()
    sale.refresh_from_db()
    assert sale.status == "scheduled"


def test_bad_flash_input_shows_field_messages_and_writes_nothing(seller_client, shop, sku, other_sku):
    response = seller_client.post("/console/promotions/flash/new/", {
        "name": "", "starts_at": at(hours=3), "ends_at": at(hours=1)})
    assert response.status_code == 422
    page = response.content.decode()
    assert "This field is required." in page.split('id="f-name"')[1].split('class="form-row"')[0]
    assert "The session must end after it starts." in page.split('id="f-ends"')[1]
    assert not FlashSale.objects.exists()
    sale = f.make_flash_sale(shop, [], publish=False)
    base = f"/console/promotions/flash/{sale.pk}/"
    response = seller_client.post(base + "items/", {"sku_id": str(sku.pk), "flash_price": "80",
                                                    "flash_stock": "999", "per_user_limit": "0"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "The flash price must be below the list price (¥59.90)." in page.split('id="fi-price"')[1].split(
        'class="form-row"')[0]
    assert "Only 10 units are in stock." in page.split('id="fi-stock"')[1].split('class="form-row"')[0]
    assert "Enter a limit per buyer from 1 to" in page.split('id="fi-limit"')[1]
    assert 'value="999"' in page
    # another shop's SKU is refused beside the picker
    response = seller_client.post(base + "items/", {"sku_id": str(other_sku.pk), "flash_price": "1",
                                                    "flash_stock": "1", "per_user_limit": "1"})
    assert response.status_code == 422
    assert "Choose one of the shop&#x27;s SKUs on sale." in response.content.decode().split('id="fi-sku"')[1]
    # publishing with no item is refused with the service's words
    response = seller_client.post(base + "publish/", follow=True)
    assert "Add at least one item before publishing." in response.content.decode()
    assert not FlashSaleItem.objects.exists()
    sale.refresh_from_db()
    assert sale.status == "draft"


def test_foreign_flash_sale_is_404_and_other_staff_cannot_reach_ours(seller_client, client, shop, other_shop,
                                                                      sku, other_sku):
    theirs = f.make_flash_sale(other_shop, [(other_sku, "9.90", 1, 1)], publish=False)
    base = f"/console/promotions/flash/{theirs.pk}/"
    assert seller_client.get(base).status_code == 404
    for action in ("publish/", "cancel/"):
        assert seller_client.post(base + action).status_code == 404
    assert seller_client.post(base + "items/", {"sku_id": str(sku.pk), "flash_price": "9", "flash_stock": "1",
                                                "per_user_limit": "1"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "draft" and theirs.items.count() == 1
    ours = f.make_flash_sale(shop, [], publish=False)
    client.force_login(other_shop.members.first().user)
    assert client.get(f"/console/promotions/flash/{ours.pk}/").status_code == 404
    assert client.post(f"/console/promotions/flash/{ours.pk}/cancel/").status_code == 404
    ours.refresh_from_db()
    assert ours.status == "draft"


# --- group buying -----------------------------------------------------------------------------

def test_group_list_shows_the_shops_campaigns(seller_client, shop, other_shop, sku, other_sku):
    ours = f.make_group_buy(shop, sku)
    f.make_group_buy(other_shop, other_sku, price="20.00")
    GroupBuy.objects.filter(shop=other_shop).update(name="别家拼团")
    page = seller_client.get("/console/promotions/group-buys/").content.decode()
    row = page.split(f'id="group-buy-{ours.pk}"')[1].split("</tr>")[0]
    assert "三人团" in row and "3 people" in row and 'data-status="published"' in row
    assert "别家拼团" not in page and scrolls(page)


def test_seller_previews_then_creates_publishes_and_stops_a_campaign(seller_client, shop, sku, shopper,
                                                                     address):
    second = f.make_product(shop, price="100.00", title="蓝牙耳机").skus.get()
    page = seller_client.get("/console/promotions/group-buys/new/").content.decode()
    assert f'name="price_{sku.pk}"' in page and f'name="price_{second.pk}"' in page and scrolls(page)
    data = {"name": "两人团", "name_en": "Team of two", "group_size": "2", "time_limit_hours": "24",
            "max_quantity": "1", "starts_at": at(minutes=-1), "ends_at": at(days=3),
            f"price_{sku.pk}": "39.90", f"price_{second.pk}": ""}
    response = seller_client.post("/console/promotions/group-buys/new/", {**data, "action": "preview"})
    assert response.status_code == 200
    preview = response.content.decode().split('id="group-preview"')[1]
    rows = preview.split('class="preview-row"')[1:]
    assert len(rows) == 1 and "¥59.90" in rows[0] and "¥39.90" in rows[0] and "¥20.00" in rows[0]
    assert not GroupBuy.objects.exists()
    response = seller_client.post("/console/promotions/group-buys/new/", {**data, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = GroupBuy.objects.get(shop=shop)
    assert [(i.sku_id, str(i.group_price.normalize())) for i in campaign.items.all()] == [(sku.pk, "39.9")]
    base = f"/console/promotions/group-buys/{campaign.pk}/"
    assert seller_client.post(base + "publish/").status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "published"
    # a shopper opens a group; the campaign page lists it with its members
    result = open_group(actor=shopper, item_id=campaign.items.get().pk, quantity=1, address_id=address.pk)
    page = seller_client.get(base).content.decode()
    assert "every group still filling fails: its paid members are refunded in full" in page
    group_row = page.split(f'id="group-{result.group.pk}"')[1].split("</tr>")[0]
    assert "0 of 2 paid (1 joined)" in group_row and 'data-status="open"' in group_row
    assert shopper.username in group_row and scrolls(page)
    assert "¥39.90" in page.split('id="group-preview"')[1]
    # stopping fails the open group
    assert seller_client.post(base + "stop/").status_code == 302
    campaign.refresh_from_db()
    result.group.refresh_from_db()
    assert (campaign.status, result.group.status) == ("stopped", "failed")
    page = seller_client.get(base).content.decode()
    assert 'data-status="failed"' in page.split(f'id="group-{result.group.pk}"')[1].split("</tr>")[0]


def test_bad_campaign_shows_messages_on_their_fields_and_rows(seller_client, shop, sku):
    second = f.make_product(shop, price="100.00").skus.get()
    data = {"name": "拼团", "group_size": "1", "time_limit_hours": "100", "max_quantity": "1",
            "starts_at": at(minutes=-1), "ends_at": at(days=3), f"price_{sku.pk}": "10",
            f"price_{second.pk}": "150", "action": "save"}
    response = seller_client.post("/console/promotions/group-buys/new/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Enter a whole number from 2 to 100." in page.split('id="g-size"')[1].split('class="form-row"')[0]
    assert "Enter a whole number from 1 to 72." in page.split('id="g-hours"')[1].split('class="form-row"')[0]
    first_row = page.split(f'id="sku-row-{sku.pk}"')[1].split("</tr>")[0]
    second_row = page.split(f'id="sku-row-{second.pk}"')[1].split("</tr>")[0]
    assert "must be below the list price" not in first_row
    assert "The group price must be below the list price (¥100.00)." in second_row
    assert 'value="150"' in second_row
    # no SKU priced at all
    data.update({"group_size": "2", "time_limit_hours": "24", f"price_{sku.pk}": "", f"price_{second.pk}": ""})
    response = seller_client.post("/console/promotions/group-buys/new/", data)
    assert response.status_code == 422
    assert "Add at least one SKU with its group price." in response.content.decode()
    assert not GroupBuy.objects.exists()


def test_foreign_campaign_is_404_and_other_staff_cannot_reach_ours(seller_client, client, shop, other_shop,
                                                                    sku, other_sku):
    theirs = f.make_group_buy(other_shop, other_sku, price="20.00", publish=False)
    base = f"/console/promotions/group-buys/{theirs.pk}/"
    assert seller_client.get(base).status_code == 404
    for action in ("publish/", "stop/"):
        assert seller_client.post(base + action).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "draft"
    ours = f.make_group_buy(shop, sku)
    client.force_login(other_shop.members.first().user)
    assert client.get(f"/console/promotions/group-buys/{ours.pk}/").status_code == 404
    assert client.post(f"/console/promotions/group-buys/{ours.pk}/stop/").status_code == 404
    ours.refresh_from_db()
    assert ours.status == "published"


def test_suspended_shop_sees_the_pages_but_writes_nothing(seller_client, shop, sku):
    from shopyard.shops.services import suspend_shop

    template = f.make_coupon_template(shop, publish=False)
    suspend_shop(actor=f.make_user("operator", is_staff=True), shop_id=shop.pk, reason="资质过期")
    for url in ("/console/promotions/coupons/", "/console/promotions/flash/", "/console/promotions/group-buys/"):
        assert 'id="shop-suspended"' in seller_client.get(url).content.decode()
    assert seller_client.post("/console/promotions/coupons/new/", coupon_post()).status_code == 403
    assert seller_client.post(f"/console/promotions/coupons/{template.pk}/publish/").status_code == 403
    assert seller_client.post("/console/promotions/flash/new/", {
        "name": "秒杀", "starts_at": at(hours=1), "ends_at": at(hours=2)}).status_code == 403
    template.refresh_from_db()
    assert template.status == "draft" and CouponTemplate.objects.count() == 1 and not FlashSale.objects.exists()
