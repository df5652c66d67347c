"""The seller's after-sales queue and case page: nearest deadline first, filters, the shop's
steps; another shop's case is a 404. The operator's disputes page decides a dispute."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.aftersales import services
from shopyard.aftersales.defaults import ensure_default_reasons
from shopyard.aftersales.models import Case, Reason
from shopyard.checkout.services import place_order
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment
from tests import factories as f

pytestmark = pytest.mark.django_db


def _case(shopper, address, shop, kind="return_refund"):
    ensure_default_reasons()
    sku = f.make_product(shop, price="50.00", stock=5).skus.get()
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    body, headers = simulated.build_notification(payment=Payment.objects.get(pk=placed.payment_id), status="success")
    payments.handle_notification(gateway="simulated", body=body, headers=headers)
    Order.objects.filter(pk=placed.order_ids[0]).update(status="delivered", shipped_at=timezone.now(),
                                                        delivered_at=timezone.now())
    order = Order.objects.get(pk=placed.order_ids[0])
    return services.open_case(actor=shopper, order_id=order.pk, kind=kind,
                              reason_id=Reason.objects.get(code="quality").pk,
                              lines=[{"line_id": order.lines.get().pk, "quantity": 1}])


def test_queue_sorted_by_nearest_deadline_and_filtered(seller_client, shopper, address, shop,
                                                       django_assert_max_num_queries):
    later, sooner, exchange = _case(shopper, address, shop), _case(shopper, address, shop), \
        _case(shopper, address, shop, kind="exchange")
    Case.objects.filter(pk=sooner.pk).update(deadline=timezone.now() + timedelta(hours=1))
    with django_assert_max_num_queries(12):
        html = seller_client.get("/console/aftersales/").content.decode()
    positions = [html.index(c.number) for c in (sooner, later, exchange)]
    assert positions[0] == min(positions)  # the nearest deadline first
    html = seller_client.get("/console/aftersales/?kind=exchange").content.decode()
    assert exchange.number in html and later.number not in html
    html = seller_client.get("/console/aftersales/?status=approved").content.decode()
    assert "No cases match these filters." in html


def test_seller_carries_a_return_through_the_console(seller_client, shopper, address, shop):
    case = _case(shopper, address, shop)
    sku = case.lines.get().line.sku
    stock = StockLevel.objects.get(sku=sku).quantity
    assert seller_client.post(f"/console/aftersales/{case.pk}/approve/", {"note": "寄回上海"}).status_code == 302
    services.ship_return(actor=shopper, case_id=case.pk, carrier="sf", tracking_number="SF1234567890123")
    html = seller_client.get(f"/console/aftersales/{case.pk}/").content.decode()
    assert 'id="receive"' in html and "SF1234567890123" in html
    assert seller_client.post(f"/console/aftersales/{case.pk}/receive/").status_code == 302
    r = seller_client.post(f"/console/aftersales/{case.pk}/inspect/", {})
    assert r.status_code == 422 and "Say whether the goods can be sold again." in r.content.decode()
    assert seller_client.post(f"/console/aftersales/{case.pk}/inspect/", {"resaleable": "yes"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "refunding" and StockLevel.objects.get(sku=sku).quantity == stock + 1
    assert seller_client.post(f"/console/aftersales/{case.pk}/approve/").status_code == 409


def test_another_shops_case_is_not_found(client, shopper, address, shop, other_shop):
    case = _case(shopper, address, shop)
    client.force_login(other_shop.members.first().user)
    assert client.get(f"/console/aftersales/{case.pk}/").status_code == 404
    assert client.post(f"/console/aftersales/{case.pk}/approve/").status_code == 404
    assert case.number not in client.get("/console/aftersales/").content.decode()
    case.refresh_from_db()
    assert case.status == "requested"


def test_operator_decides_a_dispute_on_its_page(client, shopper, address, shop, seller, home_operator, media):
    case = _case(shopper, address, shop, kind="refund_only")
    services.reject(actor=seller, shop=shop, case_id=case.pk, note="已使用", photos=[f.png_upload()])
    services.escalate(actor=shopper, case_id=case.pk, note="没用过", photos=[f.png_upload()])
    client.force_login(shopper)
    assert client.get("/disputes/").status_code == 302  # to the admin login
    client.force_login(home_operator)
    assert case.number in client.get("/disputes/").content.decode()
    html = client.get(f"/disputes/{case.pk}/").content.decode()
    assert "已使用" in html and "没用过" in html and html.count("<img") >= 2
    r = client.post(f"/disputes/{case.pk}/", {"decision": "partial", "amount": "80", "note": "x"})
    assert r.status_code == 422
    r = client.post(f"/disputes/{case.pk}/", {"decision": "partial", "amount": "20", "note": "各担一半"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert (case.status, str(case.approved_amount)) == ("refunding", "20.0000")


def test_seller_sets_the_shop_policy_and_bad_values_are_refused(seller_client, shop, settings):
    from shopyard.aftersales.models import ShopPolicy

    html = seller_client.get("/console/aftersales/policy/").content.decode()
    assert f"now: {settings.AFTERSALES_RESPOND_HOURS}" in html
    r = seller_client.post("/console/aftersales/policy/", {"changed_mind_days": "abc", "respond_hours": "0"})
    assert r.status_code == 422 and not ShopPolicy.objects.exists()
    assert "Enter a whole number from 1 to 720, or leave it empty." in r.content.decode()
    r = seller_client.post("/console/aftersales/policy/", {"changed_mind_days": "15", "respond_hours": ""})
    assert r.status_code == 302
    policy = ShopPolicy.objects.get(shop=shop)
    assert (policy.changed_mind_days, policy.respond_hours) == (15, None)
    assert "now: 15" in seller_client.get("/console/aftersales/policy/").content.decode()
