"""A decorated shop home page in a real browser, on a phone and a desktop, in
Chinese and English: the banner picture loads, the notice and the product
grid show, nothing runs off-screen sideways, following works with htmx, and
there is no serious or critical axe-core violation and no JavaScript error.

Fixtures (`chromium`, `visit`, `media`) are in the root conftest.py, the
helpers in tests/browser.py."""

import pytest

from shopyard.shops import decoration
from shopyard.shops.models import ShopFollow

from . import factories as f
from .browser import MARKS, sizes_and_langs

pytestmark = [*MARKS, sizes_and_langs(("phone", "zh"), ("desktop", "en"))]


@pytest.mark.django_db(transaction=True)
def test_decorated_shop_home_on_phone_and_desktop(visit, media):
    seller = f.make_user("decor-seller")
    shopper = f.make_user("decor-shopper")
    shop = f.make_shop("星河数码", owner=seller)
    products = [f.make_product(shop, title=f"旗舰手机 {i}", price="1999.00") for i in range(5)]
    decoration.update_profile(actor=seller, shop=shop, description="官方授权，全国联保", description_en="Authorised dealer",
                              promises=["returns_7d", "ships_48h"])
    image = decoration.add_image(actor=seller, shop=shop, upload=f.png_upload(size=(800, 300)))
    decoration.add_block(actor=seller, shop=shop, kind="banner",
                         config={"slides": [{"image_id": image.pk, "link": "/coupons/", "alt": "新品上市"}] * 2})
    decoration.add_block(actor=seller, shop=shop, kind="notice", title="公告", title_en="Notice",
                         config={"html": "<p>今日 16:00 前付款当天发货</p>", "html_en": "<p>Paid by 16:00: shipped today</p>"})
    decoration.add_block(actor=seller, shop=shop, kind="product_grid", title="店长推荐", title_en="Our picks",
                         config={"source": "products", "product_ids": [p.pk for p in products[:4]]})
    decoration.publish(actor=seller, shop=shop)
    visit.login(shopper)
    page = visit.page

    visit.goto(f"/shop/{shop.slug}/")
    slide = page.locator(".shop-slide img").first
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=slide.element_handle())
    assert visit.text("今日 16:00 前付款当天发货", "Paid by 16:00: shipped today") in page.inner_text("main")
    assert page.locator('[data-block-kind="product_grid"] .product-card').count() == 4
    assert visit.overflow_problems() == []
    assert visit.axe_problems() == []
    visit.shot("shop-home")

    page.locator(".follow-form button").click()
    page.wait_for_selector('.follow-form button[aria-pressed="true"]')
    assert ShopFollow.objects.filter(user=shopper, shop=shop).count() == 1
    visit.goto("/followed-shops/")
    assert page.locator(".followed-shops li").count() == 1
    assert visit.overflow_problems() == [] and visit.axe_problems() == []
    assert visit.errors == []
