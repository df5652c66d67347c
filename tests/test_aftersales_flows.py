"""Every after-sales case type carried to its end through the pages: the shopper applies and
follows on the storefront, the seller works it in the console, an operator decides a dispute
on /disputes/; the refund completes as the gateway reports it."""

import pytest
from django.utils import timezone

from shopyard.aftersales import services
from shopyard.aftersales.defaults import ensure_default_reasons
from shopyard.aftersales.models import Case, CreditEntry, Reason
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from shopyard.payments import refunds
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(shopper, address, shop, seller, home_operator, media):
    from django.test import Client

    ensure_default_reasons()
    buyer, seller_page, operator = Client(), Client(), Client()
    buyer.force_login(shopper)
    seller_page.force_login(seller)
    operator.force_login(home_operator)
    return {"shopper": shopper, "address": address, "shop": shop, "buyer": buyer, "seller": seller_page,
            "operator": operator}


def _order(world, *, ship=True):
    sku = f.make_product(world["shop"], price="90.00", stock=9).skus.get()
    placed = place_order(actor=world["shopper"], address_id=world["address"].pk,
                         lines=[{"sku_id": sku.pk, "quantity": 1}])
    body, headers = simulated.build_notification(payment=Payment.objects.get(pk=placed.payment_id), status="success")
    payments.handle_notification(gateway="simulated", body=body, headers=headers)
    if ship:
        Order.objects.filter(pk=placed.order_ids[0]).update(status="delivered", shipped_at=timezone.now(),
                                                            delivered_at=timezone.now())
    return Order.objects.get(pk=placed.order_ids[0])


def _apply(world, order, kind, code, **extra):
    line = order.lines.get()
    r = world["buyer"].post(f"/orders/{order.pk}/aftersales/", {
        "kind": kind, "reason_id": Reason.objects.get(code=code).pk, f"qty-{line.pk}": "1",
        "description": "详见照片 / see the photo", "photos": [f.png_upload()], **extra})
    assert r.status_code == 302, r.content.decode()[:2000]
    return Case.objects.get(order=order)


def _ok(response):
    assert response.status_code == 302, response.content.decode()[:2000]


def _refund_arrives(case):
    case.refresh_from_db()
    assert refunds.perform_refund(refund_id=case.refund_id) == "succeeded"
    services.on_refund_succeeded({"refund_id": case.refund_id})
    case.refresh_from_db()


def _status(world, case):
    return world["buyer"].get(f"/aftersales/{case.pk}/").content.decode()


def test_refund_only(world):
    case = _apply(world, _order(world, ship=False), "refund_only", "changed_mind")
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/approve/"))
    _refund_arrives(case)
    assert case.status == "refunded"
    assert "Refunded" in _status(world, case)


def test_return_and_refund(world):
    case = _apply(world, _order(world), "return_refund", "quality")
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/approve/", {"note": "请寄回"}))
    _ok(world["buyer"].post(f"/aftersales/{case.pk}/ship_return/", {"carrier": "sf",
                                                                     "tracking_number": "SF1234567890123"}))
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/receive/"))
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/inspect/", {"resaleable": "yes"}))
    _refund_arrives(case)
    assert case.status == "refunded"


@pytest.mark.parametrize("kind,code", [("exchange", "wrong_item"), ("repair", "faulty")])
def test_exchange_and_repair(world, kind, code):
    case = _apply(world, _order(world), kind, code)
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/approve/"))
    _ok(world["buyer"].post(f"/aftersales/{case.pk}/ship_return/", {"carrier": "zto",
                                                                     "tracking_number": "73100000000001"}))
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/receive/"))
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/inspect/", {"resaleable": "no"}))
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/ship_replacement/",
                             {"carrier": "sf", "tracking_number": "SF1234567890999"}))
    assert "SF1234567890999" in _status(world, case)
    _ok(world["buyer"].post(f"/aftersales/{case.pk}/confirm/"))
    case.refresh_from_db()
    assert case.status == "completed"


def test_compensation_as_store_credit(world):
    case = _apply(world, _order(world), "compensation", "price_protection", amount="9.90", compensation="credit")
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/approve/"))
    case.refresh_from_db()
    assert case.status == "completed" and str(CreditEntry.objects.get(case=case).amount) == "9.9000"


def test_dispute_decided_by_the_operator(world):
    case = _apply(world, _order(world), "return_refund", "not_as_described")
    _ok(world["seller"].post(f"/console/aftersales/{case.pk}/reject/", {"note": "与描述一致"}))
    _ok(world["buyer"].post(f"/aftersales/{case.pk}/escalate/", {"note": "颜色明显不同"}))
    assert case.number in world["operator"].get("/disputes/").content.decode()
    _ok(world["operator"].post(f"/disputes/{case.pk}/", {"decision": "full", "note": "支持买家"}))
    _refund_arrives(case)
    assert (case.status, case.decision) == ("refunded", "full")
    html = _status(world, case)
    assert "Platform decided: refund in full" in html and "the platform" in html
