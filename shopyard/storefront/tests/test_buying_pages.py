"""Buying pages: the guest cart, checkout into one order per shop and one
payment, the order list and detail, and the buyer's order actions."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from shopyard.cart.models import Cart, CartLine
from shopyard.inventory.models import StockLevel
from shopyard.orders import services as order_services
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from tests import factories as f

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


# --- helpers ----------------------------------------------------------------


def _add(client, sku, quantity=1, **extra):
    return client.post(reverse("storefront:cart_add"), {"sku_id": sku.pk, "quantity": quantity}, **extra)


def _guest_lines(client):
    key = client.session.session_key
    return {line.sku_id: line.quantity for line in CartLine.objects.filter(cart__session_key=key)}


def _stock(sku):
    return StockLevel.objects.get(sku=sku).quantity


def _checkout(client, address, token="tok-1", note=""):
    page = client.get(reverse("storefront:checkout"))
    assert page.status_code == 200
    return client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": token, "note": note})


@pytest.fixture
def placed(client, shopper, address, sku):
    """The shopper bought one unit of `sku` and has not paid."""
    client.force_login(shopper)
    _add(client, sku, 1)
    _checkout(client, address)
    return Order.objects.get(user=shopper)


def _approve(client, django_capture_on_commit_callbacks, payment):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("payments:simulated", args=[payment.reference]), {"action": "approve"})
    assert response.status_code == 302
    return response


# --- guest cart -------------------------------------------------------------------


def test_guest_adds_changes_and_removes_a_cart_line(client, sku):
    response = _add(client, sku, 2)

    assert response.status_code == 302
    assert response["Location"] == reverse("storefront:cart")
    assert _guest_lines(client) == {sku.pk: 2}
    page = client.get(reverse("storefront:cart")).content.decode()
    assert sku.product.title_en in page or sku.product.title in page
    assert "¥119.80" in page  # 2 × 59.90
    assert "¥10.00" in page  # the shop's shipping fee under ¥199
    assert "¥129.80" in page  # grand total

    line = CartLine.objects.get(cart__session_key=client.session.session_key)
    assert client.post(reverse("storefront:cart_line_update", args=[line.pk]), {"quantity": 4}).status_code == 302
    assert _guest_lines(client) == {sku.pk: 4}

    assert client.post(reverse("storefront:cart_line_remove", args=[line.pk])).status_code == 302
    assert _guest_lines(client) == {}
    assert "Your cart is empty." in client.get(reverse("storefront:cart")).content.decode()


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "abc", "100000"])
def test_bad_quantity_is_refused_and_the_cart_is_unchanged(client, sku, quantity):
    _add(client, sku, 1)

    response = _add(client, sku, quantity)

    assert response.status_code == 422
    assert 'class="alert-error"' in response.content.decode()
    assert _guest_lines(client) == {sku.pk: 1}


def test_more_than_the_stock_is_refused_with_the_stock_left(client, sku):
    response = _add(client, sku, 11)

    assert response.status_code == 409  # out of stock: the same 409 as at checkout
    assert "Only 10 left in stock." in response.content.decode()
    assert _guest_lines(client) == {}


def test_unknown_sku_is_404(client, db):
    response = client.post(reverse("storefront:cart_add"), {"sku_id": "999999", "quantity": "1"})

    assert response.status_code == 404


def test_htmx_add_answers_with_a_fragment_and_a_4xx_when_rejected(client, sku):
    ok = _add(client, sku, 1, **HX)
    assert ok.status_code == 200
    assert ok["HX-Trigger"] == "cartUpdated"
    assert 'id="cart-count" hx-swap-oob="true">1<' in ok.content.decode()

    bad = _add(client, sku, 20, **HX)
    assert bad.status_code == 409
    assert "Only 10 left in stock." in bad.content.decode()
    assert _guest_lines(client) == {sku.pk: 1}


def test_htmx_quantity_change_returns_the_cart_body(client, sku):
    _add(client, sku, 1)
    line = CartLine.objects.get(cart__session_key=client.session.session_key)

    response = client.post(reverse("storefront:cart_line_update", args=[line.pk]), {"quantity": "0"}, **HX)
    assert response.status_code == 422
    assert 'id="cart-body"' in response.content.decode()
    assert _guest_lines(client) == {sku.pk: 1}

    response = client.post(reverse("storefront:cart_line_update", args=[line.pk]), {"quantity": "3"}, **HX)
    assert response.status_code == 200
    assert "¥179.70" in response.content.decode()


def test_another_visitors_cart_line_is_404_and_untouched(client, sku):
    _add(client, sku, 2)
    line = CartLine.objects.get(cart__session_key=client.session.session_key)
    stranger = Client()
    _add(stranger, sku, 1)

    assert stranger.post(reverse("storefront:cart_line_update", args=[line.pk]), {"quantity": 5}).status_code == 404
    assert stranger.post(reverse("storefront:cart_line_remove", args=[line.pk])).status_code == 404
    line.refresh_from_db()
    assert line.quantity == 2


# --- checkout ----------------------------------------------------------------------


def test_checkout_needs_login(client, sku):
    _add(client, sku, 1)

    response = client.get(reverse("storefront:checkout"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_checkout_of_two_shops_makes_two_orders_and_one_payment(client, shopper, address, sku, other_sku):
    client.force_login(shopper)
    _add(client, sku, 1)
    _add(client, other_sku, 2)

    page = client.get(reverse("storefront:checkout"))
    html = page.content.decode()
    assert re.search(rf'value="{address.pk}"\s+checked', html)  # the default address is preselected
    assert "¥69.90" in html  # 59.90 + 10.00 shipping
    assert "¥79.00" in html  # 2 × 35.50 + 8.00 shipping
    assert "¥148.90" in html
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)

    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": token, "note": "请尽快发货"})

    orders = list(Order.objects.filter(user=shopper).order_by("shop_id"))
    assert len(orders) == 2
    assert {o.shop_id for o in orders} == {sku.product.shop_id, other_sku.product.shop_id}
    assert sorted(str(o.total) for o in orders) == ["69.9000", "79.0000"]
    assert all(o.status == "pending_payment" and o.note == "请尽快发货" for o in orders)
    payment = Payment.objects.get(user=shopper)
    assert str(payment.amount) == "148.9000"
    assert set(payment.orders.values_list("pk", flat=True)) == {o.pk for o in orders}
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:simulated", args=[payment.reference])
    assert not CartLine.objects.filter(cart__user=shopper).exists()
    assert (_stock(sku), _stock(other_sku)) == (9, 3)


def test_submitting_the_checkout_form_twice_orders_once(client, shopper, address, sku):
    client.force_login(shopper)
    _add(client, sku, 1)

    first = _checkout(client, address, token="same-token")
    second = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "same-token"})

    assert Order.objects.filter(user=shopper).count() == 1
    assert Payment.objects.filter(user=shopper).count() == 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert _stock(sku) == 9


def test_checkout_with_another_users_address_is_404_and_orders_nothing(client, shopper, other_shopper, sku):
    foreign = f.make_address(other_shopper)
    f.make_address(shopper)
    client.force_login(shopper)
    _add(client, sku, 1)

    response = client.post(reverse("storefront:checkout"), {"address_id": foreign.pk, "token": "t"})

    assert response.status_code == 404
    assert "Address not found." in response.content.decode()
    assert not Order.objects.exists()
    assert _stock(sku) == 10
    assert CartLine.objects.filter(cart__user=shopper).count() == 1


def test_checkout_without_address_links_to_the_address_form(client, shopper, sku):
    client.force_login(shopper)
    _add(client, sku, 1)

    html = client.get(reverse("storefront:checkout")).content.decode()

    assert f'{reverse("accounts:address_new")}?next={reverse("storefront:checkout")}' in html


def test_checkout_of_an_empty_cart_goes_back_to_the_cart(client, shopper, address):
    client.force_login(shopper)

    assert client.get(reverse("storefront:checkout"))["Location"] == reverse("storefront:cart")
    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "x"})
    assert response.status_code == 422
    assert not Order.objects.exists()


def test_checkout_refuses_a_line_that_ran_out_of_stock(client, shopper, address, sku):
    client.force_login(shopper)
    _add(client, sku, 3)
    StockLevel.objects.filter(sku=sku).update(quantity=2)

    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "t"})

    assert response.status_code == 409
    assert not Order.objects.exists()
    assert _stock(sku) == 2


# --- orders ------------------------------------------------------------------------


def test_order_list_and_detail_show_the_order_and_its_history(client, shopper, placed, sku):
    listing = client.get(reverse("storefront:orders")).content.decode()
    assert placed.number in listing
    assert client.get(reverse("storefront:orders") + "?status=paid").content.decode().count(placed.number) == 0
    assert placed.number in client.get(reverse("storefront:orders") + "?status=pending_payment").content.decode()

    html = client.get(reverse("storefront:order_detail", args=[placed.pk])).content.decode()
    assert "Awaiting payment" in html
    assert "文三路 100 号" in html  # the shipping address snapshot
    assert "¥69.90" in html
    history = html[html.index('id="status-history"'):]
    assert "Awaiting payment" in history and "you" in history and "shopper" not in history
    assert reverse("storefront:order_cancel", args=[placed.pk]) in html
    assert reverse("storefront:order_confirm", args=[placed.pk]) not in html


def test_cancel_an_unpaid_order_releases_its_stock(client, placed, sku, django_capture_on_commit_callbacks):
    assert _stock(sku) == 9

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("storefront:order_cancel", args=[placed.pk]), {"confirm": "yes"})

    assert response.status_code == 302
    placed.refresh_from_db()
    assert placed.status == "cancelled"
    assert _stock(sku) == 10
    assert list(placed.history.values_list("to_status", flat=True)) == ["pending_payment", "cancelled"]
    assert Payment.objects.get().status == "cancelled"


def test_cancel_a_paid_order_is_409_and_changes_nothing(client, placed, sku, django_capture_on_commit_callbacks):
    _approve(client, django_capture_on_commit_callbacks, Payment.objects.get())
    placed.refresh_from_db()
    assert placed.status == "paid"

    response = client.post(reverse("storefront:order_cancel", args=[placed.pk]), {"confirm": "yes"})

    assert response.status_code == 409
    assert "Cannot cancel" in response.content.decode()
    placed.refresh_from_db()
    assert placed.status == "paid"
    assert _stock(sku) == 9
    assert placed.history.count() == 2


def test_confirm_receipt_of_a_shipped_order(client, placed, seller, shop, django_capture_on_commit_callbacks):
    confirm = {"confirm": "yes"}
    assert client.post(reverse("storefront:order_confirm", args=[placed.pk]), confirm).status_code == 409  # not shipped
    _approve(client, django_capture_on_commit_callbacks, Payment.objects.get())
    order_services.ship(actor=seller, shop=shop, order_id=placed.pk, carrier="sf", tracking_number="SF1234567890123")

    html = client.get(reverse("storefront:order_detail", args=[placed.pk])).content.decode()
    assert "SF Express" in html and "SF1234567890123" in html
    response = client.post(reverse("storefront:order_confirm", args=[placed.pk]), confirm)

    assert response.status_code == 302
    placed.refresh_from_db()
    assert placed.status == "completed"
    assert list(placed.history.values_list("to_status", flat=True)) == ["pending_payment", "paid", "shipped", "completed"]


def test_cancel_and_confirm_receipt_ask_first_and_change_nothing_without_the_confirmation(
    client, placed, sku, seller, shop, django_capture_on_commit_callbacks
):
    # given an unpaid order: its page links to the confirmation step, not straight to a POST
    cancel_url = reverse("storefront:order_cancel", args=[placed.pk])
    detail = client.get(reverse("storefront:order_detail", args=[placed.pk])).content.decode()
    assert f'href="{cancel_url}"' in detail
    # when the buyer opens it, then the question is asked with a form that confirms
    page = client.get(cancel_url)
    html = page.content.decode()
    assert page.status_code == 200 and "Cancel this order?" in html
    assert 'name="confirm" value="yes"' in html and f'action="{cancel_url}"' in html
    # and a POST without the confirmation (a stray click, an old form) only asks again
    for data in ({}, {"confirm": "no"}):
        again = client.post(cancel_url, data)
        assert again.status_code == 200 and "Cancel this order?" in again.content.decode()
    placed.refresh_from_db()
    assert placed.status == "pending_payment" and placed.history.count() == 1
    assert _stock(sku) == 9 and Payment.objects.get().status == "pending"
    # confirming receipt asks too, once the order has shipped
    _approve(client, django_capture_on_commit_callbacks, Payment.objects.get())
    order_services.ship(actor=seller, shop=shop, order_id=placed.pk, carrier="sf", tracking_number="SF1234567890123")
    confirm_url = reverse("storefront:order_confirm", args=[placed.pk])
    assert "Confirm that you received this order?" in client.get(confirm_url).content.decode()
    assert client.post(confirm_url).status_code == 200
    placed.refresh_from_db()
    assert placed.status == "shipped"
    assert client.post(confirm_url, {"confirm": "yes"}).status_code == 302
    placed.refresh_from_db()
    assert placed.status == "completed"


def test_the_buyer_sees_the_shop_not_the_sellers_login_name(client, placed, seller, shop, django_capture_on_commit_callbacks):
    # given the seller (login "seller") shipped the paid order
    _approve(client, django_capture_on_commit_callbacks, Payment.objects.get())
    order_services.ship(actor=seller, shop=shop, order_id=placed.pk, carrier="sf", tracking_number="SF1234567890123")
    # when the buyer reads the order's history
    html = client.get(reverse("storefront:order_detail", args=[placed.pk])).content.decode()
    history = html[html.index('id="status-history"'):]
    # then the shipping step is attributed to the shop, never to the seller's account
    rows = history.split("<tr>")[2:]
    assert len(rows) == 3
    assert shop.name_en in rows[2] and seller.username not in history


def test_pay_an_order_from_its_page_goes_to_the_gateway(client, placed):
    response = client.post(reverse("storefront:order_pay"), {"order_ids": [placed.pk]})

    payment = Payment.objects.get(status="pending")
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:simulated", args=[payment.reference])
    assert list(payment.orders.values_list("pk", flat=True)) == [placed.pk]


def test_pay_with_bad_ids_is_400(client, placed):
    assert client.post(reverse("storefront:order_pay"), {"order_ids": ["x"]}).status_code == 400
    assert client.post(reverse("storefront:order_pay"), {}).status_code == 400


def test_another_users_order_is_404_and_untouched(client, placed, other_shopper):
    client.force_login(other_shopper)

    assert client.get(reverse("storefront:order_detail", args=[placed.pk])).status_code == 404
    assert client.post(reverse("storefront:order_cancel", args=[placed.pk]), {"confirm": "yes"}).status_code == 404
    assert client.post(reverse("storefront:order_confirm", args=[placed.pk]), {"confirm": "yes"}).status_code == 404
    assert client.get(reverse("storefront:order_cancel", args=[placed.pk])).status_code == 404
    assert client.post(reverse("storefront:order_pay"), {"order_ids": [placed.pk]}).status_code == 404
    assert placed.number not in client.get(reverse("storefront:orders")).content.decode()
    placed.refresh_from_db()
    assert placed.status == "pending_payment"


def test_orders_need_login(client, db):
    assert client.get(reverse("storefront:orders"))["Location"].startswith(reverse("accounts:login"))


# --- CSRF --------------------------------------------------------------------------


def test_form_posts_without_a_csrf_token_are_refused(shopper, address, sku):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(shopper)

    assert _add(browser, sku, 1).status_code == 403
    assert not CartLine.objects.exists()

    cart = Cart.objects.create(user=shopper)
    CartLine.objects.create(cart=cart, sku=sku, quantity=1)
    response = browser.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "t"})

    assert response.status_code == 403
    assert not Order.objects.exists()
    assert _stock(sku) == 10
