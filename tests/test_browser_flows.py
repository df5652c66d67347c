"""What a person checks on the storefront, in a real browser, on a phone and a
desktop, in Chinese and English: SKU options, buy now, cart selection, the
address picker at checkout, order centre.

Each flow saves a full-page screenshot under SHOPYARD_HOME/screenshots/ and
fails on any page JavaScript error, so a broken script cannot pass unseen.
The browser fixtures (`chromium`, `visit`) are in the root conftest.py, the
helpers in tests/browser.py."""

from decimal import Decimal

import pytest
from django.utils import translation

from shopyard.accounts.models import Address, phone_validator
from shopyard.cart.models import CartLine
from shopyard.cart.services import add_line, get_cart
from shopyard.catalog.services import create_product
from shopyard.checkout.pricing import price_lines
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from shopyard.orders.services import mark_paid

from . import factories as f
from .browser import EVERY_SIZE_AND_LANG, MARKS, sizes_and_langs

pytestmark = MARKS


def two_attribute_product(shop):
    category = f.make_category()
    return create_product(actor=None, shop=shop, data={
        "category_id": category.pk, "title": "双选项衬衫", "title_en": "Two-option shirt", "description": "描述",
        "attributes": [
            {"name": "颜色", "name_en": "Colour", "options": [{"value": "红", "value_en": "Red"}, {"value": "蓝", "value_en": "Blue"}]},
            {"name": "尺码", "name_en": "Size", "options": [{"value": "M", "value_en": "M"}, {"value": "L", "value_en": "L"}]},
        ],
        "skus": [
            {"code": "SHIRT-RED-M", "price": "59.00", "stock": 5, "options": ["红", "M"]},
            {"code": "SHIRT-RED-L", "price": "61.00", "stock": 0, "options": ["红", "L"]},
            {"code": "SHIRT-BLUE-M", "price": "63.00", "stock": 7, "options": ["蓝", "M"]},
            {"code": "SHIRT-BLUE-L", "price": "65.00", "stock": 3, "options": ["蓝", "L"]},
        ],
        "publish": True,
    })


@EVERY_SIZE_AND_LANG
@pytest.mark.django_db(transaction=True)
def test_product_options_show_the_chosen_sku(visit, lang):
    product = two_attribute_product(f.make_shop())
    skus = {s.code: s for s in product.skus.all()}
    page = visit.page
    blue = "蓝" if lang == "zh" else "Blue"

    visit.goto(f.product_url(product))
    page.click(f".option-chip:text-is('{blue}')")
    page.click(".option-chip:text-is('L')")
    page.wait_for_function("document.querySelector('[data-sku-code]').textContent.trim() === 'SHIRT-BLUE-L'")

    assert page.inner_text(".sku-summary [data-sku-code]").strip() == "SHIRT-BLUE-L"
    assert skus["SHIRT-BLUE-L"].price == Decimal("65.00") and "65.00" in page.inner_text("[data-sku-price]")
    assert page.inner_text("[data-sku-stock]").strip() == ("库存 3 件" if lang == "zh" else "3 in stock")
    # red + L is sold out: with L chosen, the red chip is marked disabled
    red = "红" if lang == "zh" else "Red"
    page.wait_for_selector(f".option-chip.is-disabled[aria-disabled=true]:text-is('{red}')")
    assert page.locator(".option-chip.is-disabled").count() == 1
    # ...and a person cannot choose it: it is no link, and a real mouse click on
    # it (no force, nothing skipped) leaves the chosen SKU, price and address as they were
    chip = page.locator(f".option-chip:text-is('{red}')")
    assert chip.get_attribute("href") is None and chip.is_disabled()
    url, box = page.url, chip.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.evaluate("document.querySelector('[data-sku-input]').value") == str(skus["SHIRT-BLUE-L"].pk)
    assert page.inner_text(".sku-summary [data-sku-code]").strip() == "SHIRT-BLUE-L"
    assert "65.00" in page.inner_text("[data-sku-price]") and page.url == url
    assert "is-selected" not in chip.get_attribute("class")
    assert visit.axe_problems() == []
    visit.shot("product-options")
    assert visit.errors == []


