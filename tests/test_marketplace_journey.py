"""Issue 11's "done when", driven through the API as the people involved would:
a new seller applies, an operator approves, the seller lists a product and
decorates the shop, a shopper finds it on the shop's home page and buys, the
seller ships, the shopper confirms receipt, the week closes, and the seller's
statement says exactly what the platform owes: what the shopper paid, less the
commission at the category's rate."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from shopyard.checkout.services import place_order
from shopyard.core.events import dispatch_pending
from shopyard.orders.models import Order
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment
from shopyard.settlement import services as settlement
from shopyard.shops.applications import id_card_check_digit
from shopyard.shops.models import Shop, ShopMember
from tests import factories as f

pytestmark = pytest.mark.django_db


def _deliver():
    while dispatch_pending():
        pass


def test_a_new_seller_applies_is_approved_decorates_sells_ships_and_sees_a_correct_statement(api, client, media):
    applicant = f.make_user("new-seller")
    operator = f.make_user("platform-operator", is_staff=True)
    shopper = f.make_user("first-buyer")
    address = f.make_address(shopper)
    category = f.make_category("茶叶")
    seller_token, operator_token = f.token_for(applicant), f.token_for(operator)

    # the applicant applies as an individual, with both sides of the identity card
    first17 = "11010519491231002"
    applied = client.post("/api/v1/shop-applications", {
        "kind": "individual", "shop_name": "山间茶舍", "business_category": "other", "contact_name": "王山",
        "contact_phone": "13800138000", "id_number": first17 + id_card_check_digit(first17),
        "id_front": f.png_upload("front.png"), "id_back": f.png_upload("back.png"),
    }, **f.auth(seller_token))
    assert applied.status_code == 201, applied.json()
    application_id = applied.json()["id"]
    assert not Shop.objects.filter(name="山间茶舍").exists()  # nothing opens before review

    # an operator approves: the shop opens with the applicant as its owner
    approved = api.post(f"/operator/shop-applications/{application_id}/approve", {"reason": ""},
                        token=operator_token)
    assert approved.status_code == 200, approved.json()
    shop = Shop.objects.get(name="山间茶舍")
    assert ShopMember.objects.get(shop=shop).user == applicant
    settlement.set_category_rate(actor=operator, category_id=category.pk, rate="5")

    # the seller lists a product and puts it on the shop's home page
    created = api.post("/seller/products", {"category_id": category.pk, "title": "明前龙井",
                                            "skus": [{"code": "LJ-250", "price": "128.00", "stock": 20}]},
                       token=seller_token)
    assert created.status_code == 201, created.json()
    product_id = created.json()["id"]
    assert api.post(f"/seller/products/{product_id}/publish", {}, token=seller_token).status_code == 200
    block = api.post("/seller/shop/decoration/blocks", {"kind": "product_grid", "title": "新茶上市",
                                                        "config": {"source": "products", "product_ids": [product_id]}},
                     token=seller_token)
    assert block.status_code == 201, block.json()
    visitor = Client()  # anonymous: served from the page cache where it can be
    assert "新茶上市" not in visitor.get(f"/shop/{shop.slug}/").content.decode()  # a draft until published
    assert api.post("/seller/shop/decoration/publish", {}, token=seller_token).status_code == 200
    _deliver()  # the after-commit delivery: the cached page of the shop is dropped
    home = visitor.get(f"/shop/{shop.slug}/").content.decode()
    assert "新茶上市" in home and "明前龙井" in home

    # a shopper buys two and pays; the seller ships; the shopper confirms receipt
    sku_id = created.json()["skus"][0]["id"]
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku_id, "quantity": 2}])
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    assert payments.handle_notification(gateway="simulated", body=body, headers=headers) == "applied"
    order = Order.objects.get(pk=placed.order_ids[0])
    assert order.shop_id == shop.pk
    shipped = api.post(f"/seller/orders/{order.pk}/ship", {"carrier": "sf", "tracking_number": "SF1428839201775"},
                       token=seller_token)
    assert shipped.status_code == 200, shipped.json()
    received = api.post(f"/orders/{order.pk}/confirm-receipt", {}, token=f.token_for(shopper))
    assert received.status_code == 200, received.json()
    _deliver()

    # the week closes; the statement: ¥256 paid, 5 % commission ¥12.80, ¥243.20 payable
    assert settlement.close_due_statements(now=timezone.now() + timedelta(days=8)) >= 1
    statements = api.get("/seller/settlement/statements", token=seller_token)
    assert statements.status_code == 200, statements.json()
    [statement] = statements.json()["results"]
    assert (statement["status"], statement["order_count"]) == ("closed", 1)
    assert (Decimal(statement["sales"]), Decimal(statement["commission"]), Decimal(statement["payable"])) == (
        Decimal("256.00"), Decimal("12.80"), Decimal("243.20"))
    balance = api.get("/seller/settlement/balance", token=seller_token).json()
    assert Decimal(balance["balance"]) == Decimal("243.20")
