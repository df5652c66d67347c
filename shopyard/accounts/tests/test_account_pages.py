"""Account pages: register, log in (with guest-cart merge and throttling),
log out, profile and the address book, as a shopper uses them."""

import pytest
from django.test import Client
from django.urls import reverse

from shopyard.accounts.models import Address, User
from shopyard.cart.models import Cart, CartLine
from tests import factories as f

pytestmark = pytest.mark.django_db


def _guest_add(client, sku, quantity):
    response = client.post(reverse("storefront:cart_add"), {"sku_id": sku.pk, "quantity": quantity})
    assert response.status_code == 302
    return client.session.session_key


def _user_cart_lines(user):
    return {line.sku_id: line.quantity for line in CartLine.objects.filter(cart__user=user)}


ADDRESS = {
    "recipient": "李四", "phone": "13912345678", "province": "上海市", "city": "上海市",
    "district": "浦东新区", "detail": "世纪大道 1 号", "postcode": "200120",
}


# --- register ---------------------------------------------------------------


def test_register_creates_the_account_logs_in_and_keeps_the_guest_cart(client, sku):
    guest_key = _guest_add(client, sku, 2)

    response = client.post(reverse("accounts:register"), {
        "username": "newbie", "email": "newbie@example.com", "phone": "13800001111",
        "password": "Correct-horse-42", "password2": "Correct-horse-42",
    })

    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert (user.email, user.phone) == ("newbie@example.com", "13800001111")
    assert client.get(reverse("accounts:profile")).status_code == 200  # logged in
    assert _user_cart_lines(user) == {sku.pk: 2}
    assert not Cart.objects.filter(session_key=guest_key, user__isnull=True).exists()


def test_register_with_mismatched_passwords_creates_nothing(client):
    response = client.post(reverse("accounts:register"), {
        "username": "newbie", "password": "Correct-horse-42", "password2": "Correct-horse-43",
    })

    assert response.status_code == 422
    assert "The two passwords do not match." in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_register_shows_service_errors_per_field(client, shopper):
    response = client.post(reverse("accounts:register"), {
        "username": "shopper", "phone": "12345", "password": "Correct-horse-42", "password2": "Correct-horse-42",
    })

    assert response.status_code == 422
    html = response.content.decode()
    assert "This username is taken." in html
    assert "Enter a mainland mobile number" in html
    assert User.objects.filter(username="shopper").count() == 1


# --- login / logout -----------------------------------------------------------


def test_login_merges_the_guest_cart_into_the_users_cart(client, shopper, sku, other_shop):
    other_sku = f.make_product(other_shop, price="30.00", stock=5).skus.get()
    f_cart = Cart.objects.create(user=shopper)
    CartLine.objects.create(cart=f_cart, sku=sku, quantity=1)
    guest_key = _guest_add(client, sku, 2)
    _guest_add(client, other_sku, 1)

    response = client.post(reverse("accounts:login"), {"username": "shopper", "password": f.PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("storefront:home")
    assert client.session.session_key != guest_key  # the session was cycled
    assert _user_cart_lines(shopper) == {sku.pk: 3, other_sku.pk: 1}
    assert not Cart.objects.filter(session_key=guest_key).exists()
    page = client.get(reverse("storefront:cart")).content.decode()
    assert 'id="cart-count">4<' in page


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(client, shopper):
    ok = client.post(reverse("accounts:login") + "?next=/orders/", {"username": "shopper", "password": f.PASSWORD})
    assert ok["Location"] == "/orders/"

    other = Client()
    evil = other.post(reverse("accounts:login"), {
        "username": "shopper", "password": f.PASSWORD, "next": "https://evil.example.com/",
    })
    assert evil["Location"] == reverse("storefront:home")


def test_wrong_password_is_refused_with_a_message(client, shopper):
    response = client.post(reverse("accounts:login"), {"username": "shopper", "password": "nope"})

    assert response.status_code == 422
    assert "Wrong username or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sixth_login_attempt_is_throttled_even_with_the_right_password(client, shopper):
    for _ in range(5):
        assert client.post(reverse("accounts:login"), {"username": "shopper", "password": "bad"}).status_code == 422

    response = client.post(reverse("accounts:login"), {"username": "shopper", "password": f.PASSWORD})

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post(client, shopper):
    client.force_login(shopper)

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


# --- profile -------------------------------------------------------------------


def test_profile_needs_login_and_links_to_the_shoppers_pages(client, shopper):
    assert client.get(reverse("accounts:profile"))["Location"].startswith(reverse("accounts:login"))

    client.force_login(shopper)
    html = client.get(reverse("accounts:profile")).content.decode()

    for name in ("storefront:orders", "accounts:addresses", "storefront:favourites"):
        assert f'href="{reverse(name)}' in html
    assert reverse("console:dashboard") not in html


def test_profile_of_a_shop_member_links_to_the_seller_console(client, seller, shop):
    client.force_login(seller)

    html = client.get(reverse("accounts:profile")).content.decode()

    assert reverse("console:dashboard") in html
    assert "星河数码" in html or "Shop" in html


# --- addresses -------------------------------------------------------------------


def test_new_address_is_saved_and_listed(client, shopper):
    client.force_login(shopper)

    response = client.post(reverse("accounts:address_new"), {**ADDRESS, "is_default": "1"})

    assert response.status_code == 302
    address = Address.objects.get(user=shopper)
    assert (address.recipient, address.phone, address.is_default) == ("李四", "13912345678", True)
    html = client.get(reverse("accounts:addresses")).content.decode()
    assert "世纪大道 1 号" in html


def test_address_with_a_bad_phone_and_missing_city_saves_nothing(client, shopper):
    client.force_login(shopper)

    response = client.post(reverse("accounts:address_new"), {**ADDRESS, "phone": "12345", "city": " "})

    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a mainland mobile number" in html
    assert "This field is required." in html
    assert 'value="李四"' in html  # what the shopper typed is kept
    assert not Address.objects.filter(user=shopper).exists()


def test_edit_address_validates_and_saves(client, shopper, address):
    client.force_login(shopper)
    url = reverse("accounts:address_edit", args=[address.pk])

    assert client.get(url).status_code == 200
    bad = client.post(url, {**ADDRESS, "phone": "abc"})
    assert bad.status_code == 422
    address.refresh_from_db()
    assert address.phone == "13800138000"

    ok = client.post(url, {**ADDRESS, "next": reverse("storefront:checkout")})
    assert ok["Location"] == reverse("storefront:checkout")
    address.refresh_from_db()
    assert (address.recipient, address.phone) == ("李四", "13912345678")


def test_another_users_address_is_404_and_untouched(client, other_shopper, address):
    client.force_login(other_shopper)

    assert client.get(reverse("accounts:address_edit", args=[address.pk])).status_code == 404
    assert client.post(reverse("accounts:address_edit", args=[address.pk]), ADDRESS).status_code == 404
    assert client.post(reverse("accounts:address_delete", args=[address.pk])).status_code == 404
    address.refresh_from_db()
    assert address.recipient == "张三"


def test_delete_address(client, shopper, address):
    client.force_login(shopper)

    response = client.post(reverse("accounts:address_delete", args=[address.pk]))

    assert response.status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()
