"""Coupons on the shopper's pages and the API: the checkout preselects the best coupon,
lets the shopper change or remove it, and charges exactly what the page showed; the
coupon centre, the strip and "my coupons"; sellers' endpoints; the operator admin."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from shopyard.cart.services import add_line, get_cart
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from shopyard.promotions.models import CouponTemplate, UserCoupon
from tests import factories as f

pytestmark = pytest.mark.django_db


def _money(html, element_id):
    return re.search(rf'id="{element_id}">([^<]+)<', html).group(1).strip()


def _selected(html):
    """{select name: selected value} of the coupon pickers."""
    out = {}
    for name, body in re.findall(r'<select[^>]*name="(coupon_[^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="(\d*)"[^>]*\bselected\b', body)
        out[name] = chosen.group(1) if chosen else ""
    return out


def _form(html):
    """The checkout form's fields as the page rendered them (what a browser would post)."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    fields.update(_selected(html))
    return fields


def _action(html):
    return re.search(r'<form method="post" action="([^"]+)" id="checkout-form"', html).group(1)


@pytest.fixture
def coupon_cart(shopper, shop):
    """A ¥250 cart from `shop` (free shipping over 199) and two of its coupons held."""
    sku = f.make_product(shop, price="250.00", stock=20).skus.get()
    add_line(cart=get_cart(user=shopper, create=True), sku_id=sku.pk, quantity=1)
    small = f.give_coupon(shopper, f.make_coupon_template(shop, threshold="100", amount_off="10", name="满100减10"))
    big = f.give_coupon(shopper, f.make_coupon_template(shop, threshold="200", amount_off="30", name="满200减30"))
    return sku, small, big


def test_checkout_preselects_the_best_coupon_and_charges_the_total_shown(client, shopper, address, coupon_cart):
    _sku, _small, big = coupon_cart
    client.force_login(shopper)
    cart_total = _money(client.get(reverse("storefront:cart")).content.decode(), "cart-grand-total")
    html = client.get(reverse("storefront:checkout")).content.decode()
    assert list(_selected(html).values()) == [str(big.pk)]
    assert "¥30.00 off ¥200.00 coupon · saves ¥30.00" in html
    shown = _money(html, "checkout-total")
    assert shown == cart_total == "¥220.00"
    assert _action(html) == reverse("storefront:checkout")
    response = client.post(_action(html), {**_form(html), "address_id": address.pk})
    assert response.status_code == 302, response.content.decode()[:500]
    assert f"¥{Payment.objects.get().amount.quantize(Decimal('0.01'))}" == shown
    assert UserCoupon.objects.get(pk=big.pk).status == "locked"


def test_shopper_changes_then_removes_the_coupon_and_the_order_uses_exactly_that(client, shopper, address,
                                                                               coupon_cart, shop):
    _sku, small, big = coupon_cart
    client.force_login(shopper)
    html = client.get(reverse("storefront:checkout")).content.decode()
    picker = next(iter(_selected(html)))
    # change to the smaller coupon: the page re-prices, places nothing
    html = client.post(reverse("storefront:checkout"), {**_form(html), picker: small.pk, "address_id": address.pk,
                                                        "apply_coupons": "1"}).content.decode()
    assert _selected(html) == {picker: str(small.pk)}
    assert _money(html, "checkout-total") == "¥240.00"
    assert Order.objects.count() == 0
    # remove it
    html = client.post(reverse("storefront:checkout"), {**_form(html), picker: "", "address_id": address.pk,
                                                        "apply_coupons": "1"}).content.decode()
    assert _selected(html) == {picker: ""}
    assert _money(html, "checkout-total") == "¥250.00"
    client.post(reverse("storefront:checkout"), {**_form(html), "address_id": address.pk})
    order = Order.objects.get()
    assert (order.total, order.discount_total) == (Decimal("250.00"), Decimal("0.00"))
    assert set(UserCoupon.objects.values_list("status", flat=True)) == {"available"}


def test_buy_now_checkout_uses_the_preselected_coupon(client, shopper, address, shop):
    sku = f.make_product(shop, price="120.00", stock=5).skus.get()
    coupon = f.give_coupon(shopper, f.make_coupon_template(shop))
    client.force_login(shopper)
    client.post(reverse("storefront:buy_now"), {"sku_id": sku.pk, "quantity": 2})
    html = client.get(reverse("storefront:buy_now")).content.decode()
    assert list(_selected(html).values()) == [str(coupon.pk)]
    shown = _money(html, "checkout-total")
    assert shown == "¥230.00"
    assert _action(html) == reverse("storefront:buy_now")
    client.post(_action(html), {**_form(html), "address_id": address.pk})
    assert f"¥{Payment.objects.get().amount.quantize(Decimal('0.01'))}" == shown
    assert UserCoupon.objects.get(pk=coupon.pk).status == "locked"


