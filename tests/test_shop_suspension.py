"""Operators suspend and reopen shops through shops.services, with a reason kept
in the history (admin, operator API). A suspended shop's console and seller API
are read-only: every write answers 403 saying why; reads still work."""

import pytest
from django.urls import reverse

from shopyard.catalog.models import Product
from shopyard.checkout.services import place_order
from shopyard.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from shopyard.core.models import OutboxEvent
from shopyard.orders.models import Order
from shopyard.orders.services import mark_paid
from shopyard.shipping.models import Shipment
from shopyard.shops import services
from shopyard.shops.models import Shop, ShopStatusChange
from shopyard.shops.state import TRANSITIONS, Action, Status

from . import factories as f


@pytest.fixture
def operator(db):
    return f.make_user("operator-1", is_staff=True)


@pytest.fixture
def operator_token(operator):
    return f.token_for(operator)


def _history(shop):
    return list(ShopStatusChange.objects.filter(shop=shop).order_by("id").values_list(
        "from_status", "to_status", "action", "actor__username", "reason"))


# --- the state table and the service -----------------------------------------


@pytest.mark.parametrize("state", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_the_state_table_allows_exactly_suspend_and_reopen(shop, operator, state, action):
    Shop.objects.filter(pk=shop.pk).update(status=state)
    call = services.suspend_shop if action == Action.SUSPEND else services.reopen_shop
    if (state, action) in TRANSITIONS:
        assert call(actor=operator, shop_id=shop.pk, reason="r").status == TRANSITIONS[(state, action)]
        assert len(_history(shop)) == 1
    else:
        with pytest.raises(InvalidTransition):
            call(actor=operator, shop_id=shop.pk, reason="r")
        assert _history(shop) == []
        shop.refresh_from_db()
        assert shop.status == state


def test_suspend_and_reopen_record_actor_reason_and_time(shop, operator):
    services.suspend_shop(actor=operator, shop_id=shop.pk, reason="  假货投诉  ")
    services.reopen_shop(actor=operator, shop_id=shop.pk, reason="整改完成")

    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE
    assert _history(shop) == [
        ("active", "suspended", "suspend", "operator-1", "假货投诉"),
        ("suspended", "active", "reopen", "operator-1", "整改完成"),
    ]
    assert all(c.created_at is not None for c in ShopStatusChange.objects.all())
    assert list(OutboxEvent.objects.filter(name__startswith="shop.").values_list("name", flat=True).order_by("id")) \
        == ["shop.suspended", "shop.reopened"]


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501, "bad\x00reason"])
def test_a_missing_or_bad_reason_is_refused_and_nothing_changes(shop, operator, reason):
    with pytest.raises(ValidationFailed) as exc:
        services.suspend_shop(actor=operator, shop_id=shop.pk, reason=reason)
    assert list(exc.value.fields) == ["reason"]
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE
    assert _history(shop) == []


def test_only_staff_may_suspend(shop, seller, shopper):
    for actor in (seller, shopper, None):
        with pytest.raises(PermissionDenied):
            services.suspend_shop(actor=actor, shop_id=shop.pk, reason="no")
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE
    assert _history(shop) == []


# --- operator API ------------------------------------------------------------


def test_operator_api_suspends_reopens_and_shows_the_history(api, shop, operator_token):
    response = api.post(f"/operator/shops/{shop.pk}/suspend", {"reason": "刷单"}, token=operator_token)
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    again = api.post(f"/operator/shops/{shop.pk}/suspend", {"reason": "刷单"}, token=operator_token)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")

    assert api.post(f"/operator/shops/{shop.pk}/reopen", {"reason": "申诉通过"}, token=operator_token).status_code == 200
    body = api.get(f"/operator/shops/{shop.pk}", token=operator_token).json()
    assert body["status"] == "active"
    assert [(h["action"], h["actor"], h["reason"]) for h in body["history"]] == [
        ("reopen", "operator-1", "申诉通过"), ("suspend", "operator-1", "刷单"),
    ]


def test_operator_api_is_403_for_everyone_else_and_changes_nothing(api, shop, seller_token, shopper_token):
    for token in (seller_token, shopper_token):
        response = api.post(f"/operator/shops/{shop.pk}/suspend", {"reason": "x"}, token=token)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert api.get(f"/operator/shops/{shop.pk}", token=token).status_code == 403
    assert api.post(f"/operator/shops/{shop.pk}/suspend", {"reason": "x"}).status_code == 401
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE
    assert _history(shop) == []


def test_operator_api_needs_a_reason_and_an_existing_shop(api, shop, operator_token):
    assert api.post(f"/operator/shops/{shop.pk}/suspend", {}, token=operator_token).status_code == 422
    assert api.post(f"/operator/shops/{shop.pk}/suspend", {"reason": ""}, token=operator_token).status_code == 422
    assert api.post("/operator/shops/999999/suspend", {"reason": "x"}, token=operator_token).status_code == 404
    assert _history(shop) == []


