"""The seller console on a phone (390 px wide), in Chinese and English, in a
real browser: the dashboard's figures, the product list and the orders, the
product editor's SKU matrix (rows generated from the attributes, price and
stock set for all rows at once, saved), images moved with the arrows and one
made the cover. No console page runs off the screen sideways (a wide table
scrolls inside its own box), none has a serious or critical axe-core
violation or a JavaScript error.

Fixtures (`chromium`, `visit`, `seller`, `shop`, `media`) are in the root
conftest.py, the helpers in tests/browser.py."""

from decimal import Decimal

import pytest

from shopyard.catalog.models import Product
from shopyard.catalog.services import add_image
from shopyard.checkout.services import place_order
from shopyard.core.money import format_price
from shopyard.orders.services import mark_paid

from . import factories as f
from .browser import MARKS, sizes_and_langs

pytestmark = [*MARKS, sizes_and_langs(("phone", "zh"), ("phone", "en"))]


def page_is_clean(visit, flow):
    """Nothing runs off-screen, no serious axe violation; then the screenshot."""
    assert visit.overflow_problems() == []
    assert visit.axe_problems() == []
    visit.shot(flow)


@pytest.mark.django_db(transaction=True)
def test_dashboard_products_and_orders_on_a_phone(visit, seller, shop, lang):
    low = f.make_product(shop, price="88.00", stock=3, title="低库存保温杯")
    f.make_product(shop, price="19.90", stock=50, publish=False, title="草稿商品")
    buyer = f.make_user(phone="13700137000")
    address = f.make_address(buyer)
    paid = place_order(actor=buyer, address_id=address.pk, lines=[{"sku_id": low.skus.get().pk, "quantity": 1}])
    order = paid.orders[0]
    mark_paid(actor=None, order=order)
    order.refresh_from_db()
    unpaid = place_order(actor=buyer, address_id=address.pk, lines=[{"sku_id": low.skus.get().pk, "quantity": 1}])
    visit.login(seller)
    page = visit.page

    visit.goto("/console/")
    figures = {name: page.inner_text(f"[data-stat={name}]").strip()
               for name in ("to_ship", "pending", "today", "today_sales", "low_stock", "published", "draft")}
    assert figures == {"to_ship": "1", "pending": "1", "today": "1", "low_stock": "1", "published": "1", "draft": "1",
                       "today_sales": format_price(order.total, shop.currency)}
    assert order.total == Decimal("98.00")  # 88.00 + 10.00 shipping
    assert visit.text("待发货", "Orders to ship") in page.inner_text(".console-stats")
    assert "低库存保温杯" in page.inner_text("#low-stock") or low.title_en in page.inner_text("#low-stock")
    page_is_clean(visit, "console-dashboard")

    visit.goto("/console/products/")
    titles = page.inner_text(".console-products")
    assert visit.text("低库存保温杯", low.title_en) in titles
    page_is_clean(visit, "console-products")

    visit.goto("/console/orders/")
    listing = page.inner_text("main")
    assert order.number in listing and unpaid.orders[0].number in listing
    page_is_clean(visit, "console-orders")
    assert visit.errors == []


@pytest.mark.django_db(transaction=True)
def test_product_editor_sku_matrix_and_images_on_a_phone(visit, seller, shop, media):
    category = f.make_category("服装")
    visit.login(seller)
    page = visit.page

    visit.goto("/console/products/new/")
    page.select_option("#f-category", str(category.pk))
    page.fill("#f-title", "新款T恤")
    page.fill("#f-title-en", "New tee")
    for i, (name, name_en, options, options_en) in enumerate([("颜色", "Colour", "红色, 蓝色", "Red, Blue"),
                                                               ("尺码", "Size", "S, M", "S, M")]):
        page.fill(f"#a{i}-name", name)
        page.fill(f"#a{i}-name-en", name_en)
        page.fill(f"#a{i}-opts", options)
        page.fill(f"#a{i}-opts-en", options_en)
    page.click("button[name=action][value=generate]")
    page.wait_for_load_state()

    rows = page.locator("table.console-skus tbody tr")
    assert rows.count() == 4
    combos = [(rows.nth(n).locator("select").nth(0).input_value(), rows.nth(n).locator("select").nth(1).input_value())
              for n in range(4)]
    assert sorted(combos) == sorted([("红色", "S"), ("红色", "M"), ("蓝色", "S"), ("蓝色", "M")])
    page.fill("#f-default-price", "88.00")
    page.fill("#f-default-stock", "6")
    page.click("[data-apply-all]")
    assert page.eval_on_selector_all("[data-sku-price]", "els => els.map(e => e.value)") == ["88.00"] * 4
    assert page.eval_on_selector_all("[data-sku-stock]", "els => els.map(e => e.value)") == ["6"] * 4
    page_is_clean(visit, "console-editor-matrix")
    page.click(".console-savebar button[name=action][value=save]")
    page.wait_for_url("**/console/products/*/")

    product = Product.objects.get(shop=shop, title="新款T恤")
    skus = list(product.skus.select_related("stock").prefetch_related("options"))
    assert sorted(tuple(sorted(o.value for o in s.options.all())) for s in skus) == sorted(
        [("S", "红色"), ("M", "红色"), ("S", "蓝色"), ("M", "蓝色")])
    assert {(s.price, s.stock.quantity) for s in skus} == {(Decimal("88.00"), 6)}

    # images: the arrows move one later, "make cover" puts another first
    ids = [add_image(actor=seller, shop=shop, product_id=product.pk,
                     upload=f.png_upload(f"p{n}.png", size=(200, 200), colour=colour)).pk
           for n, colour in enumerate([(255, 0, 0), (0, 160, 0), (0, 0, 255)])]
    visit.goto(f"/console/products/{product.pk}/")

    def shown():
        return [int(i) for i in page.eval_on_selector_all(".console-images li[data-image-id]",
                                                          "els => els.map(e => e.dataset.imageId)")]

    assert shown() == ids
    page.click(f"li[data-image-id='{ids[0]}'] button[value=down]")
    page.wait_for_function(f"document.querySelector('.console-images li').dataset.imageId === '{ids[1]}'")
    assert shown() == [ids[1], ids[0], ids[2]]
    page.click(f"li[data-image-id='{ids[2]}'] button[value=cover]")
    page.wait_for_function(f"document.querySelector('.console-images li').dataset.imageId === '{ids[2]}'")
    assert shown() == [ids[2], ids[1], ids[0]]
    assert page.locator(f"li[data-image-id='{ids[2]}'] .badge").inner_text().strip() == visit.text("主图", "Cover")
    assert list(product.images.values_list("pk", flat=True)) == [ids[2], ids[1], ids[0]]
    # every thumbnail shows (they load lazily, and after the reorder's page load: wait for them, since a
    # busy machine may not have fetched them yet; a broken one never loads and times this out)
    page.locator(".console-images").scroll_into_view_if_needed()
    page.wait_for_function(
        "[...document.querySelectorAll('.console-images img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=15_000)
    page_is_clean(visit, "console-editor-images")
    assert visit.errors == []