def test_a_coupon_used_meanwhile_is_refused_on_the_page_with_the_reason(client, shopper, address, coupon_cart):
    _sku, _small, big = coupon_cart
    client.force_login(shopper)
    html = client.get(reverse("storefront:checkout")).content.decode()
    UserCoupon.objects.filter(pk=big.pk).update(status="used")  # used in another tab
    response = client.post(reverse("storefront:checkout"), {**_form(html), "address_id": address.pk})
    assert response.status_code == 409
    assert "This coupon has already been used." in response.content.decode()
    assert Order.objects.count() == 0


def test_coupon_centre_claim_and_my_coupons(client, shopper, shop):
    template = f.make_coupon_template(shop, name="新人券", per_user_limit=1)
    f.make_coupon_template(shop, name="草稿券", publish=False)
    html = client.get(reverse("storefront:coupons")).content.decode()
    assert "新人券" in html and "草稿券" not in html
    assert client.post(reverse("storefront:coupon_claim", args=[template.pk])).status_code == 302  # to log in
    assert UserCoupon.objects.count() == 0
    client.force_login(shopper)
    response = client.post(reverse("storefront:coupon_claim", args=[template.pk]), follow=True)
    assert "Coupon claimed: 新人券" in response.content.decode()
    response = client.post(reverse("storefront:coupon_claim", args=[template.pk]), follow=True)
    assert "You already hold the most coupons of this kind allowed (1)." in response.content.decode()
    assert UserCoupon.objects.filter(user=shopper).count() == 1
    html = client.get(reverse("storefront:my_coupons")).content.decode()
    assert "新人券" in html and "Usable (1)" in html and "Used (0)" in html
    assert "新人券" not in client.get(reverse("storefront:my_coupons") + "?tab=expired").content.decode()


def test_strip_on_shop_and_product_pages(client, shop, product):
    f.make_coupon_template(shop, threshold="100", amount_off="10")
    page = client.get(f.product_url(product)).content.decode()
    strip_url = reverse("storefront:coupon_strip", args=[shop.pk])
    assert strip_url in page and strip_url in client.get(reverse("storefront:shop", args=[shop.slug])).content.decode()
    product_url = f.product_url(product)
    assert f"{strip_url}?next={product_url}" in page
    strip = client.get(f"{strip_url}?next={product_url}").content.decode()
    assert "¥10.00 off ¥100.00" in strip and reverse("storefront:coupon_claim", args=[CouponTemplate.objects.get().pk]) in strip
    assert f'name="next" value="{product_url}"' in strip  # claiming comes back to the product page
    assert 'value="https://evil.example/"' not in client.get(f"{strip_url}?next=https://evil.example/").content.decode()


# --- API -----------------------------------------------------------------------------------


def test_api_claim_list_mine_and_place_order_with_coupons(api, shopper, shopper_token, other_shopper, shop, address):
    template = f.make_coupon_template(shop)
    body = api.get(f"/coupons?shop_id={shop.pk}").json()
    assert [t["id"] for t in body["results"]] == [template.pk] and body["results"][0]["remaining"] == 100
    assert api.post("/coupons/999999/claim", token=shopper_token).status_code == 404
    assert api.post("/coupons/0/claim", token=shopper_token).status_code == 422
    assert api.post(f"/coupons/{template.pk}/claim").status_code == 401
    claimed = api.post(f"/coupons/{template.pk}/claim", token=shopper_token)
    assert claimed.status_code == 201
    again = api.post(f"/coupons/{template.pk}/claim", token=shopper_token)
    assert (again.status_code, again.json()["code"]) == (409, "coupon_limit_reached")
    mine = api.get("/me/coupons?tab=usable", token=shopper_token).json()
    assert [c["id"] for c in mine["results"]] == [claimed.json()["id"]]
    sku = f.make_product(shop, price="150.00").skus.get()
    theirs = f.give_coupon(other_shopper, template)
    refused = api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}],
                                   "coupons": [theirs.pk]}, token=shopper_token)
    assert (refused.status_code, refused.json()["fields"]) == (404, {"coupons[0]": ["Coupon not found."]})
    assert Order.objects.count() == 0
    cart = api.get("/cart", token=shopper_token).json()
    assert cart["coupons"] == []  # nothing selected in the cart yet
    placed = api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}],
                                  "coupons": [claimed.json()["id"]]}, token=shopper_token)
    assert placed.status_code == 201, placed.content
    assert placed.json()["payment"]["amount"] == "150.00"  # 150 − 10 + ¥10 shipping (below 199)
    assert api.get("/me/coupons?tab=used", token=shopper_token).json()["results"][0]["status"] == "locked"


