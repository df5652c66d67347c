"""The seller promotions API (/api/v1/seller/promotions): list, create, get, patch,
publish and stop, scoped to the caller's shop; bad input is a 422 naming the field
with nothing written; another shop's promotion is a 404."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.promotions.kinds import Kind
from shopyard.promotions.models import Promotion
from shopyard.shops.models import ShopMember
from tests import factories as f

pytestmark = pytest.mark.django_db


def body(**extra):
    now = timezone.now()
    data = {"kind": "multi_buy", "name": "第二件半价", "name_en": "2nd half price",
            "starts_at": (now + timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=2)).isoformat(),
            "rules": {"nth": 2, "percent_off": "50"}}
    data.update(extra)
    return data


def test_seller_creates_reads_lists_publishes_and_stops(api, seller_token, shop, product):
    response = api.post("/seller/promotions", body(scope="products", target_ids=[product.pk]), token=seller_token)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert {k: created[k] for k in ("kind", "name", "status", "phase", "scope", "target_ids", "summary",
                                    "summary_en")} == {
        "kind": "multi_buy", "name": "第二件半价", "status": "draft", "phase": "draft", "scope": "products",
        "target_ids": [product.pk], "summary": "第2件半价", "summary_en": "50% off every 2nd item"}
    pk = created["id"]
    assert api.get(f"/seller/promotions/{pk}", token=seller_token).json()["rules"] == {"nth": 2, "percent_off": "50"}
    published = api.post(f"/seller/promotions/{pk}/publish", token=seller_token).json()
    assert (published["status"], published["phase"]) == ("published", "scheduled")
    listed = api.get("/seller/promotions?phase=scheduled", token=seller_token).json()
    assert [p["id"] for p in listed["results"]] == [pk] and listed["meta"]["count"] == 1
    assert api.get("/seller/promotions?phase=live", token=seller_token).json()["results"] == []
    stopped = api.post(f"/seller/promotions/{pk}/stop", token=seller_token).json()
    assert (stopped["status"], stopped["phase"]) == ("stopped", "ended")


def test_patch_changes_a_scheduled_promotion_but_not_a_started_ones_rule(api, seller_token, shop):
    pk = api.post("/seller/promotions", body(), token=seller_token).json()["id"]
    response = api.patch(f"/seller/promotions/{pk}", {"rules": {"min_quantity": 3, "percent_off": "15"}},
                         token=seller_token)
    assert response.status_code == 200 and response.json()["summary_en"] == "15% off 3 or more"
    started = f.make_promotion(shop, Kind.BUNDLE_PRICE, {"count": 3, "price": "99.00"})
    response = api.patch(f"/seller/promotions/{started.pk}", {"rules": {"count": 2, "price": "9.00"}},
                         token=seller_token)
    assert response.status_code == 409
    assert response.json()["code"] == "promotion_started" and list(response.json()["fields"]) == ["rules"]
    started.refresh_from_db()
    assert started.rules == {"count": 3, "price": "99.00"}
    renamed = api.patch(f"/seller/promotions/{started.pk}", {"name": "任选"}, token=seller_token).json()
    assert renamed["name"] == "任选"


@pytest.mark.parametrize(("extra", "field"), [
    ({"rules": {"nth": 2, "percent_off": "0"}}, "rules.percent_off"),
    ({"rules": {"nth": 2, "percent_off": "101"}}, "rules.percent_off"),
    ({"rules": {"nth": 1, "percent_off": "50"}}, "rules.nth"),
    ({"kind": "bundle_price", "rules": {"count": 1, "price": "10"}}, "rules.count"),
    ({"kind": "gift", "rules": {"threshold": "-1", "gift_sku_id": 1}}, "rules.threshold"),
    ({"kind": "add_on", "rules": {"threshold": "-1", "sku_id": 1, "price": "1"}}, "rules.threshold"),
    ({"kind": "cross_shop_tiers", "rules": {"tiers": [{"threshold": "100", "amount_off": "10"}]}}, "kind"),
    ({"ends_at": "2020-01-01T00:00:00+08:00"}, "ends_at"),
    ({"scope": "skus", "target_ids": []}, "target_ids"),
    ({"name": "a\u0000b"}, "name"),
    ({"target_ids": ["x"], "scope": "skus"}, "target_ids[0]"),
])
def test_bad_input_is_422_with_the_field_and_nothing_written(api, seller_token, shop, extra, field):
    response = api.post("/seller/promotions", body(**extra), token=seller_token)
    assert response.status_code == 422, response.json()
    assert field in response.json()["fields"], response.json()
    assert not Promotion.objects.exists()


def test_gift_of_another_shops_sku_is_refused(api, seller_token, shop, other_sku):
    response = api.post("/seller/promotions", body(kind="gift", rules={"threshold": "99", "gift_sku_id": other_sku.pk}),
                        token=seller_token)
    assert response.status_code == 422
    assert response.json()["fields"] == {"rules.gift_sku_id": ["Choose a SKU of your own shop as the gift."]}
    assert not Promotion.objects.exists()


def test_another_shops_promotion_is_404_and_untouched(api, seller_token, shop, other_shop):
    foreign = f.make_promotion(other_shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, publish=False, name="别家")
    for method, path, data in [("get", "", None), ("patch", "", {"name": "x"}), ("post", "/publish", None),
                               ("post", "/stop", None)]:
        call = getattr(api, method)
        response = call(f"/seller/promotions/{foreign.pk}{path}", **({"data": data} if data else {}),
                        token=seller_token)
        assert response.status_code == 404, (method, path, response.json())
    foreign.refresh_from_db()
    assert (foreign.status, foreign.name) == ("draft", "别家")
    assert [p["id"] for p in api.get("/seller/promotions", token=seller_token).json()["results"]] == []


def test_member_of_another_shop_cannot_reach_mine_and_a_shopper_is_refused(api, shop, other_shop, shopper_token):
    mine = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, publish=False)
    staff = f.make_user()
    ShopMember.objects.create(shop=other_shop, user=staff, role=ShopMember.Role.MANAGER)
    token = f.token_for(staff)
    assert api.get(f"/seller/promotions/{mine.pk}", token=token).status_code == 404
    assert api.post(f"/seller/promotions/{mine.pk}/publish", token=token).status_code == 404
    assert api.get("/seller/promotions", token=token).json()["results"] == []
    # not a member of any shop
    assert api.get("/seller/promotions", token=shopper_token).status_code == 403
    assert api.post("/seller/promotions", body(), token=shopper_token).status_code == 403
    mine.refresh_from_db()
    assert mine.status == "draft" and Promotion.objects.count() == 1


def test_suspended_shop_reads_but_cannot_write(api, seller_token, shop):
    promotion = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, publish=False)
    shop.status = shop.Status.SUSPENDED
    shop.save(update_fields=["status"])
    assert api.get(f"/seller/promotions/{promotion.pk}", token=seller_token).status_code == 200
    response = api.post(f"/seller/promotions/{promotion.pk}/publish", token=seller_token)
    assert response.status_code == 403 and response.json()["code"] == "shop_suspended"
    promotion.refresh_from_db()
    assert promotion.status == "draft"


def test_huge_promotion_id_is_422(api, seller_token, shop):
    response = api.get(f"/seller/promotions/{2**64}", token=seller_token)
    assert response.status_code == 422 and "promotion_id" in response.json()["fields"]
