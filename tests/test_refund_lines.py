"""Refunds of part of an order: a seller names lines and amounts; no line
returns more than its net total and no payment more than it captured, across
all refunds; the gateway completes them after commit; shopper and seller see
each refund with its status, amount and lines."""

import pytest
from django.urls import reverse

from shopyard.checkout.services import place_order
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.models import OutboxEvent
from shopyard.orders.models import Order
from shopyard.payments import refunds
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.gateways.base import RefundAnswer
from shopyard.payments.models import Payment, Refund, RefundLine

from . import factories as f


def _pay(payment, capture):
    body, headers = simulated.build_notification(payment=payment, status="success")
    with capture(execute=True):
        assert payments.handle_notification(gateway="simulated", body=body, headers=headers) == "applied"


@pytest.fixture
def paid(shopper, address, shop, sku, django_capture_on_commit_callbacks):
    """A paid order of the shop: 2 × ¥59.90 and 2 × ¥20.00, shipping ¥10.00 (total ¥169.80)."""
    cable = f.make_product(shop, price="20.00", stock=10, title="数据线").skus.get()
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": 2}, {"sku_id": cable.pk, "quantity": 2}])
    _pay(Payment.objects.get(pk=placed.payment_id), django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=placed.order_ids[0])
    assert (order.status, str(order.total), str(order.shipping_fee)) == ("paid", "169.8000", "10.0000")
    return order


def _lines(order):
    return list(order.lines.order_by("pk"))


def _refund(seller, shop, order, lines, reason="缺货退款", capture=None):
    if capture is None:
        return refunds.refund_order_lines(actor=seller, shop=shop, order_id=order.pk, lines=lines, reason=reason)
    with capture(execute=True):
        return refunds.refund_order_lines(actor=seller, shop=shop, order_id=order.pk, lines=lines, reason=reason)


def test_a_partial_refund_names_lines_and_completes_at_the_gateway(seller, shop, paid,
                                                                  django_capture_on_commit_callbacks):
    phone, cable = _lines(paid)
    refund = _refund(seller, shop, paid, [{"line_id": phone.pk, "amount": "30.00"},
                                          {"line_id": cable.pk, "quantity": 1}],
                     capture=django_capture_on_commit_callbacks)
    refund.refresh_from_db()
    assert refund.kind == "lines" and refund.status == "succeeded" and refund.gateway_reference.startswith("SIMR")
    assert str(refund.amount) == "50.0000" and refund.shipping_amount == 0
    assert sorted((rl.line_id, str(rl.amount), rl.quantity) for rl in refund.lines.all()) == [
        (phone.pk, "30.0000", None), (cable.pk, "20.0000", 1)]
    assert list(refund.history.values_list("to_status", flat=True)) == ["pending", "succeeded"]
    # subscribers outside the process read the lines from the events themselves
    events = {e.name: e.payload for e in OutboxEvent.objects.filter(name__startswith="refund.")}
    assert set(events) == {"refund.requested", "refund.succeeded"}
    assert events["refund.succeeded"]["amount"] == "50.00" and events["refund.succeeded"]["kind"] == "lines"
    assert sorted((x["line_id"], x["amount"]) for x in events["refund.requested"]["lines"]) == [
        (phone.pk, "30.00"), (cable.pk, "20.00")]


def test_a_line_never_refunds_more_than_its_net_total(seller, shop, paid, django_capture_on_commit_callbacks):
    phone, _cable = _lines(paid)
    _refund(seller, shop, paid, [{"line_id": phone.pk, "amount": "100.00"}], capture=django_capture_on_commit_callbacks)
    with pytest.raises(ValidationFailed) as exc:
        _refund(seller, shop, paid, [{"line_id": phone.pk, "amount": "19.81"}])
    assert "At most 19.80 is left" in str(exc.value.fields["lines[0].amount"][0])
    _refund(seller, shop, paid, [{"line_id": phone.pk, "amount": "19.80"}], capture=django_capture_on_commit_callbacks)
    assert Refund.objects.count() == 2 and RefundLine.objects.filter(line=phone).count() == 2


def test_refunding_every_unit_of_a_line_returns_exactly_its_net_total(seller, shop, paid):
    phone, _cable = _lines(paid)
    first = _refund(seller, shop, paid, [{"line_id": phone.pk, "quantity": 1}])
    second = _refund(seller, shop, paid, [{"line_id": phone.pk, "quantity": 1}])
    assert first.amount + second.amount == phone.net_total
    with pytest.raises(ValidationFailed) as exc:
        _refund(seller, shop, paid, [{"line_id": phone.pk, "quantity": 1}])
    assert "lines[0].quantity" in exc.value.fields


