"""The home page an operator runs, in a real browser on a phone and a desktop
(in Chinese): a banner and a featured category made with the storefront
services show (the picture loads, the link goes where the operator said), a
banner scheduled for later does not; the home page and the category listing
it leads to have no serious or critical axe-core violation and no JavaScript
error.

Fixtures (`chromium`, `visit`, `home_operator`, `media`) are in the root
conftest.py, the helpers in tests/browser.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.storefront.models import FeaturedCategory, HomeBanner
from shopyard.storefront.services import save_banner, save_featured

from . import factories as f
from .browser import MARKS, sizes_and_langs

pytestmark = [*MARKS, sizes_and_langs(("phone", "zh"), ("desktop", "zh"))]


@pytest.mark.django_db(transaction=True)
def test_home_shows_live_banners_and_featured_categories(visit, home_operator, media):
    phones = f.make_category("手机")
    product = f.make_product(f.make_shop(), category=phones, price="1999.00", title="星河手机")
    banner = save_banner(actor=home_operator, upload=f.png_upload(size=(800, 300)),
                         banner=HomeBanner(title="新机首发", title_en="New phones", link=f"/c/{phones.slug}/", position=1))
    save_banner(actor=home_operator, upload=f.png_upload(colour=(0, 90, 200)),
                banner=HomeBanner(title="明天才开始的横幅", link="/search/?q=later", position=0,
                                  starts_at=timezone.now() + timedelta(days=1)))
    save_featured(actor=home_operator, featured=FeaturedCategory(category=phones, position=1))
    page = visit.page

    visit.goto("/")
    slides = page.locator(".banner-slide")
    assert slides.count() == 1
    link = slides.first.locator("a.banner-link")
    assert link.get_attribute("href") == f"/c/{phones.slug}/"
    image = link.locator("img")
    assert image.get_attribute("alt") == "新机首发" and image.get_attribute("src") == banner.display.url
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert "明天才开始的横幅" not in page.content()  # scheduled for tomorrow
    featured = page.locator(".featured-categories a")
    assert featured.count() == 1 and featured.first.inner_text().strip() == "手机"
    assert featured.first.get_attribute("href") == f"/c/{phones.slug}/"
    assert visit.axe_problems() == []
    visit.shot("home-banners")

    link.click()
    page.wait_for_url(f"**/c/{phones.slug}/")
    assert product.title in page.inner_text("main")
    assert visit.axe_problems() == []
    visit.shot("category-listing")
    assert visit.errors == []