@sizes_and_langs(("phone", "zh"), ("desktop", "en"))
@pytest.mark.django_db(transaction=True)
def test_buy_now_checks_out_the_chosen_sku_and_leaves_the_cart_alone(visit):
    buyer = f.make_user()
    f.make_address(buyer)
    shop = f.make_shop(shipping_fee="10.00")
    product = two_attribute_product(shop)
    blue_m = product.skus.get(code="SHIRT-BLUE-M")
    in_cart = f.make_product(f.make_shop(), price="20.00", stock=5)
    cart_line = add_line(cart=get_cart(user=buyer, create=True), sku_id=in_cart.skus.get().pk, quantity=1)
    expected = price_lines([(blue_m, 2, None)]).total.amount
    visit.login(buyer)
    page = visit.page

    visit.goto(f.product_url(product))
    assert page.inner_text("#cart-count").strip() == "1"
    page.click(f".option-chip:text-is('{visit.text('蓝', 'Blue')}')")
    page.click(".option-chip:text-is('M')")
    page.wait_for_function("document.querySelector('[data-sku-code]').textContent.trim() === 'SHIRT-BLUE-M'")
    page.fill("#id_quantity", "2")
    assert page.inner_text("#buy-now").strip() == visit.text("立即购买", "Buy now")
    page.click("#buy-now")
    page.wait_for_url("**/checkout/buy-now/")

    lines = page.locator("#checkout-form .summary-line")
    assert lines.count() == 1
    line = lines.first.inner_text()
    assert visit.text("双选项衬衫", "Two-option shirt") in line and "63.00" in line and "× 2" in line
    assert str(expected) == "136.00"  # 2 × 63.00 + 10.00 shipping, as the server prices it
    assert str(expected) in page.inner_text("#checkout-total")
    assert page.inner_text("#cart-count").strip() == "1"  # the cart is untouched
    assert visit.axe_problems() == []
    visit.shot("buy-now-checkout")

    page.click("#checkout-form button[type=submit]")
    page.wait_for_url("**/pay/sim/**")
    order = Order.objects.get(user=buyer)
    assert [(line.sku_id, line.quantity) for line in order.lines.all()] == [(blue_m.pk, 2)]
    assert order.total == expected
    assert list(CartLine.objects.filter(cart__user=buyer).values_list("pk", "sku_id", "quantity")) == [
        (cart_line.pk, cart_line.sku_id, 1)]
    assert visit.errors == []


@EVERY_SIZE_AND_LANG
@pytest.mark.django_db(transaction=True)
def test_cart_unticking_a_line_leaves_the_other_lines_total(visit):
    buyer = f.make_user()
    shop_a = f.make_shop(shipping_fee="10.00")
    shop_b = f.make_shop(shipping_fee="8.00")
    phone = f.make_product(shop_a, price="1999.00", stock=5)
    mug = f.make_product(shop_b, price="39.90", stock=5)
    cart = get_cart(user=buyer, create=True)
    line_a = add_line(cart=cart, sku_id=phone.skus.get().pk, quantity=1)
    add_line(cart=cart, sku_id=mug.skus.get().pk, quantity=2)
    mug_sku = mug.skus.select_related("product__shop").get()
    expected = price_lines([(mug_sku, 2, None)]).total.amount
    phone_sku = phone.skus.select_related("product__shop").get()
    both = price_lines([(phone_sku, 1, None), (mug_sku, 2, None)]).total.amount
    visit.login(buyer)
    page = visit.page

    visit.goto("/cart/")
    assert str(both) in page.inner_text("#cart-grand-total")
    page.uncheck(f"#sel-line-{line_a.pk}")
    page.wait_for_function(f"!document.querySelector('#sel-line-{line_a.pk}').checked "
                           f"&& document.querySelector('#cart-grand-total').textContent.includes('{expected}')")

    assert str(expected) == "87.80"  # 2 × 39.90 + 8.00, as the server prices it
    assert f"{expected}" in page.inner_text("#cart-grand-total")
    assert visit.axe_problems() == []
    visit.shot("cart-selection")
    assert visit.errors == []


@EVERY_SIZE_AND_LANG
@pytest.mark.django_db(transaction=True)
def test_order_centre_counts_and_countdown(visit, lang):
    buyer = f.make_user()
    address = f.make_address(buyer)
    shop = f.make_shop()
    products = [f.make_product(shop, price="20.00", stock=5) for _ in range(2)]
    placed = [place_order(actor=buyer, address_id=address.pk, lines=[{"sku_id": p.skus.get().pk, "quantity": 1}])
              for p in products]
    mark_paid(actor=None, order=placed[1].orders[0])
    visit.login(buyer)
    page = visit.page

    visit.goto("/orders/")
    unpaid, to_ship = page.inner_text("#tab-unpaid"), page.inner_text("#tab-to_ship")
    label_unpaid, label_ship = ("待付款", "待发货") if lang == "zh" else ("To pay", "To ship")
    assert label_unpaid in unpaid and page.inner_text("#tab-unpaid .tab-count").strip() == "1"
    assert label_ship in to_ship and page.inner_text("#tab-to_ship .tab-count").strip() == "1"
    countdown = page.inner_text(".pay-countdown")
    assert countdown.startswith("请在 " if lang == "zh" else "Pay within ")
    assert ("内付款" if lang == "zh" else "or the order is cancelled automatically") in countdown
    assert visit.axe_problems() == []
    visit.shot("order-centre")
    assert visit.errors == []


