"""Coupons in a real browser, on a phone and a desktop, in Chinese and English: claim
from the strip on a product page (loaded by htmx), then at checkout the best coupon
is preselected, changing the picker re-prices the page, and the order charges the
total shown. No JavaScript errors, no serious accessibility violations."""

import re
from decimal import Decimal

import pytest

from shopyard.cart.services import add_line, get_cart
from shopyard.payments.models import Payment
from shopyard.promotions.models import UserCoupon
from tests import factories as f
from tests.browser import MARKS, sizes_and_langs

# the browser and the visit (a context in one size and language) are the root conftest's fixtures
pytestmark = [*MARKS, sizes_and_langs(("phone", "zh"), ("desktop", "en"))]


def _amount(text):
    return Decimal(re.search(r"[0-9]+\.[0-9]{2}", text.replace(",", "")).group(0))


@pytest.mark.django_db(transaction=True)
def test_claim_from_the_strip_then_choose_at_checkout(visit, lang):
    buyer = f.make_user()
    f.make_address(buyer)
    shop = f.make_shop(owner=f.make_user(), shipping_fee="10.00", free_shipping_over="99.00")
    product = f.make_product(shop, price="250.00", stock=5)
    big = f.make_coupon_template(shop, threshold="200", amount_off="30", name="满200减30", name_en="¥30 off ¥200")
    f.give_coupon(buyer, f.make_coupon_template(shop, threshold="100", amount_off="10", name="满100减10",
                                                name_en="¥10 off ¥100"))
    add_line(cart=get_cart(user=buyer, create=True), sku_id=product.skus.get().pk, quantity=1)
    visit.login(buyer)
    page = visit.page

    # the strip loads after the page and claims the ¥30 coupon, coming back to the product
    visit.goto(f.product_url(product))
    page.wait_for_selector(".coupon-strip .coupon-chip")
    page.click(f".coupon-strip form[action$='/coupons/{big.pk}/claim/'] button")
    page.wait_for_url(f"**{f.product_url(product)}")
    assert UserCoupon.objects.filter(user=buyer, template=big).count() == 1

    # checkout preselects it; choosing the ¥10 one re-prices the page by itself
    visit.goto("/checkout/")
    select = page.locator("#checkout-coupons select")
    assert "30" in select.locator("option:checked").inner_text()
    assert _amount(page.inner_text("#checkout-total")) == Decimal("220.00")
    assert visit.axe_problems() == []
    visit.shot("checkout-coupons")
    ten = select.locator("option", has_text="10.00").first.get_attribute("value")
    select.select_option(ten)

    page.wait_for_function("(document.querySelector('#checkout-total') || {textContent: ''})"
                           ".textContent.includes('240.00')")
    page.click("#checkout-form button.btn-primary")
    page.wait_for_url(re.compile(r".*/pay/.*"))
    assert Payment.objects.get().amount == Decimal("240.00")
    assert UserCoupon.objects.get(user=buyer, template=big).status == "available"
    assert visit.errors == []
