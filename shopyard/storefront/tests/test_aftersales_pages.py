"""The shopper's after-sales pages: the order offers 申请退款 / 申请售后 as it should, the
apply form opens a case, the order centre's 退款售后 tab lists cases, the case page shows
the timeline and the buyer's next steps; each hot page costs a fixed number of queries."""

import pytest

from shopyard.aftersales import services
from shopyard.aftersales.defaults import ensure_default_reasons
from shopyard.aftersales.models import Case, Reason
from shopyard.orders.models import Order
from tests import factories as f

pytestmark = pytest.mark.django_db


def _paid(shopper, address, shop):
    from shopyard.checkout.services import place_order
    from shopyard.payments import services as payments
    from shopyard.payments.gateways import simulated
    from shopyard.payments.models import Payment

    sku = f.make_product(shop, price="80.00", stock=10).skus.get()
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 2}])
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    payments.handle_notification(gateway="simulated", body=body, headers=headers)
    return Order.objects.get(pk=placed.order_ids[0])


def _deliver(order):
    from django.utils import timezone

    Order.objects.filter(pk=order.pk).update(status="delivered", shipped_at=timezone.now(),
                                             delivered_at=timezone.now())
    order.refresh_from_db()
    return order


def test_paid_order_offers_a_refund_and_delivered_one_after_sales(client, shopper, address, shop):
    ensure_default_reasons()
    order = _paid(shopper, address, shop)
    client.force_login(shopper)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="apply-refund"' in html and 'id="apply-aftersales"' not in html
    _deliver(order)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="apply-aftersales"' in html and 'id="apply-refund"' not in html


def test_unpaid_order_offers_nothing(client, shopper, address, sku):
    from shopyard.checkout.services import place_order

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    client.force_login(shopper)
    html = client.get(f"/orders/{placed.order_ids[0]}/").content.decode()
    assert "apply-refund" not in html and "apply-aftersales" not in html
    r = client.get(f"/orders/{placed.order_ids[0]}/aftersales/")
    assert 'id="no-aftersales"' in r.content.decode()


def test_apply_form_opens_a_case_and_shows_errors_beside_fields(client, shopper, address, shop, media):
    ensure_default_reasons()
    order = _deliver(_paid(shopper, address, shop))
    line = order.lines.get()
    client.force_login(shopper)
    quality = Reason.objects.get(code="quality").pk
    r = client.post(f"/orders/{order.pk}/aftersales/", {"kind": "return_refund", "reason_id": quality,
                                                         f"qty-{line.pk}": "3", "description": "坏了"})
    assert r.status_code == 422 and "left for after-sales" in r.content.decode()
    assert not Case.objects.exists()
    r = client.post(f"/orders/{order.pk}/aftersales/", {"kind": "return_refund", "reason_id": quality,
                                                         f"qty-{line.pk}": "1", "description": "坏了",
                                                         "photos": [f.png_upload()]})
    case = Case.objects.get()
    assert r.status_code == 302 and r.url == f"/aftersales/{case.pk}/"
    assert case.photos.count() == 1
    # another shopper's order: 404
    client.force_login(f.make_user("stranger"))
    assert client.get(f"/orders/{order.pk}/aftersales/").status_code == 404
    assert client.get(f"/aftersales/{case.pk}/").status_code == 404


def test_case_list_is_the_order_centre_tab_and_costs_fixed_queries(client, shopper, address, shop,
                                                                  django_assert_max_num_queries):
    ensure_default_reasons()
    quality = Reason.objects.get(code="quality").pk
    for _i in range(3):
        order = _paid(shopper, address, shop)
        services.open_case(actor=shopper, order_id=order.pk, kind="refund_only", reason_id=quality,
                           lines=[{"line_id": order.lines.get().pk, "quantity": 1}])
    client.force_login(shopper)
    with django_assert_max_num_queries(14):
        r = client.get("/aftersales/")
    html = r.content.decode()
    assert r.status_code == 200 and html.count('class="card order-card"') == 3
    assert 'id="tab-aftersales" aria-current="page"' in html
    assert 'id="tab-aftersales"' in client.get("/orders/").content.decode()


def test_case_page_shows_the_timeline_and_the_buyers_next_steps(client, shopper, seller, shop, address,
                                                                django_assert_max_num_queries):
    ensure_default_reasons()
    order = _deliver(_paid(shopper, address, shop))
    case = services.open_case(actor=shopper, order_id=order.pk, kind="return_refund",
                              reason_id=Reason.objects.get(code="quality").pk,
                              lines=[{"line_id": order.lines.get().pk, "quantity": 1}])
    services.approve(actor=seller, shop=shop, case_id=case.pk, note="请寄回")
    client.force_login(shopper)
    with django_assert_max_num_queries(14):
        html = client.get(f"/aftersales/{case.pk}/").content.decode()
    assert 'id="ship-return"' in html and "请寄回" in html
    assert f"{seller.username} ·" not in html and f"{shop.name_en} ·" in html
    r = client.post(f"/aftersales/{case.pk}/ship_return/", {"carrier": "sf", "tracking_number": "bad"})
    assert r.status_code == 422
    r = client.post(f"/aftersales/{case.pk}/ship_return/", {"carrier": "sf", "tracking_number": "SF1234567890123"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.return_tracking) == ("return_shipped", "SF1234567890123")
    assert client.post(f"/aftersales/{case.pk}/cancel/").status_code == 409
