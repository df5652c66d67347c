"""What a person checks on the storefront, in a real browser, on a phone and a
desktop, in Chinese and English: SKU options, cart selection, order centre.

Each flow saves a full-page screenshot under SHOPYARD_HOME/screenshots/ and
fails on any page JavaScript error, so a broken script cannot pass unseen."""

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from shopyard.cart.services import add_line, get_cart
from shopyard.catalog.services import create_product
from shopyard.checkout.pricing import price_lines
from shopyard.checkout.services import place_order
from shopyard.orders.services import mark_paid

from . import factories as f

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic", "--no-first-run"]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LANGS = {"zh": "zh-CN", "en": "en-US"}
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
    pytest.mark.parametrize("size", list(SIZES)),
    pytest.mark.parametrize("lang", list(LANGS)),
]


@pytest.fixture(scope="module")
def chromium():
    # One browser for the module keeps the whole file fast; each test gets its own context.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Visit:
    """A browser context in one size and language, collecting page errors."""

    def __init__(self, browser, base, size, lang):
        self.base, self.name = base, f"{size}-{lang}"
        self.context = browser.new_context(locale=LANGS[lang], viewport=SIZES[size],
                                           extra_http_headers={"Accept-Language": LANGS[lang]})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.errors = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text} {msg.location.get('url', '')}"))

    def login(self, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.base}])

    def goto(self, path):
        self.page.goto(f"{self.base}{path}")

    def axe_problems(self):
        """Serious or critical accessibility violations on the current page, as
        "rule: selector" strings (axe-core, vendored under tests/vendor)."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("axe.run(document)")
        return [f"{v['id']}: {'; '.join(str(n['target']) + ' ' + n.get('failureSummary', '')[-120:] for n in v['nodes'])}"
                for v in result["violations"] if v["impact"] in ("serious", "critical")]

    def shot(self, flow):
        folder = Path(settings.SHOPYARD_HOME) / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{flow}-{self.name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def visit(chromium, live_server, size, lang):
    v = Visit(chromium, live_server.url, size, lang)
    yield v
    v.context.close()


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


@pytest.mark.django_db(transaction=True)
def test_product_options_show_the_chosen_sku(visit, lang):
    product = two_attribute_product(f.make_shop())
    skus = {s.code: s for s in product.skus.all()}
    page = visit.page
    blue = "蓝" if lang == "zh" else "Blue"

    visit.goto(f"/p/{product.pk}/")
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
    assert visit.axe_problems() == []
    visit.shot("product-options")
    assert visit.errors == []


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
