"""The fragment cache (storefront.fragments): pages rendered afresh reuse catalogue
rows, listing counts and product cards, and still show every edit of price, stock,
title, promotion or visibility at the next request."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from shopyard.catalog.models import Product
from shopyard.catalog.services import set_published, update_product
from shopyard.inventory.models import StockLevel
from shopyard.promotions import group_services
from shopyard.promotions.kinds import Kind
from shopyard.promotions.models import FlashSaleItem
from tests import factories as f

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def _fragments_on(settings):
    settings.PAGE_CACHE_SECONDS = 0  # every request renders: what this cache is for
    settings.FRAGMENT_CACHE_SECONDS = 300
    cache.clear()


@pytest.fixture
def category(db):
    return f.make_category("手机", parent=f.make_category("数码"))


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def card_titles(response) -> list[str]:
    return re.findall(r'<h3 class="product-title">([^<]*)</h3>', response.content.decode())


def _edit(seller, shop, product, *, title=None, price="10.00", stock=3):
    sku = product.skus.get()
    update_product(actor=seller, shop=shop, product_id=product.pk, data={
        "category_id": product.category_id, "title": title or product.title, "title_en": title or product.title_en,
        "skus": [{"code": sku.code, "price": price, "stock": stock, "options": []}],
    })
    product.refresh_from_db()


def test_a_second_product_view_reads_only_live_data(client, product, django_assert_num_queries):
    client.get(f.product_url(product))
    # the stock is read live (and a flash item's units left would be); the product's rows, its
    # answered questions, its group buys and flash sales (none), its review rating and the shop's
    # promotions come from the cache (their windows are read against the clock); and the behaviour event
    with django_assert_num_queries(2):
        r = client.get(f.product_url(product))
    assert r.status_code == 200 and product.title_en in r.content.decode()


def test_stock_shows_at_once_even_when_changed_without_an_event(client, product):
    sku = product.skus.get()
    StockLevel.objects.filter(sku=sku).update(quantity=7)
    assert "7 in stock" in text(client.get(f.product_url(product)))
    StockLevel.objects.filter(sku=sku).update(quantity=0)  # sold out by an order
    page = text(client.get(f.product_url(product)))
    assert "7 in stock" not in page and "Out of stock" in page


def test_price_and_title_edits_show_at_once_on_the_product_page(client, seller, shop, product,
                                                                django_capture_on_commit_callbacks):
    before = text(client.get(f.product_url(product), **ZH))
    assert "¥123.45" not in before
    with django_capture_on_commit_callbacks(execute=True):  # events reach the cache after commit
        _edit(seller, shop, product, title="新的标题", price="123.45")
    after = text(client.get(f.product_url(product), **ZH))
    assert "新的标题" in after and "¥123.45" in after


def test_an_unpublished_product_is_gone_at_once(client, seller, shop, product, django_capture_on_commit_callbacks):
    assert client.get(f.product_url(product)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        set_published(actor=seller, shop=shop, product_id=product.pk, published=False)
    assert client.get(f.product_url(product)).status_code == 404


def test_a_promotion_shows_at_once_on_the_product_page_and_the_listing(client, shop, category,
                                                                        django_capture_on_commit_callbacks):
    product = f.make_product(shop, category=category, price="100.00")
    url, listing = f.product_url(product), f"/c/{category.slug}/"
    assert "¥90.00" not in text(client.get(url)) and "¥90.00" not in text(client.get(listing))
    with django_capture_on_commit_callbacks(execute=True):
        f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"})
    assert "¥90.00" in text(client.get(url))
    assert "Limited-time discount" in text(client.get(listing))  # the card's badge


def _later(monkeypatch, delta):
    """The clock moved on by `delta`, with no event: what kept rows must be read against."""
    moment = timezone.now() + delta
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_kept_promotions_start_and_end_on_time_on_the_product_page(client, shop, monkeypatch):
    product = f.make_product(shop, price="100.00")
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, ends_at=timezone.now() + timedelta(hours=1))
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "20"}, starts_at=timezone.now() + timedelta(hours=2),
                     ends_at=timezone.now() + timedelta(hours=3))
    url = f.product_url(product)
    page = text(client.get(url))
    assert "¥90.00" in page and "¥80.00" not in page
    _later(monkeypatch, timedelta(minutes=90))  # the first has ended, the second not started
    page = text(client.get(url))
    assert "¥90.00" not in page and "¥80.00" not in page and "¥100.00" in page
    _later(monkeypatch, timedelta(minutes=60))
    assert "¥80.00" in text(client.get(url))


def test_a_group_buy_shows_and_goes_at_once_on_the_product_page(client, seller, shop, product, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    url = f.product_url(product)
    assert "Open a group" not in text(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        campaign = f.make_group_buy(shop, product.skus.get(), price="9.90")
    assert "Open a group ¥9.90" in text(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        group_services.stop_campaign(actor=seller, shop=shop, campaign_id=campaign.pk)
    assert "Open a group" not in text(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        f.make_group_buy(shop, product.skus.get(), price="8.80")  # runs a week
    assert "Open a group ¥8.80" in text(client.get(url))
    _later(monkeypatch, timedelta(days=8))  # it ended, and no event says so
    assert "Open a group" not in text(client.get(url))


def test_a_flash_sale_and_its_units_left_show_at_once_on_the_product_page(client, shop, product, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    url, sku = f.product_url(product), product.skus.get()
    StockLevel.objects.filter(sku=sku).update(quantity=50)
    assert "Flash sale" not in text(client.get(url))  # kept: none of its SKUs is in a session
    with django_capture_on_commit_callbacks(execute=True):
        sale = f.make_flash_sale(shop, [(sku, "1.00", 5, 1)])
    assert "5 left" in text(client.get(url))
    FlashSaleItem.objects.filter(sale=sale).update(available=2)  # sold by the flash path, no event
    page = text(client.get(url))
    assert "2 left" in page and "5 left" not in page
    _later(monkeypatch, timedelta(hours=2))  # the session is over
    assert "Flash sale" not in text(client.get(url))


def test_a_product_shows_each_part_it_has_and_one_without_them_reads_none(client, settings, shopper, seller, shop,
                                                                         address, django_assert_num_queries):
    """The product's own row says whether it has answered questions, group buys and flash sales
    (and carries its review rating): the page reads a part's rows only when it has some."""
    from shopyard.reviews import services as reviews
    from shopyard.service import qa

    settings.FRAGMENT_CACHE_SECONDS = 0  # every view reads the product's rows
    plain, busy = f.make_product(shop, price="20.00"), f.make_product(shop, price="20.00")
    sku = busy.skus.get()
    question = qa.ask_question(actor=shopper, product_id=busy.pk, text="能机洗吗？")
    qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="可以，冷水")
    f.make_group_buy(shop, sku, price="9.90")
    f.make_flash_sale(shop, [(sku, "1.00", 5, 1)])
    order = f.make_completed_order(shopper, address, [(sku, 1)])
    reviews.create_review(actor=shopper, order_id=order.pk, line_id=order.lines.get().pk, rating=4, logistics=5,
                          service=5, text="不错")
    Client().get(f.product_url(plain))  # warm: the category tree

    # the plain product's row (with its pictures and attributes), its SKUs, the shops' promotions and
    # the behaviour event
    with django_assert_num_queries(4):
        plain_page = Client().get(f.product_url(plain)).content.decode()
    # + its answered questions, its group buys and its flash sales; its rating came with its row
    with django_assert_num_queries(7):
        busy_page = Client().get(f.product_url(busy)).content.decode()
    for part in ("可以，冷水", "Open a group ¥9.90", "5 left", '"ratingValue":"4.0"'):
        assert part in busy_page and part not in plain_page


