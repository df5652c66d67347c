"""The buying loop over the REST API, and what bad input gets."""

import json

import pytest

from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.payments.gateways.simulated import build_notification
from shopyard.payments.models import Payment

from . import factories as f


def _place(api, token, address, lines, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else None
    return api.post("/orders", {"address_id": address.pk, "lines": lines, **extra}, token=token, headers=headers)


def test_register_token_and_me(api, db):
    r = api.post("/auth/register", {"username": "alice", "password": "Very-long-pass-42"})
    assert r.status_code == 201, r.content
    token = r.json()["token"]
    assert api.get("/me", token=token).json()["username"] == "alice"
    r = api.post("/auth/token", {"username": "alice", "password": "Very-long-pass-42"})
    assert r.status_code == 200 and r.json()["token"] != token


def test_register_ignores_is_staff(api, db):
    from shopyard.accounts.models import User

    r = api.post("/auth/register", {"username": "mallory", "password": "Very-long-pass-42", "is_staff": True, "is_superuser": True})
    assert r.status_code == 201
    user = User.objects.get(username="mallory")
    assert not user.is_staff and not user.is_superuser


def test_register_bad_input_gets_field_errors(api, db):
    r = api.post("/auth/register", {"username": "", "password": "123"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert "username" in body["fields"] and "password" in body["fields"]


def test_repeated_failed_logins_get_429(api, shopper):
    for _ in range(5):
        assert api.post("/auth/token", {"username": "shopper", "password": "wrong"}).status_code == 422
    r = api.post("/auth/token", {"username": "shopper", "password": f.PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"


def test_requests_without_token_get_401(api, db):
    r = api.get("/cart")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    assert api.get("/cart", token="forged").status_code == 401


def test_catalogue_list_filters_and_detail(api, shop, other_shop):
    cat = f.make_category("手机")
    cheap = f.make_product(shop, category=cat, price="10.00", title="便宜")
    dear = f.make_product(other_shop, category=cat, price="500.00", title="昂贵")
    f.make_product(shop, category=cat, price="20.00", publish=False, title="草稿")
    r = api.get(f"/products?category={cat.pk}&sort=price_desc")
    assert r.status_code == 200
    assert [p["id"] for p in r.json()["results"]] == [dear.pk, cheap.pk]
    assert r.json()["meta"]["count"] == 2
    r = api.get(f"/products?category={cat.pk}&shop={shop.pk}")
    assert [p["id"] for p in r.json()["results"]] == [cheap.pk]
    d = api.get(f"/products/{cheap.pk}").json()
    assert d["skus"][0]["price"] == "10.00" and d["skus"][0]["stock"] == 10


def test_page_size_is_capped(api, db):
    r = api.get("/products?page_size=1000")
    assert r.status_code == 422
    assert "page_size" in r.json()["fields"]


def test_unpublished_product_is_404(api, shop):
    draft = f.make_product(shop, publish=False)
    assert api.get(f"/products/{draft.pk}").status_code == 404


def test_full_loop_two_shops_one_payment(api, shopper, shopper_token, address, shop, other_shop):
    p1 = f.make_product(shop, price="59.90", stock=5)
    p2 = f.make_product(other_shop, price="30.00", stock=5)
    s1, s2 = p1.skus.get(), p2.skus.get()
    assert api.post("/cart/lines", {"sku_id": s1.pk, "quantity": 2}, token=shopper_token).status_code == 201
    r = api.post("/cart/lines", {"sku_id": s2.pk, "quantity": 1}, token=shopper_token)
    cart = r.json()
    assert cart["count"] == 3
    # shop: 119.80 + 10 shipping (under 199); other: 30 + 8
    assert cart["total"] == "167.80"

    r = api.post("/orders", {"address_id": address.pk}, token=shopper_token, headers={"HTTP_IDEMPOTENCY_KEY": "k-1"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert len(body["orders"]) == 2
    assert {o["total"] for o in body["orders"]} == {"129.80", "38.00"}
    assert body["payment"]["amount"] == "167.80"
    assert api.get("/cart", token=shopper_token).json()["count"] == 0

    payment = Payment.objects.get(pk=body["payment"]["id"])
    raw, headers = build_notification(payment=payment, status="success")
    r = api.c.post("/api/v1/payments/callback/simulated", data=raw, content_type="application/json",
                   **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    assert r.status_code == 200 and r.json()["result"] == "applied"
    listed = api.get("/orders", token=shopper_token).json()
    assert {o["status"] for o in listed["results"]} == {"paid"}

    # the seller ships, the buyer confirms
    seller_token = f.token_for(shop.members.get().user)
    mine = [o for o in body["orders"] if o["shop_id"] == shop.pk][0]
    r = api.post(f"/seller/orders/{mine['id']}/ship", {"carrier": "sf", "tracking_number": "SF1234567890123"}, token=seller_token)
    assert r.status_code == 200, r.content
    assert r.json()["shipment"]["tracking_number"] == "SF1234567890123"
    r = api.post(f"/orders/{mine['id']}/confirm-receipt", token=shopper_token)
    assert r.status_code == 200
    detail = r.json()
    assert detail["status"] == "completed"
    assert [h["to_status"] for h in detail["history"]] == ["pending_payment", "paid", "shipped", "completed"]
    # the buyer sees who acted as "you", "system" or the shop's name, never a seller's login name
    assert [h["actor"] for h in detail["history"]] == ["you", "system", shop.name_en, "you"]
    assert "seller" not in r.content.decode()
    # the seller's own view keeps the account names
    seller_view = api.get(f"/seller/orders/{mine['id']}", token=seller_token).json()
    assert [h["actor"] for h in seller_view["history"]] == ["shopper", "system", "seller", "shopper"]
    assert seller_view["actions"] == [] and detail["actions"] == []


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, 10**9, None])
def test_bad_quantities_are_422_and_write_nothing(api, shopper_token, address, sku, quantity):
    r = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": quantity}])
    assert r.status_code == 422, r.content
    assert r.json()["code"] == "validation_error"
    assert any("quantity" in k for k in r.json()["fields"])
    assert Order.objects.count() == 0
    assert StockLevel.objects.get(sku=sku).quantity == 10


def test_unknown_and_unpublished_skus_are_404(api, shopper_token, address, shop):
    draft = f.make_product(shop, publish=False)
    for sku_id in (999999, draft.skus.get().pk):
        r = _place(api, shopper_token, address, [{"sku_id": sku_id, "quantity": 1}])
        assert r.status_code == 404, r.content
        assert "lines[0].sku_id" in r.json()["fields"]
    assert Order.objects.count() == 0


def test_client_prices_and_status_are_ignored(api, shopper_token, address, sku):
    r = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 1, "price": "0.01"}],
               total="0.01", status="paid", shop=999, user=1)
    assert r.status_code == 201, r.content
    order = r.json()["orders"][0]
    assert order["status"] == "pending_payment"
    assert order["lines"][0]["unit_price"] == "59.90"
    assert order["total"] == "69.90"


def test_other_users_address_is_404(api, shopper_token, other_shopper, sku):
    theirs = f.make_address(other_shopper)
    r = _place(api, shopper_token, theirs, [{"sku_id": sku.pk, "quantity": 1}])
    assert r.status_code == 404
    assert Order.objects.count() == 0


def test_other_users_order_and_cart_line_are_404(api, shopper_token, other_shopper, address, sku):
    other_token = f.token_for(other_shopper)
    placed = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 1}]).json()
    order_id = placed["orders"][0]["id"]
    assert api.get(f"/orders/{order_id}", token=other_token).status_code == 404
    assert api.post(f"/orders/{order_id}/cancel", token=other_token).status_code == 404
    line = api.post("/cart/lines", {"sku_id": sku.pk, "quantity": 1}, token=shopper_token).json()["groups"][0]["lines"][0]
    assert api.patch(f"/cart/lines/{line['id']}", {"quantity": 3}, token=other_token).status_code == 404
    assert api.delete(f"/cart/lines/{line['id']}", token=other_token).status_code == 404
    assert Order.objects.get(pk=order_id).status == "pending_payment"