def test_api_cart_shows_the_coupon_priced_in(api, shopper, shopper_token, coupon_cart):
    _sku, _small, big = coupon_cart
    body = api.get("/cart", token=shopper_token).json()
    assert (body["coupons"], body["total"], body["groups"][0]["discount"]) == ([big.pk], "220.00", "30.00")


def test_seller_api_creates_publishes_issues_and_stops(api, seller_token, shop, other_shop, shopper):
    now = timezone.now()
    data = {"name": "满200减20", "benefit": "amount", "threshold": "200", "amount_off": "20", "total_quantity": 2,
            "claim_starts_at": now.isoformat(), "claim_ends_at": (now + timedelta(days=1)).isoformat(),
            "valid_from": now.isoformat(), "valid_until": (now + timedelta(days=3)).isoformat()}
    bad = api.post("/seller/coupons", {**data, "amount_off": "200"}, token=seller_token)
    assert bad.status_code == 422 and "amount_off" in bad.json()["fields"]
    bad = api.post("/seller/coupons", {**data, "benefit": "percent", "percent_off": "120"}, token=seller_token)
    assert bad.status_code == 422 and "percent_off" in bad.json()["fields"]
    assert CouponTemplate.objects.count() == 0
    created = api.post("/seller/coupons", data, token=seller_token)
    assert created.status_code == 201 and created.json()["status"] == "draft" and created.json()["funded_by"] == "shop"
    pk = created.json()["id"]
    assert api.post(f"/seller/coupons/{pk}/publish", token=seller_token).json()["status"] == "active"
    report = api.post(f"/seller/coupons/{pk}/issue", {"usernames": ["shopper", "ghost"]}, token=seller_token).json()
    assert report == {"issued": [{"username": "shopper", "coupon_id": UserCoupon.objects.get().pk}],
                      "skipped": [{"username": "ghost", "reason": "No such user."}]}
    assert api.post(f"/seller/coupons/{pk}/stop", token=seller_token).json()["status"] == "stopped"
    theirs = f.make_coupon_template(other_shop)
    assert api.post(f"/seller/coupons/{theirs.pk}/stop", token=seller_token).status_code == 404
    assert [t["id"] for t in api.get("/seller/coupons", token=seller_token).json()["results"]] == [pk]


# --- operator admin ------------------------------------------------------------------------


def test_operator_creates_a_platform_coupon_and_issues_it_in_bulk(client, home_operator, shopper):
    client.force_login(home_operator)
    now = timezone.localtime()
    form = {"name": "平台券", "benefit": "amount", "threshold": "100", "amount_off": "15", "scope": "all",
            "total_quantity": "1", "per_user_limit": "1", "validity": "fixed",
            "valid_from_0": now.strftime("%Y-%m-%d"), "valid_from_1": now.strftime("%H:%M:%S"),
            "valid_until_0": (now + timedelta(days=2)).strftime("%Y-%m-%d"), "valid_until_1": "12:00:00",
            "claim_starts_at_0": now.strftime("%Y-%m-%d"), "claim_starts_at_1": now.strftime("%H:%M:%S"),
            "claim_ends_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"), "claim_ends_at_1": "12:00:00"}
    bad = client.post(reverse("admin:promotions_coupontemplate_add"), {**form, "amount_off": "100"})
    assert bad.status_code == 200 and "The amount off must be less than the minimum spend." in bad.content.decode()
    assert CouponTemplate.objects.count() == 0
    response = client.post(reverse("admin:promotions_coupontemplate_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    template = CouponTemplate.objects.get()
    assert (template.shop, template.funded_by, template.status) == (None, "platform", "draft")
    client.post(reverse("admin:promotions_coupontemplate_changelist"),
                {"action": "publish", "_selected_action": [template.pk]})
    template.refresh_from_db()
    assert template.status == "active"
    f.make_user("late")
    html = client.post(reverse("admin:promotions_coupontemplate_issue", args=[template.pk]),
                       {"usernames": "shopper\nlate, nobody"}).content.decode()
    assert "shopper" in re.search(r'<ul id="issued">(.*?)</ul>', html, re.S).group(1)
    skipped = re.search(r'<ul id="skipped">(.*?)</ul>', html, re.S).group(1)
    assert "late: No coupons left of the total quantity." in skipped and "nobody: No such user." in skipped
    assert list(UserCoupon.objects.values_list("user__username", flat=True)) == ["shopper"]