def test_a_group_buy_and_a_flash_sale_about_to_start_show_when_they_start(client, seller, shop, product,
                                                                          monkeypatch):
    """Sessions and campaigns that have not started are part of the kept rows (the product's row
    says it has some): when they start, the page shows them with no event to say so."""
    sku = product.skus.get()
    StockLevel.objects.filter(sku=sku).update(quantity=50)
    now = timezone.now()
    campaign = group_services.create_campaign(
        actor=seller, shop=shop, name="三人团", group_size=3, max_quantity=2, starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(days=1), items=[{"sku_id": sku.pk, "group_price": "9.90"}])
    group_services.publish_campaign(actor=seller, shop=shop, campaign_id=campaign.pk)
    f.make_flash_sale(shop, [(sku, "1.00", 5, 1)], starts_in_minutes=60)
    url = f.product_url(product)
    page = text(client.get(url))  # the rows are read and kept now
    assert "Open a group" not in page and "5 left" not in page
    _later(monkeypatch, timedelta(minutes=61))
    page = text(client.get(url))
    assert "Open a group ¥9.90" in page and "5 left" in page


def test_listing_cards_and_count_follow_edits(client, seller, shop, category, django_capture_on_commit_callbacks):
    listing = f"/c/{category.slug}/"
    with django_capture_on_commit_callbacks(execute=True):
        products = [f.make_product(shop, category=category, title=f"卡片{i}", price="10.00") for i in range(3)]
    first = client.get(listing, **ZH)
    assert sorted(card_titles(first)) == ["卡片0", "卡片1", "卡片2"]
    assert "3 件商品" in text(first) or "3 products" in text(first)
    with django_capture_on_commit_callbacks(execute=True):
        _edit(seller, shop, products[0], title="改过的卡片", price="55.50")
        set_published(actor=seller, shop=shop, product_id=products[1].pk, published=False)
    page = client.get(listing, **ZH)
    assert sorted(card_titles(page)) == ["卡片2", "改过的卡片"]
    assert "¥55.50" in text(page)
    assert "2 件商品" in text(page) or "2 products" in text(page)


