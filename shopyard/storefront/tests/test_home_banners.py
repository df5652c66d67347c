"""Home-page banners and featured categories managed by the operators:
what the home page shows (and when), the link and picture rules, the page
cache, and the admin."""

import os
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from shopyard.core.errors import ValidationFailed
from shopyard.core.models import OutboxEvent
from shopyard.demo.loader import (
    FEATURED_CATEGORIES,
    HOME_BANNERS,
    ensure_categories,
    load,
    load_home_content,
)
from shopyard.storefront import page_cache
from shopyard.storefront.models import FeaturedCategory, HomeBanner
from shopyard.storefront.services import clean_link, delete_banner, save_banner
from tests import factories as f

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _files(media):
    return sorted(p for p in (media.rglob("*") if media.exists() else []) if p.is_file())


def _home(client, lang=ZH):
    return client.get(reverse("storefront:home"), **lang).content.decode()


# --- what the home page shows ------------------------------------------------


@pytest.mark.django_db
def test_only_live_banners_show_in_position_order(client, media):
    now = timezone.now()
    f.make_banner(title="第二个", position=2)
    f.make_banner(title="第一个", position=1, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))
    f.make_banner(title="还没开始", position=0, starts_at=now + timedelta(hours=1))
    f.make_banner(title="已经结束", position=0, ends_at=now - timedelta(minutes=1))
    f.make_banner(title="停用的", position=0, is_active=False)

    html = _home(client)

    assert html.index("第一个") < html.index("第二个")
    for hidden in ("还没开始", "已经结束", "停用的"):
        assert hidden not in html
    assert html.count('class="banner-slide"') == 2


@pytest.mark.django_db
def test_banner_links_and_english_title_with_chinese_fallback(client, media):
    f.make_banner(title="双十一大促", title_en="Singles' Day sale", link="/c/phones/", position=1)
    f.make_banner(title="只有中文", link="https://example.com/promo", position=2)

    html_en = _home(client, EN)
    html_zh = _home(client, ZH)

    assert "Singles&#x27; Day sale" in html_en and "双十一大促" not in html_en
    assert "只有中文" in html_en  # no English title: the Chinese one
    assert "双十一大促" in html_zh and "Singles" not in html_zh
    assert 'href="/c/phones/"' in html_zh and 'href="https://example.com/promo"' in html_zh
    assert 'scroll-snap' not in html_zh  # the carousel is CSS in site.css, no inline script
    assert "<script" not in html_zh.split('class="banners"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_featured_categories_link_to_their_pages_in_order(client):
    later = f.make_category("家居")
    first = f.make_category("数码")
    hidden = f.make_category("隐藏分类")
    f.make_featured(later, position=2)
    f.make_featured(first, position=1)
    f.make_featured(hidden, position=0, is_active=False)
    f.make_featured(hidden, position=0, starts_at=timezone.now() + timedelta(days=1))

    html = _home(client, ZH)
    section = html.split('class="featured-categories"')[1].split("</ul>")[0]

    assert section.index(f'href="/c/{first.slug}/"') < section.index(f'href="/c/{later.slug}/"')
    assert "数码" in section and "家居" in section and hidden.slug not in section
    assert first.name_en in _home(client, EN).split('class="featured-categories"')[1].split("</ul>")[0]


@pytest.mark.django_db
def test_home_page_costs_fixed_queries_whatever_the_banners(client, media, django_assert_num_queries):
    shop = f.make_shop()
    f.make_product(shop)
    f.make_banner(position=1)
    f.make_featured(f.make_category(), position=1)
    client.get(reverse("storefront:home"))  # warm the category tree cache
    with django_assert_num_queries(7):  # the last: promotions badging the product cards
        client.get(reverse("storefront:home"))
    for n in range(5):
        f.make_banner(position=n + 2)
        f.make_featured(f.make_category(), position=n + 2)
    client.get(reverse("storefront:home"))
    with django_assert_num_queries(7):
        response = client.get(reverse("storefront:home"))
    assert response.content.decode().count('class="banner-slide"') == 6


# --- the rules ---------------------------------------------------------------


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>",
    "vbscript:x", "ftp://example.com/", "//evil.example/", "relative/path", "/has space", "/a\\b",
    "http:/no-host", "https://", "java\tscript:alert(1)",
])
@pytest.mark.django_db
def test_unsafe_links_are_refused_with_a_field_message_and_nothing_saved(link, media):
    with pytest.raises(ValidationFailed) as caught:
        save_banner(actor=None, banner=HomeBanner(title="坏链接", link=link), upload=f.png_upload())
    assert list(caught.value.fields) == ["link"]
    assert HomeBanner.objects.count() == 0
    assert _files(media) == []


