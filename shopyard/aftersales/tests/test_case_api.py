"""The after-sales API: a shopper sees only their own cases, shop members only their shop's,
operators every case; each step of a case through HTTP; bad input is a clear 4xx."""

import pytest

from shopyard.aftersales.models import Case, CaseEvent
from tests import factories as f

from .support import delivered, one_line, paid_order, reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(shopper, address, shop):
    sku = f.make_product(shop, price="100.00", stock=10).skus.get()
    return delivered(paid_order(shopper, address, [(sku, 2)]))


def _open(api, token, order, kind="return_refund", quantity=1, **extra):
    return api.post("/aftersales/cases", {"order_id": order.pk, "kind": kind, "reason_id": reason("quality").pk,
                                          "lines": one_line(order, quantity), **extra}, token=token)


def test_a_return_and_refund_through_the_api(api, order, shopper_token, seller_token, shop):
    r = _open(api, shopper_token, order, description="屏幕有坏点")
    assert r.status_code == 201, r.json()
    case = r.json()
    assert (case["status"], case["requested_amount"], case["actions"]) == ("requested", "100.00",
                                                                          ["cancel", "escalate"])
    cid = case["id"]
    r = api.get("/seller/aftersales/cases", token=seller_token)
    assert [c["id"] for c in r.json()["results"]] == [cid]
    assert r.json()["results"][0]["actions"] == ["approve", "escalate", "reject"]
    assert api.post(f"/seller/aftersales/cases/{cid}/approve", {}, token=seller_token).json()["status"] == "approved"
    r = api.post(f"/aftersales/cases/{cid}/ship-return", {"carrier": "sf", "tracking_number": "SF1234567890123"},
                 token=shopper_token)
    assert r.json()["status"] == "return_shipped"
    assert api.post(f"/seller/aftersales/cases/{cid}/receive", {}, token=seller_token).json()["status"] == "received"
    r = api.post(f"/seller/aftersales/cases/{cid}/inspect", {"resaleable": True, "note": "ok"}, token=seller_token)
    assert (r.json()["status"], r.json()["approved_amount"], r.json()["refund_status"]) == (
        "refunding", "100.00", "pending")
    timeline = api.get(f"/aftersales/cases/{cid}", token=shopper_token).json()["timeline"]
    assert [(e["action"], e["actor"]) for e in timeline] == [
        ("open", "shopper"), ("approve", shop.name_en), ("ship_return", "shopper"), ("receive", shop.name_en),
        ("inspect", shop.name_en)]
    # the seller sees who in the shop acted
    timeline = api.get(f"/seller/aftersales/cases/{cid}", token=seller_token).json()["timeline"]
    assert [e["actor"] for e in timeline] == ["shopper", "seller", "shopper", "seller", "seller"]
    assert [e["label"] for e in timeline] == ["Case opened", "Approved", "Return shipped", "Return received",
                                              "Inspected"]


def test_each_side_sees_only_its_own_cases(api, order, shopper_token, seller_token, other_shop, home_operator):
    cid = _open(api, shopper_token, order).json()["id"]
    stranger = f.token_for(f.make_user("stranger"))
    other_seller = f.token_for(other_shop.members.first().user)
    assert api.get("/aftersales/cases", token=stranger).json()["results"] == []
    assert api.get(f"/aftersales/cases/{cid}", token=stranger).status_code == 404
    assert api.get(f"/seller/aftersales/cases/{cid}", token=other_seller).status_code == 404
    assert api.get("/seller/aftersales/cases", token=other_seller).json()["results"] == []
    assert api.post(f"/seller/aftersales/cases/{cid}/approve", {}, token=other_seller).status_code == 404
    assert api.post(f"/aftersales/cases/{cid}/cancel", {}, token=stranger).status_code == 404
    # a shopper is not an operator; an operator sees every case
    assert api.get("/operator/aftersales/disputes", token=stranger).status_code == 403
    assert api.get(f"/operator/aftersales/cases/{cid}", token=stranger).status_code == 403
    operator = f.token_for(home_operator)
    assert api.get(f"/operator/aftersales/cases/{cid}", token=operator).json()["id"] == cid
    assert Case.objects.get().status == "requested"