def test_languages_get_their_own_cards(client, shop, category):
    product = f.make_product(shop, category=category, title="双语")
    listing = f"/c/{category.slug}/"
    assert card_titles(client.get(listing, **ZH)) == ["双语"]
    assert card_titles(client.get(listing, HTTP_ACCEPT_LANGUAGE="en")) == [product.title_en]
    assert card_titles(client.get(listing, **ZH)) == ["双语"]


def test_languages_get_their_own_description_from_kept_rows(client, shop):
    product = f.make_product(shop)
    Product.objects.filter(pk=product.pk).update(description="<p>纯棉面料</p>", description_en="<p>Pure cotton</p>")
    url = f.product_url(product)
    assert '<meta name="description" content="纯棉面料">' in client.get(url, **ZH).content.decode()
    english_page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")  # the rows the Chinese view kept
    english = english_page.content.decode()
    assert "Pure cotton" in text(english_page) and "纯棉面料" not in english
    assert '<meta name="description" content="Pure cotton">' in english
    assert "纯棉面料" in text(client.get(url, **ZH))


def test_a_warm_listing_costs_no_count_query(client, shop, category, django_assert_num_queries):
    for i in range(30):
        f.make_product(shop, category=category, title=f"商品{i}")
    url = f"/c/{category.slug}/"
    client.get(url)
    client.get(url, {"page": 2})
    # nothing: the category with its children, the promotions that may badge the cards, the page's
    # cards and the count are all kept per catalogue version (the scope rows of a live promotion
    # would be read: there is none here)
    with django_assert_num_queries(0):
        r = client.get(url, {"page": 2})
    assert len(card_titles(r)) == 6


def test_a_signed_in_shopper_sees_the_same_fresh_page(client, shopper, seller, shop, product,
                                                       django_capture_on_commit_callbacks):
    client.force_login(shopper)
    client.get(f.product_url(product))
    with django_capture_on_commit_callbacks(execute=True):
        _edit(seller, shop, product, price="77.00", stock=2)
    page = text(client.get(f.product_url(product)))
    assert "¥77.00" in page and "2 in stock" in page


def test_cache_off_reads_everything(client, product, settings, django_assert_num_queries):
    settings.FRAGMENT_CACHE_SECONDS = 0
    client.get(f.product_url(product))
    Client().get(f.product_url(product))
    # as above, but the product's rows (its own row with its pictures and attributes, which says it has
    # no answered questions, group buys or flash sales and carries its rating; its SKUs with their
    # stock) instead of the stock alone, and the shops' promotions
    with django_assert_num_queries(4):
        client.get(f.product_url(product))


def test_without_redis_the_local_cache_keeps_what_a_browsing_session_builds():
    """Django's local-memory default held 300 entries: fewer than the product cards of a
    dozen listing pages, so kept fragments were culled before they were read again."""
    from django.core.cache import CacheHandler

    from tests.settings_probe import settings_value

    caches = settings_value("s.CACHES", unset=("REDIS_URL", "SHOPYARD_LOCAL_CACHE_ENTRIES"))
    local = CacheHandler(caches).create_connection("default")
    # 40 listing pages x (24 cards + rows + count) and 2,000 product pages x (rows + Q&A)
    keys = [f"card:{n}" for n in range(40 * 26)] + [f"product:{n}" for n in range(2 * 2000)]
    for key in keys:
        local.set(key, "<li>…</li>" * 20, 60)
    assert all(local.get(key) is not None for key in keys)


def test_a_long_made_up_category_slug_is_a_plain_404_and_keys_stay_short(client, category):
    """A category's slug comes from its URL, of any length: it reaches the cache only hashed
    (the key of a 300-character slug was too long for memcached, a warning on every request)."""
    import warnings

    from django.core.cache.backends.base import CacheKeyWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        made_up = client.get("/c/" + "a" * 300 + "/", **ZH)
        real = client.get(f"/c/{category.slug}/", **ZH)

    assert made_up.status_code == 404
    assert real.status_code == 200