@pytest.mark.parametrize("item, field, message", [
    ({"amount": "0"}, "lines[0].amount", "more than zero"),
    ({"amount": "-5.00"}, "lines[0].amount", "more than zero"),
    ({"amount": "1.005"}, "lines[0].amount", "at most 2 decimal places"),
    ({"amount": "abc"}, "lines[0].amount", "Enter an amount"),
    ({"amount": "NaN"}, "lines[0].amount", "Enter an amount"),
    ({"amount": "120.00"}, "lines[0].amount", "At most 119.80 is left"),
    ({}, "lines[0].amount", "Give an amount or a quantity"),
    ({"quantity": "0"}, "lines[0].quantity", ""),
])
def test_bad_amounts_are_refused_with_nothing_written(seller, shop, paid, item, field, message):
    phone, _cable = _lines(paid)
    with pytest.raises(ValidationFailed) as exc:
        _refund(seller, shop, paid, [{"line_id": phone.pk, **item}])
    assert field in exc.value.fields and message in str(exc.value.fields[field][0])
    assert not Refund.objects.exists() and not RefundLine.objects.exists()


def test_a_line_of_another_order_is_refused(seller, shop, shopper, address, sku, paid, django_capture_on_commit_callbacks):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    other = Order.objects.get(pk=placed.order_ids[0])
    with pytest.raises(ValidationFailed) as exc:
        _refund(seller, shop, paid, [{"line_id": other.lines.get().pk, "amount": "1.00"}])
    assert "not part of the order" in str(exc.value.fields["lines[0].line_id"][0])
    assert not Refund.objects.exists()


def test_a_reason_is_required(seller, shop, paid):
    with pytest.raises(ValidationFailed) as exc:
        _refund(seller, shop, paid, [{"line_id": _lines(paid)[0].pk, "amount": "1.00"}], reason="  ")
    assert "reason" in exc.value.fields and not Refund.objects.exists()


def test_another_shops_order_is_not_found(paid, other_shop):
    with pytest.raises(NotFound):
        refunds.refund_order_lines(actor=other_shop.members.get().user, shop=other_shop, order_id=paid.pk,
                                   lines=[{"line_id": _lines(paid)[0].pk, "amount": "1.00"}], reason="x")
    assert not Refund.objects.exists()


def test_an_unpaid_or_cancelled_order_cannot_be_refunded(seller, shop, shopper, address, sku,
                                                         django_capture_on_commit_callbacks):
    from shopyard.orders.services import cancel_by_buyer

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    order = Order.objects.get(pk=placed.order_ids[0])
    with pytest.raises(Conflict) as exc:
        _refund(seller, shop, order, [{"line_id": order.lines.get().pk, "amount": "1.00"}])
    assert exc.value.code == "order_not_refundable" and "Awaiting payment" in str(exc.value.message)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=order.pk)
    with pytest.raises(Conflict):
        _refund(seller, shop, order, [{"line_id": order.lines.get().pk, "amount": "1.00"}])
    assert not Refund.objects.exists()


def test_closing_a_partly_refunded_order_refunds_only_what_is_left_with_shipping(
    seller, shop, paid, django_capture_on_commit_callbacks
):
    phone, cable = _lines(paid)
    _refund(seller, shop, paid, [{"line_id": phone.pk, "amount": "50.00"}], capture=django_capture_on_commit_callbacks)
    payment = Payment.objects.get(orders=paid)
    Order.objects.filter(pk=paid.pk).update(status="cancelled")
    with django_capture_on_commit_callbacks(execute=True):
        assert payments.refund_closed_order(order_id=paid.pk) == 1
    full = Refund.objects.get(kind="full")
    assert (str(full.amount), str(full.shipping_amount), full.status) == ("119.8000", "10.0000", "succeeded")
    assert sorted((rl.line_id, str(rl.amount)) for rl in full.lines.all()) == [(phone.pk, "69.8000"),
                                                                                (cable.pk, "40.0000")]
    assert sum(r.amount for r in Refund.objects.filter(payment=payment)) == payment.amount


def test_a_refused_refund_is_visible_as_failed(seller, shop, paid, settings, monkeypatch, client, shopper,
                                               django_capture_on_commit_callbacks):
    settings.REFUND_MAX_ATTEMPTS = 1
    monkeypatch.setattr(simulated, "refund", lambda **kw: RefundAnswer(ok=False, detail="gateway timeout"))
    refund = _refund(seller, shop, paid, [{"line_id": _lines(paid)[0].pk, "amount": "5.00"}],
                     capture=django_capture_on_commit_callbacks)
    refund.refresh_from_db()
    assert refund.status == "failed"
    client.force_login(shopper)
    html = client.get(reverse("storefront:order_detail", args=[paid.pk])).content.decode()
    assert "Refund failed" in html[html.index('id="refunds"'):]


def test_the_seller_api_refunds_lines_and_both_sides_see_it(api, seller_token, shopper_token, paid,
                                                            django_capture_on_commit_callbacks):
    phone, cable = _lines(paid)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/seller/orders/{paid.pk}/refunds", {
            "reason": "少发一根数据线", "lines": [{"line_id": cable.pk, "quantity": 1}]}, token=seller_token)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["amount"], body["status"]) == ("lines", "20.00", "pending")
    assert body["lines"] == [{"line_id": cable.pk, "product_title": "数据线", "quantity": 1, "amount": "20.00"}]
    # completed by the gateway after commit: both sides read it as refunded
    seller_view = api.get(f"/seller/orders/{paid.pk}/refunds", token=seller_token).json()
    shopper_view = api.get(f"/orders/{paid.pk}/refunds", token=shopper_token).json()
    assert [(r["amount"], r["status"], r["reason"]) for r in seller_view] == [("20.00", "succeeded", "少发一根数据线")]
    assert shopper_view == seller_view