def test_idempotency_key_replay_and_reuse(api, shopper_token, address, sku):
    first = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 1}], key="abc")
    again = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 1}], key="abc")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["orders"][0]["id"] == first.json()["orders"][0]["id"]
    other = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 2}], key="abc")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(sku=sku).quantity == 9


def test_cancel_then_illegal_transition_is_409(api, shopper_token, address, sku):
    order_id = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 3}]).json()["orders"][0]["id"]
    assert StockLevel.objects.get(sku=sku).quantity == 7
    r = api.post(f"/orders/{order_id}/cancel", token=shopper_token)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert StockLevel.objects.get(sku=sku).quantity == 10
    r = api.post(f"/orders/{order_id}/confirm-receipt", token=shopper_token)
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"
    assert Order.objects.get(pk=order_id).status == "cancelled"


def test_forged_callback_is_rejected(api, shopper_token, address, sku):
    placed = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 1}]).json()
    payment = Payment.objects.get(pk=placed["payment"]["id"])
    raw, headers = build_notification(payment=payment, status="success", secret="not-the-secret")
    r = api.c.post("/api/v1/payments/callback/simulated", data=raw, content_type="application/json",
                   HTTP_X_SHOPYARD_SIGNATURE=headers["X-Shopyard-Signature"])
    assert r.status_code == 400
    assert r.json()["code"] == "bad_signature"
    assert Order.objects.get(pk=placed["orders"][0]["id"]).status == "pending_payment"


