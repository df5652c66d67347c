"""The storefront in a real browser: register, add two SKUs from two shops,
check out, pay on the gateway page, see both orders paid.

Drives Debian's Chromium through Python Playwright (no browser download;
the `chromium` fixture is in the root conftest.py); `.ci/run` installs the
`chromium` package so this runs in CI."""

import pytest

from shopyard.orders.models import Order

from . import factories as f
from .browser import MARKS

pytestmark = MARKS


@pytest.fixture
def browser_page(chromium, live_server):
    context = chromium.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_register_buy_from_two_shops_and_pay(live_server, browser_page):
    page = browser_page
    shop_a = f.make_shop("星河数码", owner=f.make_user("seller-a"), shipping_fee="10.00")
    shop_b = f.make_shop("青木家居", owner=f.make_user("seller-b"), shipping_fee="8.00")
    phone = f.make_product(shop_a, price="1999.00", stock=5, skus=[("1999.00", 5), ("2299.00", 0)], title="星河手机")
    mug = f.make_product(shop_b, price="39.90", stock=5, title="青木马克杯")
    base = live_server.url

    page.goto(f"{base}/accounts/register/")
    page.fill("#id_username", "browser-buyer")
    page.fill("#id_password", "Browser-pass-2026")
    page.fill("#id_password2", "Browser-pass-2026")
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()

    page.goto(f"{base}/accounts/addresses/new/")
    for field, value in {"recipient": "李四", "phone": "13900139000", "detail": "科技园 8 号"}.items():
        page.fill(f"#id_{field}", value)
    # the picker: each choice loads the next level's options (htmx)
    for select, code, then in (("province", "440000", "#id_city_code option[value='440300']"),
                               ("city", "440300", "#id_district_code option[value='440305']"),
                               ("district", "440305", None)):
        page.select_option(f"#id_{select}_code", code)
        if then:
            page.wait_for_selector(then, state="attached")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_load_state()

    for product in (phone, mug):
        page.goto(f"{base}/p/{product.pk}/")
        # the out-of-stock SKU cannot be chosen
        if product == phone:
            assert page.locator(".option-chip.is-disabled[aria-disabled=true]").count() == 1
        page.click("[data-add-button]")
        page.wait_for_load_state()

    page.goto(f"{base}/cart/")
    cart_text = page.inner_text("main")  # English UI: titles show in English
    assert phone.title_en in cart_text and mug.title_en in cart_text

    page.goto(f"{base}/checkout/")
    page.click("#checkout-form button[type=submit]")
    page.wait_for_url("**/pay/sim/**")
    assert "2056.90" in page.content()  # 1999.00 + 10.00 + 39.90 + 8.00, computed by the server
    page.click("button[value=approve]")
    page.wait_for_url("**/pay/return/**")

    orders = list(Order.objects.filter(user__username="browser-buyer").order_by("shop_id"))
    assert [o.shop_id for o in orders] == [shop_a.pk, shop_b.pk]
    assert [o.status for o in orders] == ["paid", "paid"]

    page.goto(f"{base}/orders/")
    text = page.inner_text("main")
    for order in orders:
        assert order.number in text
    assert text.count("Paid") >= 2