@pytest.mark.parametrize("payload, status, field", [
    ({"reason": "x", "lines": [{"line_id": "LINE", "amount": "1.00"}]}, 422, None),
    ({"reason": "x", "lines": [{"line_id": "PHONE", "amount": "0.001"}]}, 422, "lines[0].amount"),
    ({"reason": "x", "lines": [{"line_id": "PHONE", "amount": "500"}]}, 422, "lines[0].amount"),
    ({"reason": "", "lines": [{"line_id": "PHONE", "amount": "1"}]}, 422, "reason"),
    ({"reason": "x", "lines": []}, 422, None),
])
def test_the_seller_api_refuses_bad_input(api, seller_token, paid, payload, status, field):
    phone, _cable = _lines(paid)
    for line in payload["lines"]:
        line["line_id"] = {"PHONE": phone.pk, "LINE": "abc"}[line["line_id"]]
    response = api.post(f"/seller/orders/{paid.pk}/refunds", payload, token=seller_token)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["fields"]
    assert not Refund.objects.exists()


def test_the_seller_api_hides_foreign_orders(api, paid, other_shop):
    token = f.token_for(other_shop.members.get().user)
    response = api.post(f"/seller/orders/{paid.pk}/refunds", {
        "reason": "x", "lines": [{"line_id": _lines(paid)[0].pk, "amount": "1.00"}]}, token=token)
    assert response.status_code == 404
    assert api.get(f"/seller/orders/{paid.pk}/refunds", token=token).status_code == 404
    assert not Refund.objects.exists()


def test_the_shopper_cannot_read_another_shoppers_refunds(api, other_shopper, paid):
    assert api.get(f"/orders/{paid.pk}/refunds", token=f.token_for(other_shopper)).status_code == 404


def test_the_console_order_page_refunds_lines_and_shows_them(seller_client, client, shopper, paid,
                                                            django_capture_on_commit_callbacks):
    phone, cable = _lines(paid)
    url = reverse("console:order_detail", args=[paid.pk])
    page = seller_client.get(url).content.decode()
    assert 'id="refunds"' in page and f'name="amount-{phone.pk}"' in page and "¥119.80 left to refund" in page
    # too much for a line: the message shows beside it and nothing is written
    response = seller_client.post(reverse("console:order_refund", args=[paid.pk]),
                                  {f"amount-{cable.pk}": "45.00", "reason": "破损"})
    assert response.status_code == 422 and "At most 40.00 is left" in response.content.decode()
    assert not Refund.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = seller_client.post(reverse("console:order_refund", args=[paid.pk]),
                                      {f"amount-{cable.pk}": "15.00", "reason": "破损"})
    assert response.status_code == 302
    page = seller_client.get(url).content.decode()
    section = page[page.index('id="refunds"'):]
    assert "¥15.00" in section and "Refunded" in section and "破损" in section and "¥25.00 left to refund" in section
    # the shopper sees it on their order page
    client.force_login(shopper)
    html = client.get(reverse("storefront:order_detail", args=[paid.pk])).content.decode()
    section = html[html.index('id="refunds"'):]
    assert "¥15.00" in section and "Refunded" in section and "数据线" in section


def test_the_console_refuses_a_foreign_order_and_an_unpaid_one(seller_client, shopper, address, sku, other_sku, paid):
    other = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": other_sku.pk, "quantity": 1}])
    foreign = Order.objects.get(pk=other.order_ids[0])
    response = seller_client.post(reverse("console:order_refund", args=[foreign.pk]),
                                  {f"amount-{foreign.lines.get().pk}": "1.00", "reason": "x"})
    assert response.status_code == 404
    unpaid = Order.objects.get(pk=place_order(actor=shopper, address_id=address.pk,
                                              lines=[{"sku_id": sku.pk, "quantity": 1}]).order_ids[0])
    response = seller_client.post(reverse("console:order_refund", args=[unpaid.pk]),
                                  {f"amount-{unpaid.lines.get().pk}": "1.00", "reason": "x"})
    assert response.status_code == 409 and "Only a paid, shipped, delivered or completed order" in response.content.decode()
    assert not Refund.objects.exists()


def test_a_late_capture_refund_names_every_line_and_the_shipping(shopper, address, sku,
                                                                 django_capture_on_commit_callbacks):
    from shopyard.orders.services import cancel_by_buyer

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        cancel_by_buyer(actor=shopper, order_id=placed.order_ids[0])
    _pay(Payment.objects.get(pk=placed.payment_id), django_capture_on_commit_callbacks)
    refund = Refund.objects.get()
    line = Order.objects.get(pk=placed.order_ids[0]).lines.get()
    assert (refund.kind, str(refund.amount), str(refund.shipping_amount), refund.status) == (
        "full", "69.9000", "10.0000", "succeeded")
    assert [(rl.line_id, str(rl.amount)) for rl in refund.lines.all()] == [(line.pk, "59.9000")]