@pytest.mark.parametrize("link,expected", [
    ("/c/phones/", "/c/phones/"), ("https://example.com/a?b=1", "https://example.com/a?b=1"),
    ("  http://example.com ", "http://example.com"), ("", ""),
])
def test_site_paths_and_http_links_are_accepted(link, expected):
    assert clean_link(link) == expected


@pytest.mark.django_db
def test_schedule_must_end_after_it_starts(media):
    now = timezone.now()
    with pytest.raises(ValidationFailed) as caught:
        save_banner(actor=None, banner=HomeBanner(title="x", starts_at=now, ends_at=now), upload=f.png_upload())
    assert list(caught.value.fields) == ["ends_at"]
    assert HomeBanner.objects.count() == 0 and _files(media) == []


@pytest.mark.parametrize("content", [
    b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
])
@pytest.mark.django_db
def test_corrupt_picture_is_refused_and_nothing_is_left_in_media(content, media):
    upload = SimpleUploadedFile("evil.png", content, content_type="image/png")
    with pytest.raises(ValidationFailed) as caught:
        save_banner(actor=None, banner=HomeBanner(title="坏图"), upload=upload)
    assert list(caught.value.fields) == ["image"]
    assert HomeBanner.objects.count() == 0
    assert _files(media) == []


@pytest.mark.django_db
def test_truncated_png_is_refused(media):
    data = f.png_upload(size=(300, 120)).read()
    upload = SimpleUploadedFile("cut.png", data[: len(data) // 2], content_type="image/png")
    with pytest.raises(ValidationFailed):
        save_banner(actor=None, banner=HomeBanner(title="截断"), upload=upload)
    assert HomeBanner.objects.count() == 0 and _files(media) == []


@pytest.mark.django_db
def test_failed_save_after_writing_files_removes_them(media):
    with mock.patch("shopyard.storefront.services._save", side_effect=RuntimeError("db down")):
        with pytest.raises(RuntimeError):
            save_banner(actor=None, banner=HomeBanner(title="失败"), upload=f.png_upload())
    assert HomeBanner.objects.count() == 0 and _files(media) == []


@pytest.mark.django_db
def test_banner_keeps_original_and_a_resized_copy(media):
    banner = save_banner(actor=None, banner=HomeBanner(title="大图"), upload=f.png_upload(size=(3200, 1200)))
    with Image.open(banner.display.path) as img:
        assert img.size == (1600, 600) and img.format == "JPEG"
    with Image.open(banner.image.path) as img:
        assert img.size == (3200, 1200)


@pytest.mark.django_db
def test_replacing_and_deleting_a_picture_leaves_no_orphans(media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        banner = f.make_banner()
    with django_capture_on_commit_callbacks(execute=True):
        save_banner(actor=None, banner=banner, upload=f.png_upload(colour=(0, 0, 255)))
    assert {p.name for p in _files(media)} == {
        os.path.basename(n) for n in (banner.image.name, banner.display.name)}
    with django_capture_on_commit_callbacks(execute=True):
        delete_banner(actor=None, banner=banner)
    assert _files(media) == [] and HomeBanner.objects.count() == 0


# --- the page cache ----------------------------------------------------------


@pytest.mark.django_db
def test_banner_change_shows_at_once_with_the_page_cache_on(settings, media, django_capture_on_commit_callbacks):
    settings.PAGE_CACHE_SECONDS = 60
    first = Client()
    assert "新横幅" not in _home(first)
    assert "新横幅" not in _home(Client())  # now served from the cache
    with django_capture_on_commit_callbacks(execute=True):
        banner = f.make_banner(title="新横幅")
    assert "新横幅" in _home(Client())
    banner.title = "改过的横幅"
    with django_capture_on_commit_callbacks(execute=True):
        save_banner(actor=None, banner=banner)
    assert "改过的横幅" in _home(Client())
    with django_capture_on_commit_callbacks(execute=True):
        delete_banner(actor=None, banner=banner)
    assert "改过的横幅" not in _home(Client())
    assert OutboxEvent.objects.filter(name="home.changed").count() == 3


@pytest.mark.django_db
def test_featured_change_shows_at_once_with_the_page_cache_on(settings, django_capture_on_commit_callbacks):
    settings.PAGE_CACHE_SECONDS = 60
    cat = f.make_category("新品推荐")
    assert "featured-categories" not in _home(Client())
    with django_capture_on_commit_callbacks(execute=True):
        f.make_featured(cat)
    assert 'class="featured-categories"' in _home(Client())


@pytest.mark.django_db
def test_cached_home_expires_when_a_scheduled_banner_starts(settings, media):
    settings.PAGE_CACHE_SECONDS = 60
    f.make_banner(title="十秒后开始", starts_at=timezone.now() + timedelta(seconds=10))
    with mock.patch.object(page_cache.cache, "set", wraps=page_cache.cache.set) as cache_set:
        _home(Client())
    timeouts = [c.args[2] for c in cache_set.call_args_list if c.args[0].startswith("storefront:page:")]
    assert len(timeouts) == 1 and 1 <= timeouts[0] <= 10


@pytest.mark.django_db
def test_cached_home_without_schedule_keeps_page_cache_seconds(settings, media):
    settings.PAGE_CACHE_SECONDS = 60
    f.make_banner(title="一直在")
    with mock.patch.object(page_cache.cache, "set", wraps=page_cache.cache.set) as cache_set:
        _home(Client())
    timeouts = [c.args[2] for c in cache_set.call_args_list if c.args[0].startswith("storefront:page:")]
    assert timeouts == [60]


# --- the operator console ----------------------------------------------------


@pytest.mark.django_db
def test_admin_lists_banners_by_position_and_change_page_opens(client, home_operator, media):
    b2 = f.make_banner(title="乙", position=2)
    b1 = f.make_banner(title="甲", position=1)
    client.force_login(home_operator)

    listing = client.get(reverse("admin:storefront_homebanner_changelist")).content.decode()
    change = client.get(reverse("admin:storefront_homebanner_change", args=[b2.pk]))

    assert listing.index(f"/{b1.pk}/change/") < listing.index(f"/{b2.pk}/change/")
    assert 'name="form-0-position"' in listing and "<img src=" in listing
    assert change.status_code == 200 and b2.display.url in change.content.decode()
    assert client.get(reverse("admin:storefront_homebanner_add")).status_code == 200
    assert client.get(reverse("admin:storefront_featuredcategory_add")).status_code == 200


@pytest.mark.django_db
def test_admin_refuses_javascript_link_and_corrupt_picture_with_field_messages(client, home_operator, media):
    client.force_login(home_operator)
    response = client.post(reverse("admin:storefront_homebanner_add"), {
        "title": "坏的", "link": "javascript:alert(1)", "position": 0, "is_active": "on",
        "upload": SimpleUploadedFile("x.png", b"garbage", content_type="image/png"),
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"link", "upload"}
    assert HomeBanner.objects.count() == 0 and _files(media) == []


@pytest.mark.django_db
def test_admin_adds_a_banner_through_the_service(client, home_operator, media):
    client.force_login(home_operator)
    response = client.post(reverse("admin:storefront_homebanner_add"), {
        "title": "运营横幅", "title_en": "Ops banner", "link": "/c/x/", "position": 3, "is_active": "on",
        "upload": f.png_upload(),
    })
    assert response.status_code == 302
    banner = HomeBanner.objects.get()
    assert (banner.title, banner.link, banner.position) == ("运营横幅", "/c/x/", 3)
    assert banner.display and len(_files(media)) == 2
    assert OutboxEvent.objects.filter(name="home.changed").count() == 1


@pytest.mark.django_db
def test_admin_edits_positions_from_the_list(client, home_operator, media):
    b1 = f.make_banner(title="甲", position=1)
    b2 = f.make_banner(title="乙", position=2)
    client.force_login(home_operator)
    response = client.post(reverse("admin:storefront_homebanner_changelist"), {
        "form-TOTAL_FORMS": 2, "form-INITIAL_FORMS": 2, "_save": "Save",
        "form-0-id": b1.pk, "form-0-position": 5, "form-0-is_active": "on",
        "form-1-id": b2.pk, "form-1-position": 1, "form-1-is_active": "on",
    })
    assert response.status_code == 302
    assert list(HomeBanner.objects.values_list("title", flat=True)) == ["乙", "甲"]
    assert FeaturedCategory.objects.count() == 0


# --- demo data ---------------------------------------------------------------


@pytest.mark.django_db
def test_demo_shows_banners_and_featured_categories_once(client, media):
    load(products=12, with_orders=False)
    assert load_home_content(operator=None, cats=ensure_categories()) == 0  # a second run adds nothing

    assert HomeBanner.objects.count() == len(HOME_BANNERS)
    assert FeaturedCategory.objects.count() == len(FEATURED_CATEGORIES)
    html = _home(client, EN)
    assert html.count('class="banner-slide"') == len(HOME_BANNERS)
    assert "Singles&#x27; Day digital deals" in html and 'href="/c/phones/"' in html
    with Image.open(HomeBanner.objects.first().display.path) as img:
        assert img.size == (1600, 600)


def test_home_leads_to_the_flash_sales_and_the_coupon_centre(db, client):
    page = client.get("/").content.decode()
    assert 'href="/flash/"' in page and 'href="/coupons/"' in page
    assert client.get("/flash/").status_code == 200
    assert client.get("/coupons/").status_code == 200
