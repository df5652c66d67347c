"""The simulated gateway page and the return page: approve pays every order
of the checkout, decline leaves them awaiting payment, a closed payment or a
foreign reference is refused."""

import pytest
from django.urls import reverse

from shopyard.orders.models import Order
from shopyard.payments.models import Payment, PaymentNotification
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(client, shopper, address, sku, other_shop):
    """The shopper checked out a cart with items from two shops; returns the payment."""
    other_sku = f.make_product(other_shop, price="30.00", stock=5).skus.get()
    client.force_login(shopper)
    for item in (sku, other_sku):
        client.post(reverse("storefront:cart_add"), {"sku_id": item.pk, "quantity": 1})
    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "gw-1"})
    payment = Payment.objects.get(user=shopper)
    assert response["Location"] == reverse("payments:simulated", args=[payment.reference])
    return payment


def _decide(client, payment, action, capture):
    with capture(execute=True):
        return client.post(reverse("payments:simulated", args=[payment.reference]), {"action": action})


def test_gateway_page_shows_amount_reference_and_orders(client, checkout):
    response = client.get(reverse("payments:simulated", args=[checkout.reference]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Shopyard Pay (simulated)" in html
    assert checkout.reference in html
    assert "¥107.90" in html  # (59.90 + 10.00) + (30.00 + 8.00)
    for order in checkout.orders.all():
        assert order.number in html
    assert 'value="approve"' in html and 'value="decline"' in html


def test_approve_marks_every_order_paid(client, checkout, django_capture_on_commit_callbacks):
    response = _decide(client, checkout, "approve", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == reverse("payments:return", args=[checkout.reference])
    checkout.refresh_from_db()
    assert checkout.status == "succeeded"
    assert list(Order.objects.filter(user=checkout.user).values_list("status", flat=True)) == ["paid", "paid"]
    assert PaymentNotification.objects.get().outcome == "applied"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Payment successful" in html
    for order in checkout.orders.all():
        assert reverse("storefront:order_detail", args=[order.pk]) in html


def test_decline_fails_the_payment_and_leaves_the_orders_awaiting_payment(
    client, checkout, django_capture_on_commit_callbacks
):
    response = _decide(client, checkout, "decline", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    checkout.refresh_from_db()
    assert checkout.status == "failed"
    assert list(Order.objects.filter(user=checkout.user).values_list("status", flat=True)) == [
        "pending_payment", "pending_payment",
    ]
    html = client.get(response["Location"]).content.decode()
    assert "Payment failed" in html
    assert reverse("storefront:order_pay") in html  # try again

    again = client.post(reverse("storefront:order_pay"), {"order_ids": list(checkout.orders.values_list("pk", flat=True))})
    retry = Payment.objects.get(status="pending")
    assert again["Location"] == reverse("payments:simulated", args=[retry.reference])
    assert str(retry.amount) == "107.9000"


def test_a_closed_payment_is_409_and_unchanged(client, checkout, django_capture_on_commit_callbacks):
    _decide(client, checkout, "approve", django_capture_on_commit_callbacks)

    page = client.get(reverse("payments:simulated", args=[checkout.reference]))
    assert page.status_code == 409
    assert "already closed" in page.content.decode()
    response = _decide(client, checkout, "decline", django_capture_on_commit_callbacks)

    assert response.status_code == 409
    checkout.refresh_from_db()
    assert checkout.status == "succeeded"
    assert PaymentNotification.objects.count() == 1


def test_an_unknown_action_is_400(client, checkout, django_capture_on_commit_callbacks):
    response = _decide(client, checkout, "steal", django_capture_on_commit_callbacks)

    assert response.status_code == 400
    checkout.refresh_from_db()
    assert checkout.status == "pending"


def test_unknown_or_foreign_references_are_404(client, checkout, other_shopper, django_capture_on_commit_callbacks):
    assert client.get(reverse("payments:simulated", args=["PAYNOPE"])).status_code == 404
    assert client.get(reverse("payments:return", args=["PAYNOPE"])).status_code == 404

    client.force_login(other_shopper)
    assert client.get(reverse("payments:simulated", args=[checkout.reference])).status_code == 404
    assert client.get(reverse("payments:return", args=[checkout.reference])).status_code == 404
    assert _decide(client, checkout, "approve", django_capture_on_commit_callbacks).status_code == 404
    checkout.refresh_from_db()
    assert checkout.status == "pending"


def test_return_page_of_a_pending_payment_refreshes_itself(client, checkout):
    html = client.get(reverse("payments:return", args=[checkout.reference])).content.decode()

    assert "Waiting for the payment confirmation" in html
    assert 'http-equiv="refresh"' in html