# --- admin -------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    admin = f.make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_action_asks_for_a_reason_then_suspends_and_shows_the_history(admin_client, shop):
    url = reverse("admin:shops_shop_changelist")
    form = admin_client.post(url, {"action": "suspend_shops", "_selected_action": [shop.pk]})
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE  # asking is not doing

    done = admin_client.post(url, {"action": "suspend_shops", "_selected_action": [shop.pk], "apply": "1",
                                   "reason": "资质过期"})
    assert done.status_code == 302
    shop.refresh_from_db()
    assert shop.status == Shop.Status.SUSPENDED
    assert _history(shop) == [("active", "suspended", "suspend", "root", "资质过期")]
    page = admin_client.get(reverse("admin:shops_shop_change", args=[shop.pk])).content.decode()
    assert "资质过期" in page

    admin_client.post(url, {"action": "reopen_shops", "_selected_action": [shop.pk], "apply": "1", "reason": "续期"})
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE


def test_admin_action_without_a_reason_changes_nothing(admin_client, shop):
    url = reverse("admin:shops_shop_changelist")
    response = admin_client.post(url, {"action": "suspend_shops", "_selected_action": [shop.pk], "apply": "1",
                                       "reason": ""})
    assert response.status_code == 200  # the form again, with its error
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE
    assert _history(shop) == []


# --- the suspended shop's console and seller API --------------------------------


@pytest.fixture
def suspended(shop, operator, product, shopper, address):
    """The seller's shop with a draft, a published product and a paid order, then suspended."""
    draft = f.make_product(shop, publish=False)
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": product.skus.get().pk, "quantity": 1}])
    mark_paid(order=placed.order_ids[0], actor=None)
    services.suspend_shop(actor=operator, shop_id=shop.pk, reason="违规")
    return draft, Order.objects.get(pk=placed.order_ids[0])


def test_suspended_console_pages_still_open_and_say_so(client, seller, suspended, product):
    draft, paid = suspended
    client.force_login(seller)
    for url in (reverse("console:dashboard"), reverse("console:products"), reverse("console:orders"),
                reverse("console:order_detail", args=[paid.pk]), reverse("console:product_edit", args=[product.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'id="shop-suspended"' in response.content.decode(), url


def test_every_console_write_of_a_suspended_shop_is_403_and_changes_nothing(client, seller, suspended, product):
    draft, paid = suspended
    client.force_login(seller)
    writes = [
        (reverse("console:product_publish", args=[draft.pk]), {"published": "1"}),
        (reverse("console:product_edit", args=[product.pk]), {"title": "改名"}),
        (reverse("console:product_create"), {"title": "新品"}),
        (reverse("console:image_upload", args=[product.pk]), {}),
        (reverse("console:order_ship", args=[paid.pk]), {"carrier": "sf", "tracking_number": "SF1234567890123"}),
    ]
    for url, data in writes:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "suspended" in response.content.decode(), url
    draft.refresh_from_db()
    paid.refresh_from_db()
    assert draft.status == Product.Status.DRAFT
    assert paid.status == Order.Status.PAID
    assert not Shipment.objects.exists()
    assert Product.objects.filter(shop=paid.shop).count() == 2


def test_every_seller_api_write_of_a_suspended_shop_is_403_and_reads_still_work(
    api, seller_token, suspended, product, shop
):
    draft, paid = suspended
    assert api.get("/seller/products", token=seller_token).status_code == 200
    assert api.get(f"/seller/orders/{paid.pk}", token=seller_token).status_code == 200
    category = f.make_category()
    body = {"category_id": category.pk, "title": "新品", "skus": [{"code": "N-1", "price": "9.90", "stock": 1}]}
    writes = [
        ("post", "/seller/products", body),
        ("put", f"/seller/products/{product.pk}", body),
        ("post", f"/seller/products/{draft.pk}/publish", None),
        ("post", f"/seller/products/{product.pk}/unpublish", None),
        ("post", f"/seller/orders/{paid.pk}/ship", {"carrier": "sf", "tracking_number": "SF1234567890123"}),
    ]
    for method, path, data in writes:
        response = getattr(api, method)(path, data, token=seller_token)
        assert response.status_code == 403, path
        assert response.json()["code"] == "shop_suspended", path
        assert "suspended" in response.json()["message"], path
    assert api.delete(f"/seller/products/{product.pk}/images/1", token=seller_token).status_code == 403
    draft.refresh_from_db()
    paid.refresh_from_db()
    assert draft.status == Product.Status.DRAFT
    assert paid.status == Order.Status.PAID
    assert Product.objects.filter(shop=shop).count() == 2
    assert not Shipment.objects.exists()


def test_a_reopened_shop_writes_again(client, seller, suspended, operator, shop):
    draft, paid = suspended
    services.reopen_shop(actor=operator, shop_id=shop.pk, reason="ok")
    client.force_login(seller)
    response = client.post(reverse("console:order_ship", args=[paid.pk]),
                           {"carrier": "sf", "tracking_number": "SF1234567890123"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == Order.Status.SHIPPED
