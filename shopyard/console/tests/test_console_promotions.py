"""Seller console pages for promotions, driven through the test client as a seller
would: the list with each promotion's phase, an editor per kind, the price
preview before publishing, publish / stop, and the refusals the service words."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopyard.promotions.kinds import Kind
from shopyard.promotions.models import Promotion
from shopyard.promotions.queries import Phase, promotions_of
from shopyard.promotions.services import stop_promotion
from shopyard.shops.models import ShopMember
from tests import factories as f

pytestmark = pytest.mark.django_db

FMT = "%Y-%m-%dT%H:%M"


def window(start_minutes=-1, days=3):
    now = timezone.localtime()
    return {"starts_at": (now + timedelta(minutes=start_minutes)).strftime(FMT),
            "ends_at": (now + timedelta(days=days)).strftime(FMT)}


def post_form(kind, **fields):
    data = {"kind": kind, "name": "双12", "name_en": "Double 12", "scope": "all", "action": "save", **window()}
    data.update(fields)
    return data


def test_list_shows_each_promotion_with_its_phase(seller_client, shop):
    now = timezone.now()
    draft = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, publish=False, name="草稿")
    later = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, name="预告",
                             starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2))
    live = f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]},
                            name="满减")
    ended = f.make_promotion(shop, Kind.MULTI_BUY, {"nth": 2, "percent_off": "50"}, name="结束")
    stop_promotion(actor=shop.members.first().user, shop=shop, promotion_id=ended.pk)
    f.make_promotion(f.make_shop(owner=f.make_user()), Kind.TIME_DISCOUNT, {"percent_off": "5"}, name="别家")
    page = seller_client.get("/console/promotions/").content.decode()
    for promotion, phase in [(draft, "draft"), (later, "scheduled"), (live, "live"), (ended, "ended")]:
        row = page.split(f'id="promotion-{promotion.pk}"')[1].split("</tr>")[0]
        assert f'data-phase="{phase}"' in row
    assert "别家" not in page
    assert "¥20.00 off ¥200.00" in page  # the rule, in the reader's language
    # the phase tabs filter with the same helper
    live_only = seller_client.get("/console/promotions/?phase=live").content.decode()
    assert "满减" in live_only and "草稿" not in live_only
    # one helper derives the phase, at any moment
    assert {p.pk: p.phase for p in promotions_of(shop)} == {
        draft.pk: Phase.DRAFT, later.pk: Phase.SCHEDULED, live.pk: Phase.LIVE, ended.pk: Phase.ENDED}
    assert {p.pk: p.phase for p in promotions_of(shop, now=now + timedelta(days=1, hours=1))}[later.pk] == Phase.LIVE
    assert {p.pk: p.phase for p in promotions_of(shop, now=now + timedelta(days=3))}[live.pk] == Phase.ENDED


def test_kind_chooser_offers_every_shop_kind(seller_client):
    page = seller_client.get("/console/promotions/new/").content.decode()
    for kind in ("time_discount", "spend_tiers", "multi_buy", "bundle_price", "gift", "add_on"):
        assert f"?kind={kind}" in page
    assert "cross_shop_tiers" not in page


@pytest.mark.parametrize(("kind", "fields", "rules"), [
    (Kind.TIME_DISCOUNT, {"mode": "percent_off", "percent_off": "20", "price": ""}, {"percent_off": "20"}),
    (Kind.TIME_DISCOUNT, {"mode": "price", "percent_off": "", "price": "9.90"}, {"price": "9.90"}),
    (Kind.SPEND_TIERS, {"tier_rows": "3", "tier-0-threshold": "200", "tier-0-type": "amount", "tier-0-value": "20",
                        "tier-1-threshold": "400", "tier-1-type": "percent", "tier-1-value": "15",
                        "tier-2-threshold": "", "tier-2-value": ""},
     {"tiers": [{"threshold": "200", "amount_off": "20"}, {"threshold": "400", "percent_off": "15"}]}),
    (Kind.MULTI_BUY, {"mode": "nth", "count": "2", "percent_off": "50"}, {"nth": "2", "percent_off": "50"}),
    (Kind.MULTI_BUY, {"mode": "min_quantity", "count": "2", "percent_off": "10"},
     {"min_quantity": "2", "percent_off": "10"}),
    (Kind.BUNDLE_PRICE, {"count": "3", "price": "99.00"}, {"count": "3", "price": "99.00"}),
    (Kind.GIFT, {"mode": "threshold", "threshold": "199", "gift_sku_id": "SKU", "gift_quantity": "1"},
     {"threshold": "199", "gift_sku_id": "SKU", "gift_quantity": "1"}),
    (Kind.ADD_ON, {"threshold": "100", "sku_id": "SKU", "price": "9.90", "limit": "1"},
     {"threshold": "100", "sku_id": "SKU", "price": "9.90", "limit": "1"}),
])
def test_seller_creates_each_kind_with_its_own_form(seller_client, shop, sku, kind, fields, rules):
    assert seller_client.get(f"/console/promotions/new/?kind={kind}").status_code == 200
    fields = {k: str(sku.pk) if v == "SKU" else v for k, v in fields.items()}
    rules = {k: str(sku.pk) if v == "SKU" else v for k, v in rules.items()}
    response = seller_client.post(f"/console/promotions/new/?kind={kind}", post_form(kind, **fields))
    assert response.status_code == 302, response.content.decode()[:3000]
    promotion = Promotion.objects.get(shop=shop)
    assert (promotion.kind, promotion.rules, promotion.status) == (kind, rules, "draft")
    assert response["Location"] == f"/console/promotions/{promotion.pk}/"
    # the editor reads it back
    page = seller_client.get(response["Location"]).content.decode()
    assert 'value="双12"' in page


def test_scope_picker_saves_the_chosen_products(seller_client, shop):
    a, b = f.make_product(shop, price="10.00"), f.make_product(shop, price="20.00")
    data = post_form(Kind.TIME_DISCOUNT, mode="percent_off", percent_off="10", scope="products",
                     target_products=[str(b.pk)], target_skus=[str(a.skus.get().pk)])
    assert seller_client.post("/console/promotions/new/?kind=time_discount", data).status_code == 302
    promotion = Promotion.objects.get(shop=shop)
    assert (promotion.scope, list(promotion.products.all()), list(promotion.skus.all())) == ("products", [b], [])


def test_tiers_editor_adds_a_row_and_puts_errors_on_their_row(seller_client, shop):
    data = post_form(Kind.SPEND_TIERS, tier_rows="1", **{"tier-0-threshold": "200", "tier-0-type": "amount",
                                                          "tier-0-value": "20", "action": "add_tier"})
    page = seller_client.post("/console/promotions/new/?kind=spend_tiers", data).content.decode()
    assert 'name="tier-1-threshold"' in page and 'value="200"' in page
    data.update({"action": "save", "tier_rows": "2", "tier-1-threshold": "300", "tier-1-type": "amount",
                 "tier-1-value": "300"})
    response = seller_client.post("/console/promotions/new/?kind=spend_tiers", data)
    assert response.status_code == 422
    page = response.content.decode()
    first, second = page.split('id="tier-0"')[1].split('id="tier-1"')
    assert "The amount off must be less than the threshold." not in first
    assert "The amount off must be less than the threshold." in second.split('class="console-tier"')[0]
    assert not Promotion.objects.exists()


def test_bad_rule_is_refused_with_the_field_message_and_nothing_written(seller_client, shop):
    response = seller_client.post("/console/promotions/new/?kind=multi_buy",
                                  post_form(Kind.MULTI_BUY, mode="nth", count="1", percent_off="0"))
    assert response.status_code == 422
    page = response.content.decode()
    assert "Enter a percentage from 0.01 to 100." in page and "Enter a whole number from 2 to 100." in page
    assert not Promotion.objects.exists()


def test_gift_picker_lists_own_skus_and_refuses_a_foreign_one(seller_client, shop, other_shop, sku):
    foreign = f.make_product(other_shop, price="5.00").skus.get()
    page = seller_client.get("/console/promotions/new/?kind=gift").content.decode()
    assert f'<option value="{sku.pk}"' in page and f'<option value="{foreign.pk}"' not in page
    response = seller_client.post("/console/promotions/new/?kind=gift", post_form(
        Kind.GIFT, mode="threshold", threshold="99", gift_sku_id=str(foreign.pk), gift_quantity="1"))
    assert response.status_code == 422
    assert "Choose a SKU of your own shop as the gift." in response.content.decode()
    assert not Promotion.objects.exists()


def test_preview_prices_the_scope_through_the_pipeline_without_saving(seller_client, shop):
    f.make_product(shop, price="100.00", title="蓝牙耳机")
    f.make_product(shop, price="39.90", title="数据线")
    response = seller_client.post("/console/promotions/new/?kind=time_discount", post_form(
        Kind.TIME_DISCOUNT, mode="percent_off", percent_off="20", action="preview"))
    assert response.status_code == 200
    preview = response.content.decode().split('id="promotion-preview"')[1]
    rows = preview.split('class="preview-row"')[1:]
    assert len(rows) == 2
    assert "¥100.00" in rows[0] and "¥80.00" in rows[0]
    assert "¥39.90" in rows[1] and "¥31.92" in rows[1]
    assert not Promotion.objects.exists()


def test_preview_of_tiers_shows_an_example_basket_per_tier(seller_client, shop):
    f.make_product(shop, price="60.00", stock=50)
    data = post_form(Kind.SPEND_TIERS, tier_rows="2", action="preview", **{
        "tier-0-threshold": "200", "tier-0-type": "amount", "tier-0-value": "20",
        "tier-1-threshold": "400", "tier-1-type": "amount", "tier-1-value": "50"})
    preview = seller_client.post("/console/promotions/new/?kind=spend_tiers", data).content.decode()
    rows = preview.split('id="promotion-preview"')[1].split('class="preview-row"')[1:]
    # 4 × 60 = 240 reaches ¥200 (−20); 7 × 60 = 420 reaches ¥400 (−50)
    assert "× 4" in rows[0] and "¥240.00" in rows[0] and "¥220.00" in rows[0]
    assert "× 7" in rows[1] and "¥420.00" in rows[1] and "¥370.00" in rows[1]


def test_preview_of_a_gift_shows_the_zero_line(seller_client, shop):
    f.make_product(shop, price="120.00", stock=50)
    gift = f.make_product(shop, price="9.90", stock=5, title="小样").skus.get()
    data = post_form(Kind.GIFT, mode="threshold", threshold="199", gift_sku_id=str(gift.pk), gift_quantity="1",
                     action="preview")
    preview = seller_client.post("/console/promotions/new/?kind=gift", data).content.decode()
    row = preview.split('id="promotion-preview"')[1].split('class="preview-row"')[1]
    assert "Gift" in row and "× 2" in row and "¥240.00" in row


def test_started_promotion_refuses_a_new_rule_with_the_services_message_but_takes_a_new_name(seller_client, shop):
    promotion = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, name="限时")
    page = seller_client.get(f"/console/promotions/{promotion.pk}/").content.decode()
    assert "This promotion has started" in page
    data = post_form(Kind.TIME_DISCOUNT, mode="percent_off", percent_off="30", name="限时",
                     starts_at=timezone.localtime(promotion.starts_at).strftime(FMT),
                     ends_at=timezone.localtime(promotion.ends_at).strftime(FMT), name_en="")
    response = seller_client.post(f"/console/promotions/{promotion.pk}/", data)
    assert response.status_code == 409
    assert ("This promotion has started: only its names and its end can change, so buyers keep the prices "
            "they were given.") in response.content.decode().split('id="promotion-errors"')[1]
    promotion.refresh_from_db()
    assert promotion.rules == {"percent_off": "10"}
    data.update(percent_off="10", name="限时特惠")
    assert seller_client.post(f"/console/promotions/{promotion.pk}/", data).status_code == 302
    promotion.refresh_from_db()
    assert (promotion.name, promotion.rules) == ("限时特惠", {"percent_off": "10"})


def test_publish_and_stop_buttons(seller_client, shop):
    promotion = f.make_promotion(shop, Kind.BUNDLE_PRICE, {"count": 2, "price": "50.00"}, publish=False)
    response = seller_client.post(f"/console/promotions/{promotion.pk}/publish/", {"next": "list"})
    assert response.status_code == 302 and response["Location"] == "/console/promotions/"
    promotion.refresh_from_db()
    assert promotion.status == "published"
    seller_client.post(f"/console/promotions/{promotion.pk}/stop/")
    promotion.refresh_from_db()
    assert promotion.status == "stopped"
    # publishing a stopped one is refused with the reason, not a 500
    response = seller_client.post(f"/console/promotions/{promotion.pk}/publish/", follow=True)
    assert response.status_code == 200
    promotion.refresh_from_db()
    assert promotion.status == "stopped"


def test_another_shops_promotion_is_404_everywhere(seller_client, other_shop):
    foreign = f.make_promotion(other_shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, publish=False)
    assert seller_client.get(f"/console/promotions/{foreign.pk}/").status_code == 404
    for action in ("publish", "stop"):
        assert seller_client.post(f"/console/promotions/{foreign.pk}/{action}/").status_code == 404
    data = post_form(Kind.TIME_DISCOUNT, mode="percent_off", percent_off="50")
    assert seller_client.post(f"/console/promotions/{foreign.pk}/", data).status_code == 404
    foreign.refresh_from_db()
    assert (foreign.status, foreign.rules) == ("draft", {"percent_off": "10"})


def test_staff_of_another_shop_sees_only_their_shop(client, shop, other_shop):
    staff = f.make_user()
    ShopMember.objects.create(shop=other_shop, user=staff, role=ShopMember.Role.MANAGER)
    mine = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, name="本店活动")
    client.force_login(staff)
    assert "本店活动" not in client.get("/console/promotions/").content.decode()
    assert client.get(f"/console/promotions/{mine.pk}/").status_code == 404
    assert Decimal(mine.rules["percent_off"]) == Decimal(10)


def test_huge_promotion_id_is_404(seller_client):
    assert seller_client.get(f"/console/promotions/{2**64}/").status_code == 404
    assert seller_client.post(f"/console/promotions/{'9' * 30}/publish/").status_code == 404


def test_unknown_kind_shows_the_chooser_and_a_post_of_it_is_404(seller_client):
    assert "?kind=gift" in seller_client.get("/console/promotions/new/?kind=cross_shop_tiers").content.decode()
    assert seller_client.post("/console/promotions/new/?kind=cross_shop_tiers", post_form("x")).status_code == 404
    assert not Promotion.objects.exists()