@sizes_and_langs(("phone", "zh"), ("desktop", "en"))
@pytest.mark.django_db(transaction=True)
def test_address_picker_at_checkout_and_a_bad_phone(visit, lang):
    buyer = f.make_user()
    product = f.make_product(f.make_shop(), price="20.00", stock=5)
    add_line(cart=get_cart(user=buyer, create=True), sku_id=product.skus.get().pk, quantity=1)
    visit.login(buyer)
    page = visit.page

    visit.goto("/checkout/")
    assert page.locator("#checkout-form input[name=address_id]").count() == 0
    page.click("a[href^='/accounts/addresses/new/']")
    page.wait_for_url("**/accounts/addresses/new/**")
    page.fill("#id_recipient", "李四")
    page.fill("#id_detail", "科技园 8 号")
    # the picker: each choice loads the next level's options (htmx)
    for select, code, then in (("province", "440000", "#id_city_code option[value='440300']"),
                               ("city", "440300", "#id_district_code option[value='440305']"),
                               ("district", "440305", None)):
        page.select_option(f"#id_{select}_code", code)
        if then:
            page.wait_for_selector(then, state="attached")
    assert visit.axe_problems() == []

    # a phone number of 10 digits: the field's message in the page's language, nothing saved
    page.fill("#id_phone", "1380013800")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_selector("#id_phone ~ .errorlist")
    with translation.override("zh-hans" if lang == "zh" else "en"):
        message = str(phone_validator.message)
    assert page.inner_text("#id_phone ~ .errorlist").strip() == message
    assert ("请输入中国大陆手机号" in message) == (lang == "zh")
    assert not Address.objects.filter(user=buyer).exists()
    # what was typed and picked is still there to correct
    assert page.input_value("#id_recipient") == "李四" and page.input_value("#id_district_code") == "440305"
    visit.shot("address-bad-phone")

    page.fill("#id_phone", "13900139000")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_url("**/checkout/")
    saved = Address.objects.get(user=buyer)
    assert (saved.province_code, saved.city_code, saved.district_code) == ("440000", "440300", "440305")
    assert (saved.province, saved.city, saved.district) == ("广东省", "深圳市", "南山区")
    choice = page.inner_text(".address-choice")
    assert "广东省 深圳市 南山区 科技园 8 号" in choice and "13900139000" in choice
    assert page.is_checked(f"input[name=address_id][value='{saved.pk}']")
    assert visit.axe_problems() == []
    visit.shot("checkout-address")
    # the refused form came back as 422, which chromium logs; nothing else went wrong
    assert len(visit.errors) == 1 and "status of 422" in visit.errors[0], visit.errors


@sizes_and_langs(("phone", "zh"), ("desktop", "en"))
@pytest.mark.django_db(transaction=True)
def test_flash_sale_button_opens_at_the_start_second(visit, settings):
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions import flash

    settings.REDIS_URL = ""  # the live server's threads share this process's settings
    shop = f.make_shop(owner=f.make_user())
    sku = f.make_product(shop, price="99.00", stock=5).skus.get()
    seller = shop.members.first().user
    now = timezone.now()
    sale = flash.create_sale(actor=seller, shop=shop, data={
        "name": "整点秒杀", "name_en": "Flash", "starts_at": now + timedelta(seconds=4),
        "ends_at": now + timedelta(hours=1)})
    flash.add_item(actor=seller, sale=sale, data={"sku_id": sku.pk, "flash_price": "9.90", "flash_stock": 2,
                                                   "per_user_limit": 1})
    flash.publish(actor=seller, sale=sale)
    page = visit.page

    visit.goto("/flash/")
    button = page.locator("[data-flash-buy]")
    assert button.is_disabled()
    assert visit.axe_problems() == []
    visit.shot("flash-sale")
    # the countdown reaches zero and opens the button (the server checks the time again)
    page.wait_for_function("!document.querySelector('[data-flash-buy]').disabled", timeout=10000)
    assert timezone.now() >= sale.starts_at
    assert visit.errors == []
