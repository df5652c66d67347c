"""Address book, favourites and payment start over the API."""

from shopyard.accounts.models import Address
from shopyard.catalog.models import Favourite
from shopyard.orders.models import Order
from shopyard.payments.models import Payment

from . import factories as f

ADDRESS = {"recipient": "王五", "phone": "13700137000", "province": "北京市", "city": "北京市",
           "district": "朝阳区", "detail": "建国路 88 号", "postcode": "100022"}


def test_address_book(api, shopper_token, shopper):
    first = api.post("/addresses", ADDRESS, token=shopper_token)
    assert first.status_code == 201 and first.json()["is_default"] is True  # the first address is the default
    second = api.post("/addresses", {**ADDRESS, "recipient": "赵六", "is_default": True}, token=shopper_token).json()
    listed = api.get("/addresses", token=shopper_token).json()
    assert [a["is_default"] for a in listed] == [True, False] and listed[0]["id"] == second["id"]
    r = api.patch(f"/addresses/{first.json()['id']}", {"detail": "建国路 99 号"}, token=shopper_token)
    assert r.status_code == 200 and r.json()["detail"] == "建国路 99 号" and r.json()["recipient"] == "王五"
    assert api.delete(f"/addresses/{second['id']}", token=shopper_token).status_code == 204
    assert Address.objects.get(user=shopper).is_default is True  # the remaining one became the default


def test_bad_address_is_422_with_fields_and_saves_nothing(api, shopper_token, shopper):
    r = api.post("/addresses", {**ADDRESS, "phone": "12345", "recipient": "  "}, token=shopper_token)
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"phone", "recipient"}
    assert not Address.objects.filter(user=shopper).exists()


def test_other_users_address_is_404_everywhere(api, shopper_token, other_shopper):
    theirs = f.make_address(other_shopper)
    assert api.get(f"/addresses/{theirs.pk}", token=shopper_token).status_code == 404
    assert api.patch(f"/addresses/{theirs.pk}", {"detail": "x"}, token=shopper_token).status_code == 404
    assert api.delete(f"/addresses/{theirs.pk}", token=shopper_token).status_code == 404
    theirs.refresh_from_db()
    assert theirs.detail == "文三路 100 号"


def test_favourites(api, shopper_token, shopper, product, shop):
    assert api.put(f"/favourites/{product.pk}", token=shopper_token).status_code == 204
    assert api.put(f"/favourites/{product.pk}", token=shopper_token).status_code == 204  # twice is once
    assert [p["id"] for p in api.get("/favourites", token=shopper_token).json()] == [product.pk]
    draft = f.make_product(shop, publish=False)
    assert api.put(f"/favourites/{draft.pk}", token=shopper_token).status_code == 404
    assert api.delete(f"/favourites/{product.pk}", token=shopper_token).status_code == 204
    assert not Favourite.objects.filter(user=shopper).exists()


def _place(api, token, address, sku, qty=1):
    return api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": qty}]}, token=token).json()


def test_start_payment_reuses_or_replaces(api, shopper_token, address, sku, shop, other_shop):
    other_sku = f.make_product(other_shop, price="5.00").skus.get()
    a = _place(api, shopper_token, address, sku)
    b = _place(api, shopper_token, address, other_sku)
    ids = [a["orders"][0]["id"], b["orders"][0]["id"]]
    # paying the first order alone gives back its checkout's pending payment
    r = api.post("/payments", {"order_ids": ids[:1]}, token=shopper_token)
    assert r.status_code == 201 and r.json()["id"] == a["payment"]["id"]
    # paying both together replaces the single-order payments with one for both
    both = api.post("/payments", {"order_ids": ids}, token=shopper_token).json()
    assert sorted(both["order_ids"]) == sorted(ids)
    assert both["amount"] == "82.90"  # 59.90 + 10 shipping, 5.00 + 8 shipping
    assert Payment.objects.get(pk=a["payment"]["id"]).status == "cancelled"
    assert api.get(f"/payments/{both['id']}", token=shopper_token).json()["status"] == "pending"


def test_start_payment_refuses_foreign_and_paid_orders(api, shopper_token, other_shopper, address, sku):
    mine = _place(api, shopper_token, address, sku)["orders"][0]["id"]
    other_token = f.token_for(other_shopper)
    r = api.post("/payments", {"order_ids": [mine]}, token=other_token)
    assert r.status_code == 404
    from shopyard.orders.services import mark_paid

    mark_paid(actor=None, order=Order.objects.get(pk=mine))
    r = api.post("/payments", {"order_ids": [mine]}, token=shopper_token)
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"
    payments_before = Payment.objects.count()
    assert api.post("/payments", {"order_ids": []}, token=shopper_token).status_code == 422
    assert Payment.objects.count() == payments_before


def test_other_users_payment_is_404(api, shopper_token, other_shopper, address, sku):
    payment_id = _place(api, shopper_token, address, sku)["payment"]["id"]
    assert api.get(f"/payments/{payment_id}", token=f.token_for(other_shopper)).status_code == 404
