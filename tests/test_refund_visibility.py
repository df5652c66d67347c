"""A late capture's refund is visible: the shopper sees it on the order page,
the payment result page and the payment API; the operator in the admin, with
a retry action for failed ones."""

import pytest
from django.urls import reverse

from shopyard.checkout.services import place_order
from shopyard.orders.services import cancel_by_buyer
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.gateways.base import RefundAnswer
from shopyard.payments.models import Payment, Refund

from . import factories as f


@pytest.fixture
def refunded(shopper, address, sku, django_capture_on_commit_callbacks):
    """An order the shopper cancelled, captured afterwards by the gateway and refunded."""
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    (order_id,) = placed.order_ids
    payment = Payment.objects.get(pk=placed.payment_id)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=order_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    with django_capture_on_commit_callbacks(execute=True):
        assert payments.handle_notification(gateway="simulated", body=body, headers=headers) == "applied"
    return Refund.objects.get()


def test_the_shopper_sees_the_refund_on_the_order_and_payment_pages(client, api, shopper, shopper_token, refunded):
    client.force_login(shopper)
    # the order page
    html = client.get(reverse("storefront:order_detail", args=[refunded.order_id])).content.decode()
    section = html[html.index('id="refunds"'):]
    assert "Refunded" in section and "¥69.90" in section and refunded.gateway_reference in section
    # the payment result page
    html = client.get(reverse("payments:return", args=[refunded.payment.reference])).content.decode()
    assert 'id="refunds"' in html and "Refunded" in html
    # the API
    body = api.get(f"/payments/{refunded.payment_id}", token=shopper_token).json()
    assert [(r["order_id"], r["amount"], r["status"]) for r in body["refunds"]] == [
        (refunded.order_id, "69.90", "succeeded")]


def test_another_shopper_sees_nothing_of_it(client, other_shopper, refunded):
    client.force_login(other_shopper)
    assert client.get(reverse("storefront:order_detail", args=[refunded.order_id])).status_code == 404
    assert client.get(reverse("payments:return", args=[refunded.payment.reference])).status_code == 404


def test_the_operator_sees_refunds_and_retries_a_failed_one_in_the_admin(
    client, shopper, address, sku, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # given a refund the gateway refused until it was parked as failed
    settings.REFUND_MAX_ATTEMPTS = 1
    monkeypatch.setattr(simulated, "refund", lambda **kw: RefundAnswer(ok=False, detail="gateway timeout"))
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=placed.order_ids[0])
    body, headers = simulated.build_notification(payment=Payment.objects.get(pk=placed.payment_id), status="success")
    with django_capture_on_commit_callbacks(execute=True):
        payments.handle_notification(gateway="simulated", body=body, headers=headers)
    refund = Refund.objects.get()
    assert (refund.status, refund.last_error) == ("failed", "gateway timeout")
    monkeypatch.undo()
    # when the operator opens the refunds and retries it
    operator = f.make_user("op", is_staff=True, is_superuser=True)
    client.force_login(operator)
    listing = client.get(reverse("admin:payments_refund_changelist")).content.decode()
    assert refund.reference in listing and "gateway timeout" in listing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:payments_refund_changelist"),
                               {"action": "retry", "_selected_action": [refund.pk]})
    # then it went to the gateway again and succeeded, with the operator in its history
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.gateway_reference.startswith("SIMR")
    assert list(refund.history.values_list("action", "actor_label")) == [
        ("request", "system"), ("fail", "system"), ("retry", "op"), ("succeed", "system")]
    # and the payment's admin page lists it
    page = client.get(reverse("admin:payments_payment_change", args=[refund.payment_id])).content.decode()
    assert refund.reference in page
