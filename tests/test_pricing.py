"""One amount calculator (checkout.pricing.price_lines) for the cart page, the
cart API and place_order: what the cart shows is what the payment charges.
Shop fees are validated to the currency's precision (model, admin form, service)."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from shopyard.cart import services as cart_services
from shopyard.catalog.models import Sku
from shopyard.core.errors import PermissionDenied, ValidationFailed
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from shopyard.shops import services as shop_services
from shopyard.shops.models import Shop

from . import factories as f


@pytest.fixture
def awkward_cart(shopper):
    """Three shops with fees that round: two legacy rows charging 0.005 (written before
    fees were validated) and one whose threshold sits on a rounded line total."""
    half_a, half_b, edge = (f.make_shop(shipping_fee="0") for _ in range(3))
    Shop.objects.filter(pk__in=[half_a.pk, half_b.pk]).update(shipping_fee=Decimal("0.005"))
    Shop.objects.filter(pk=edge.pk).update(shipping_fee=Decimal("9.99"), free_shipping_over=Decimal("29.99"))
    a = f.make_product(half_a, price="10.00", stock=10).skus.get()
    b = f.make_product(half_b, price="10.00", stock=10).skus.get()
    c = f.make_product(edge, price="10.00", stock=10).skus.get()
    Sku.objects.filter(pk=c.pk).update(price=Decimal("9.9950"))  # 3 × 9.995 = 29.985 → 29.99: free shipping
    cart = cart_services.get_cart(user=shopper, create=True)
    for sku, qty in ((a, 1), (b, 1), (c, 3)):
        cart_services.add_line(cart=cart, sku_id=sku.pk, quantity=qty)
    return cart


def _money(html, element_id):
    return re.search(rf'id="{element_id}">([^<]+)<', html).group(1).strip()


def test_the_cart_page_and_api_show_what_the_payment_charges(awkward_cart, shopper, shopper_token, address, client, api):
    # what the cart shows
    client.force_login(shopper)
    page_total = _money(client.get(reverse("storefront:cart")).content.decode(), "cart-grand-total")
    checkout_total = _money(client.get(reverse("storefront:checkout")).content.decode(), "checkout-total")
    body = api.get("/cart", token=shopper_token).json()
    shown_shops = [(g["subtotal"], g["shipping_fee"], g["total"]) for g in body["groups"]]

    # what is charged
    response = api.post("/orders", {"address_id": address.pk}, token=shopper_token)
    assert response.status_code == 201, response.content
    payment = Payment.objects.get()
    orders = list(Order.objects.order_by("shop_id"))

    assert shown_shops == [("10.00", "0.01", "10.01"), ("10.00", "0.01", "10.01"), ("29.99", "0.00", "29.99")]
    assert [(str(o.subtotal.quantize(Decimal("0.01"))), str(o.shipping_fee.quantize(Decimal("0.01"))),
             str(o.total.quantize(Decimal("0.01")))) for o in orders] == shown_shops
    assert payment.amount == Decimal("50.0100")
    assert body["total"] == "50.01"
    assert page_total == checkout_total == "¥50.01"
    assert response.json()["payment"]["amount"] == "50.01"


def test_buy_now_lines_are_priced_by_the_same_calculator(awkward_cart, shopper, address):
    from shopyard.cart.queries import cart_view
    from shopyard.checkout.services import place_order

    shown = cart_view(awkward_cart).total
    lines = [{"sku_id": line.sku_id, "quantity": line.quantity} for line in awkward_cart.lines.order_by("id")]
    placed = place_order(actor=shopper, address_id=address.pk, lines=lines)
    assert Payment.objects.get(pk=placed.payment_id).amount == shown.amount == Decimal("50.01")


# --- fees are validated to the currency's precision -------------------------------


@pytest.mark.parametrize(("currency", "fee", "over", "field"), [
    ("CNY", "0.005", None, "shipping_fee"),
    ("CNY", "10.00", "99.999", "free_shipping_over"),
    ("CNY", "-1", None, "shipping_fee"),
    ("JPY", "1.5", None, "shipping_fee"),
])
def test_a_fee_finer_than_the_currency_is_refused_by_the_model(currency, fee, over, field, db):
    shop = Shop(name="店", slug="s-1", currency=currency, shipping_fee=Decimal(fee),
                free_shipping_over=Decimal(over) if over else None)
    with pytest.raises(ValidationError) as exc:
        shop.full_clean()
    assert list(exc.value.message_dict) == [field]


def test_fees_at_the_currency_precision_are_accepted(db):
    Shop(name="店", slug="s-1", currency="CNY", shipping_fee=Decimal("0.01"), free_shipping_over=Decimal("99.90")).full_clean()
    Shop(name="店", slug="s-2", currency="JPY", shipping_fee=Decimal("500")).full_clean()


def test_the_admin_form_refuses_a_fee_of_half_a_fen(shop, db):
    from django.contrib import admin

    request = RequestFactory().post("/admin/")
    request.user = f.make_user("root", is_staff=True, is_superuser=True)
    form_class = admin.site._registry[Shop].get_form(request, shop)
    data = {"name": shop.name, "name_en": shop.name_en, "slug": shop.slug, "kind": shop.kind, "description": "",
            "currency": "CNY", "shipping_fee": "0.005", "free_shipping_over": ""}
    form = form_class(data, instance=shop)
    assert not form.is_valid()
    assert list(form.errors) == ["shipping_fee"]
    shop.refresh_from_db()
    assert shop.shipping_fee == Decimal("10.0000")


def test_the_fee_service_validates_and_writes(shop, db):
    operator = f.make_user("op", is_staff=True)
    with pytest.raises(ValidationFailed) as exc:
        shop_services.set_fees(actor=operator, shop_id=shop.pk, shipping_fee="0.005", free_shipping_over="abc")
    assert sorted(exc.value.fields) == ["free_shipping_over", "shipping_fee"]
    with pytest.raises(PermissionDenied):
        shop_services.set_fees(actor=shop.members.get().user, shop_id=shop.pk, shipping_fee="1.00")
    shop.refresh_from_db()
    assert (shop.shipping_fee, shop.free_shipping_over) == (Decimal("10.0000"), Decimal("199.0000"))

    shop_services.set_fees(actor=operator, shop_id=shop.pk, shipping_fee="12.50", free_shipping_over=None)
    shop.refresh_from_db()
    assert (shop.shipping_fee, shop.free_shipping_over) == (Decimal("12.5000"), None)