def test_malformed_json_is_400(api, shopper_token):
    r = api.c.post("/api/v1/orders", data="{not json", content_type="application/json",
                   HTTP_AUTHORIZATION=f"Bearer {shopper_token}")
    assert r.status_code == 400
    assert r.json()["code"] == "malformed_request"


def test_oversized_body_is_413(api, shopper_token, settings):
    r = api.c.post("/api/v1/orders", data=json.dumps({"note": "x" * (2 * 1024 * 1024)}), content_type="application/json",
                   HTTP_AUTHORIZATION=f"Bearer {shopper_token}")
    assert r.status_code == 413


def test_seller_sees_only_own_shop(api, shop, other_shop, seller_token, shopper_token, address):
    theirs = f.make_product(other_shop)
    mine = f.make_product(shop)
    assert api.get(f"/seller/products/{theirs.pk}", token=seller_token).status_code == 404
    ids = [p["id"] for p in api.get("/seller/products", token=seller_token).json()["results"]]
    assert ids == [mine.pk]
    placed = _place(api, shopper_token, address, [{"sku_id": theirs.skus.get().pk, "quantity": 1}]).json()
    oid = placed["orders"][0]["id"]
    assert api.get(f"/seller/orders/{oid}", token=seller_token).status_code == 404
    r = api.post(f"/seller/orders/{oid}/ship", {"carrier": "sf", "tracking_number": "SF000000000001"}, token=seller_token)
    assert r.status_code == 404
    assert Order.objects.get(pk=oid).status == "pending_payment"


def test_shopper_is_not_a_seller(api, shopper_token):
    assert api.get("/seller/products", token=shopper_token).status_code == 403


def test_seller_creates_product_and_cannot_set_status_or_shop(api, seller_token, shop, other_shop):
    cat = f.make_category()
    data = {
        "category_id": cat.pk, "title": "蓝牙耳机", "title_en": "Bluetooth earbuds", "status": "published",
        "shop_id": other_shop.pk, "sales_count": 999,
        "attributes": [{"name": "颜色", "name_en": "Colour", "options": [{"value": "黑", "value_en": "Black"}, {"value": "白", "value_en": "White"}]}],
        "skus": [{"code": "EAR-B", "price": "199.00", "stock": 5, "options": ["黑"]},
                 {"code": "EAR-W", "price": "209.00", "stock": 0, "options": ["白"]}],
    }
    r = api.post("/seller/products", data, token=seller_token)
    assert r.status_code == 201, r.content
    p = r.json()
    assert p["status"] == "draft" and p["shop"]["id"] == shop.pk and p["sales_count"] == 0
    assert (p["min_price"], p["max_price"]) == ("199.00", "209.00")
    r = api.post(f"/seller/products/{p['id']}/publish", token=seller_token)
    assert r.json()["status"] == "published"


def test_seller_ship_validation(api, shop, seller_token, shopper_token, address, sku):
    oid = _place(api, shopper_token, address, [{"sku_id": sku.pk, "quantity": 1}]).json()["orders"][0]["id"]
    r = api.post(f"/seller/orders/{oid}/ship", {"carrier": "sf", "tracking_number": "SF1234567"}, token=seller_token)
    assert r.status_code == 409  # not paid yet
    from shopyard.orders.services import mark_paid

    mark_paid(actor=None, order=Order.objects.get(pk=oid))
    r = api.post(f"/seller/orders/{oid}/ship", {"carrier": "pigeon", "tracking_number": "x"}, token=seller_token)
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"carrier", "tracking_number"}
    assert Order.objects.get(pk=oid).status == "paid"


def test_openapi_is_served(api, db):
    r = api.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/orders" in paths and "/api/v1/payments/callback/{gateway}" in paths


def test_suspended_shops_products_are_hidden(api, shop, product):
    assert api.get(f"/products/{product.pk}").status_code == 200
    shop.status = shop.Status.SUSPENDED
    shop.save(update_fields=["status"])
    assert api.get(f"/products/{product.pk}").status_code == 404
    assert product.pk not in [p["id"] for p in api.get("/products").json()["results"]]
    from django.test import Client

    assert Client().get(f.product_url(product)).status_code == 404


def test_failed_logins_elsewhere_do_not_lock_the_owner_out(api, shopper):
    from django.test import Client

    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(6):
        attacker.post("/api/v1/auth/token", data={"username": "shopper", "password": "guess"}, content_type="application/json")
    r = attacker.post("/api/v1/auth/token", data={"username": "shopper", "password": f.PASSWORD}, content_type="application/json")
    assert r.status_code == 429
    # the owner, from their own address, still gets in
    r = api.post("/auth/token", {"username": "shopper", "password": f.PASSWORD})
    assert r.status_code == 200