def test_dispute_decided_by_an_operator(api, order, shopper_token, seller_token, home_operator):
    cid = _open(api, shopper_token, order, kind="refund_only").json()["id"]
    assert api.post(f"/seller/aftersales/cases/{cid}/reject", {"note": "不支持"}, token=seller_token).json()[
        "status"] == "rejected"
    assert api.post(f"/aftersales/cases/{cid}/escalate", {"note": ""}, token=shopper_token).status_code == 422
    assert api.post(f"/aftersales/cases/{cid}/escalate", {"note": "请平台介入"}, token=shopper_token).json()[
        "status"] == "disputed"
    operator = f.token_for(home_operator)
    assert [c["id"] for c in api.get("/operator/aftersales/disputes", token=operator).json()["results"]] == [cid]
    r = api.post(f"/operator/aftersales/cases/{cid}/decide", {"decision": "partial", "amount": "100", "note": "x"},
                 token=operator)
    assert r.status_code == 422 and list(r.json()["fields"]) == ["amount"]
    r = api.post(f"/operator/aftersales/cases/{cid}/decide", {"decision": "full", "note": "商家理由不足"},
                 token=operator)
    assert (r.json()["status"], r.json()["decision"], r.json()["approved_amount"]) == ("refunding", "full", "100.00")
    assert api.post(f"/operator/aftersales/cases/{cid}/decide", {"decision": "full", "note": "again"},
                    token=operator).status_code == 409


def test_bad_input_gets_a_clear_4xx_and_writes_nothing(api, order, shopper_token, shopper, address, sku, media):
    from shopyard.checkout.services import place_order

    stranger = f.token_for(f.make_user("stranger"))
    assert _open(api, stranger, order).status_code == 404
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    unpaid = type(order).objects.get(pk=placed.order_ids[0])
    r = _open(api, shopper_token, unpaid, kind="refund_only")
    assert (r.status_code, r.json()["code"]) == (409, "order_not_eligible")
    r = _open(api, shopper_token, order, quantity=3)
    assert r.status_code == 422 and list(r.json()["fields"]) == ["lines[0].quantity"]
    r = api.post("/aftersales/cases", {"order_id": order.pk, "kind": "nope", "reason_id": 1, "lines": []},
                 token=shopper_token)
    assert r.status_code == 422
    r = api.post("/aftersales/cases", [], token=shopper_token)
    assert r.status_code == 422
    assert (Case.objects.count(), CaseEvent.objects.count()) == (0, 0)
    cid = _open(api, shopper_token, order).json()["id"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = api.c.post(f"/api/v1/aftersales/cases/{cid}/photos",
                   {"photo": SimpleUploadedFile("x.png", b"GIF89a not really", "image/png")},
                   **f.auth(shopper_token))
    assert r.status_code == 422 and r.json()["fields"] == {"photo": ["Upload a valid JPEG, PNG, WebP or GIF image."]}
    r = api.c.post(f"/api/v1/aftersales/cases/{cid}/photos", {"photo": f.png_upload()}, **f.auth(shopper_token))
    assert r.status_code == 200 and len(r.json()["timeline"][-1]["photos"]) == 1
    assert [r["code"] for r in api.get("/aftersales/reasons?kind=compensation").json()] == [
        "quality", "damaged", "not_as_described", "price_protection"]


def test_seller_policy_through_the_api(api, shop, seller_token, shopper_token):
    assert api.get("/seller/aftersales/policy", token=seller_token).json()["changed_mind"] == 7
    r = api.put("/seller/aftersales/policy", {"changed_mind_days": 500}, token=seller_token)
    assert r.status_code == 422 and list(r.json()["fields"]) == ["changed_mind_days"]
    r = api.put("/seller/aftersales/policy", {"changed_mind_days": 10, "respond_hours": 24}, token=seller_token)
    assert (r.json()["changed_mind"], r.json()["respond_hours"], r.json()["quality"]) == (10, 24, 15)
    assert api.get("/seller/aftersales/policy", token=shopper_token).status_code == 403
