"""SEO: slugged canonical URLs and their 301s, head tags (title, description,
canonical, Open Graph, JSON-LD Product), sitemaps that list only what the
visibility rule shows, robots.txt, and old shop/category slugs."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from shopyard.catalog.services import set_published, update_product
from shopyard.core.slugs import slugify_text
from shopyard.shops import services as shop_services
from shopyard.storefront import sitemaps
from shopyard.storefront.models import SlugRedirect
from shopyard.storefront.services import record_slug_change
from tests import factories as f

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def json_ld(html: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def meta(html: str, attr: str, name: str) -> str:
    found = re.search(rf'<meta {attr}="{re.escape(name)}" content="([^"]*)">', html)
    return found.group(1) if found else None


def sitemap_locs(client, url) -> list[str]:
    resp = client.get(url)
    assert resp.status_code == 200
    return [el.text for el in ET.fromstring(resp.content).findall(".//sm:loc", NS)]


def suspend(shop):
    operator = f.make_user(is_staff=True)
    shop_services.suspend_shop(actor=operator, shop_id=shop.pk, reason="test")


def edit(product, seller, **changes):
    sku = product.skus.get()
    data = {"category_id": product.category_id, "title": product.title, "title_en": product.title_en,
            "skus": [{"code": sku.code, "price": "10.00", "stock": 3, "options": []}], **changes}
    return update_product(actor=seller, shop=product.shop, product_id=product.pk, data=data)


# --- slugs and URLs ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "slug"), [
    ("华为 Mate 60 手机", "hua-wei-mate-60-shou-ji"),
    ("无线蓝牙耳机Pro", "wu-xian-lan-ya-er-ji-pro"),
    ("Café ÉCOLE", "cafe-ecole"),
    ("😀😀", ""),
    ("", ""),
])
def test_slugs_are_pinyin_and_ascii(text, slug):
    assert slugify_text(text) == slug


def test_a_long_title_gives_a_slug_cut_at_a_syllable():
    slug = slugify_text("手机" * 100)
    assert len(slug) <= 80 and slug.endswith("ji") and "--" not in slug


def test_a_new_product_gets_a_pinyin_slug_and_its_page_lives_at_id_dash_slug(client, shop):
    product = f.make_product(shop, title="无线耳机")
    assert product.slug == "wu-xian-er-ji"
    url = f"/p/{product.pk}-wu-xian-er-ji/"
    assert f.product_url(product) == url
    assert client.get(url).status_code == 200


def test_the_old_url_and_a_stale_slug_answer_301_with_the_query_string_kept(client, shop):
    product = f.make_product(shop, title="无线耳机")
    old = client.get(f"/p/{product.pk}/?utm_source=wechat")
    assert old.status_code == 301 and old["Location"] == f"/p/{product.pk}-wu-xian-er-ji/?utm_source=wechat"
    stale = client.get(f"/p/{product.pk}-something-else/")
    assert stale.status_code == 301 and stale["Location"] == f"/p/{product.pk}-wu-xian-er-ji/"


def test_a_renamed_product_moves_and_its_old_slug_redirects(client, shop, seller):
    product = f.make_product(shop, title="无线耳机")
    edit(product, seller, title="蓝牙耳机")
    product.refresh_from_db()
    assert product.slug == "lan-ya-er-ji"
    resp = client.get(f"/p/{product.pk}-wu-xian-er-ji/")
    assert resp.status_code == 301 and resp["Location"] == f"/p/{product.pk}-lan-ya-er-ji/"


def test_unpublished_and_suspended_products_still_404_at_every_url(client, shop, seller):
    draft = f.make_product(shop, title="草稿", publish=False)
    for url in (f"/p/{draft.pk}/", f.product_url(draft)):
        assert client.get(url).status_code == 404
    product = f.make_product(shop, title="无线耳机")
    suspend(shop)
    for url in (f"/p/{product.pk}/", f.product_url(product)):
        assert client.get(url).status_code == 404


def test_product_cards_link_the_canonical_url(client, shop):
    product = f.make_product(shop, title="无线耳机")
    html = client.get(reverse("storefront:shop", args=[shop.slug])).content.decode()
    assert f'href="/p/{product.pk}-wu-xian-er-ji/"' in html


# --- head tags --------------------------------------------------------------------------


def test_product_page_has_default_title_description_canonical_og_and_json_ld(client, shop):
    product = f.make_product(shop, title="无线耳机", price="99.00", stock=5)
    html = client.get(f.product_url(product), **EN).content.decode()
    canonical = f"http://testserver/p/{product.pk}-wu-xian-er-ji/"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert f"<title>{product.title_en} · {shop.name_en}</title>" in html
    assert meta(html, "name", "description") == "描述"
    assert meta(html, "property", "og:type") == "product"
    assert meta(html, "property", "og:url") == canonical
    data = json_ld(html)
    assert data["@type"] == "Product" and data["name"] == product.title_en and data["url"] == canonical
    assert data["offers"] == {"@type": "Offer", "priceCurrency": "CNY", "price": "99.00",
                              "availability": "https://schema.org/InStock", "url": canonical}
    assert "aggregateRating" not in data


def test_the_sellers_seo_title_and_description_win(client, shop, seller):
    product = f.make_product(shop, title="无线耳机")
    edit(product, seller, seo_title="降噪耳机 限时特价", seo_description="官方正品，全国包邮")
    product.refresh_from_db()
    html = client.get(f.product_url(product)).content.decode()
    assert "<title>降噪耳机 限时特价</title>" in html
    assert meta(html, "name", "description") == "官方正品，全国包邮"
    assert meta(html, "property", "og:title") == "降噪耳机 限时特价"


def test_an_over_long_seo_title_is_refused_with_a_field_message_and_nothing_changes(shop, seller):
    from shopyard.core.errors import ValidationFailed

    product = f.make_product(shop, title="无线耳机")
    with pytest.raises(ValidationFailed) as exc:
        edit(product, seller, seo_title="x" * 121, seo_description="y" * 301)
    assert set(exc.value.fields) == {"seo_title", "seo_description"}
    product.refresh_from_db()
    assert (product.seo_title, product.seo_description, product.title) == ("", "", "无线耳机")


def test_out_of_stock_and_price_ranges_in_offers(client, shop):
    product = f.make_product(shop, title="T恤", skus=[("10.00", 0), ("20.00", 0)])
    offers = json_ld(client.get(f.product_url(product)).content.decode())["offers"]
    assert offers["@type"] == "AggregateOffer" and offers["lowPrice"] == "10.00" and offers["highPrice"] == "20.00"
    assert offers["offerCount"] == 2 and offers["availability"] == "https://schema.org/OutOfStock"


def test_aggregate_rating_comes_from_the_visible_reviews(client, shop, shopper, address):
    from shopyard.reviews import services as reviews

    product = f.make_product(shop, title="无线耳机")
    other = f.make_product(shop, title="充电器")
    order = f.make_completed_order(shopper, address, [(product.skus.get(), 1)])
    reviews.create_review(actor=shopper, order_id=order.pk, line_id=order.lines.get().pk, rating=4, logistics=5,
                          service=5, text="音质不错")
    rated = json_ld(client.get(f.product_url(product)).content.decode())
    unrated = json_ld(client.get(f.product_url(other)).content.decode())
    assert rated["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": "4.0", "reviewCount": 1}
    assert "aggregateRating" not in unrated


def test_seller_text_cannot_close_the_json_ld_script(client, shop, seller):
    product = f.make_product(shop, title="耳机</script><script>alert(1)</script>")
    html = client.get(f.product_url(product), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and json.loads(block)["name"].startswith("耳机</script>")


def test_shop_and_category_pages_have_canonical_and_description(client, shop):
    category = f.make_category()
    f.make_product(shop, category=category)
    shop_html = client.get(reverse("storefront:shop", args=[shop.slug]) + "?sort=sales").content.decode()
    assert f'<link rel="canonical" href="http://testserver/shop/{shop.slug}/">' in shop_html
    cat_html = client.get(reverse("storefront:category", args=[category.slug]), **EN).content.decode()
    assert f'<link rel="canonical" href="http://testserver/c/{category.slug}/">' in cat_html
    assert meta(cat_html, "property", "og:type") == "website"


# --- shop and category slug history ----------------------------------------------------------


def test_an_old_shop_slug_redirects_to_the_current_one(client, shop):
    old = shop.slug
    shop.slug = "new-name"
    shop.save()
    record_slug_change(kind="shop", object_id=shop.pk, old_slug=old, slug="new-name")
    resp = client.get(f"/shop/{old}/?page=2")
    assert resp.status_code == 301 and resp["Location"] == "/shop/new-name/?page=2"
    assert client.get("/shop/never-existed/").status_code == 404


def test_the_admin_records_a_changed_category_slug_through_an_event(admin_client, django_capture_on_commit_callbacks):
    category = f.make_category()
    old = category.slug
    with django_capture_on_commit_callbacks(execute=True):
        resp = admin_client.post(reverse("admin:catalog_category_change", args=[category.pk]), {
            "name": category.name, "name_en": category.name_en, "slug": "renamed", "position": 0,
            "children-TOTAL_FORMS": 0, "children-INITIAL_FORMS": 0,
        })
    assert resp.status_code == 302
    assert list(SlugRedirect.objects.values_list("kind", "old_slug", "object_id")) == [("category", old, category.pk)]
    moved = admin_client.get(f"/c/{old}/")
    assert moved.status_code == 301 and moved["Location"] == "/c/renamed/"


def test_a_slug_taken_back_drops_its_redirect(shop):
    record_slug_change(kind="shop", object_id=shop.pk, old_slug="a", slug="b")
    record_slug_change(kind="shop", object_id=shop.pk, old_slug="b", slug="a")
    assert list(SlugRedirect.objects.values_list("old_slug", flat=True)) == ["b"]


def test_an_old_slug_of_a_suspended_shop_is_a_404(client, shop):
    record_slug_change(kind="shop", object_id=shop.pk, old_slug="old-name", slug=shop.slug)
    suspend(shop)
    assert client.get("/shop/old-name/").status_code == 404
    assert client.get(f"/shop/{shop.slug}/").status_code == 404


# --- sitemaps and robots ------------------------------------------------------------------------


def test_sitemap_index_links_one_sitemap_per_type(client, shop):
    f.make_product(shop)
    locs = sitemap_locs(client, "/sitemap.xml")
    assert locs == ["http://testserver/sitemap-products.xml", "http://testserver/sitemap-shops.xml",
                    "http://testserver/sitemap-categories.xml"]


def test_sitemaps_list_only_what_shoppers_may_see(client, shop, other_shop, seller):
    visible = f.make_product(shop, title="无线耳机")
    draft = f.make_product(shop, title="草稿", publish=False)
    unpublished = f.make_product(shop, title="下架")
    set_published(actor=seller, shop=shop, product_id=unpublished.pk, published=False)
    of_suspended = f.make_product(other_shop, title="停业店商品")
    suspend(other_shop)

    products = sitemap_locs(client, "/sitemap-products.xml")
    shops = sitemap_locs(client, "/sitemap-shops.xml")

    assert products == [f"http://testserver/p/{visible.pk}-wu-xian-er-ji/"]
    assert shops == [f"http://testserver/shop/{shop.slug}/"]
    for hidden in (draft, unpublished, of_suspended):
        assert client.get(f.product_url(hidden)).status_code == 404
    assert client.get(f"/shop/{other_shop.slug}/").status_code == 404


def test_large_catalogues_are_paginated(client, shop, monkeypatch):
    monkeypatch.setattr(sitemaps.ProductSitemap, "limit", 2)
    made = [f.make_product(shop) for _ in range(5)]
    index = sitemap_locs(client, "/sitemap.xml")
    assert [loc for loc in index if "products" in loc] == [
        "http://testserver/sitemap-products.xml", "http://testserver/sitemap-products.xml?p=2",
        "http://testserver/sitemap-products.xml?p=3"]
    third = sitemap_locs(client, "/sitemap-products.xml?p=3")
    assert third == [f"http://testserver{f.product_url(made[4])}"]
    assert client.get("/sitemap-products.xml?p=4").status_code == 404
    assert client.get("/sitemap-products.xml?p=abc").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_a_sitemap_page_costs_a_fixed_number_of_queries(client, shop, django_assert_max_num_queries):
    for _ in range(6):
        f.make_product(shop)
    with django_assert_max_num_queries(2):  # the count for the paginator, the page
        client.get("/sitemap-products.xml")


def test_robots_txt_keeps_crawlers_out_of_private_paths_and_names_the_sitemap(client):
    resp = client.get("/robots.txt")
    assert resp.status_code == 200 and resp["Content-Type"] == "text/plain; charset=utf-8"
    lines = resp.content.decode().splitlines()
    for path in ("/cart/", "/checkout/", "/console/", "/accounts/", "/api/", "/orders/", "/admin/"):
        assert f"Disallow: {path}" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


# --- share links -------------------------------------------------------------------------------


def test_product_and_shop_pages_offer_a_tagged_share_link(client, shop):
    product = f.make_product(shop, title="无线耳机")
    product_html = client.get(f.product_url(product)).content.decode()
    shop_html = client.get(f"/shop/{shop.slug}/").content.decode()
    assert (f'value="http://testserver/p/{product.pk}-wu-xian-er-ji/?utm_source=share&amp;utm_medium=link'
            f'&amp;utm_campaign=product"') in product_html
    assert (f'value="http://testserver/shop/{shop.slug}/?utm_source=share&amp;utm_medium=link'
            f'&amp;utm_campaign=shop"') in shop_html


def test_the_seller_api_writes_and_returns_the_seo_fields(api, seller_token, shop):
    product = f.make_product(shop, title="无线耳机")
    sku = product.skus.get()
    body = {"category_id": product.category_id, "title": "蓝牙耳机", "seo_title": "蓝牙耳机 官方正品",
            "seo_description": "七天无理由退货", "skus": [{"code": sku.code, "price": "10.00", "stock": 3}]}
    resp = api.put(f"/seller/products/{product.pk}", body, token=seller_token)
    assert resp.status_code == 200
    out = resp.json()
    assert (out["slug"], out["seo_title"], out["seo_description"]) == ("lan-ya-er-ji", "蓝牙耳机 官方正品", "七天无理由退货")
    too_long = api.put(f"/seller/products/{product.pk}", {**body, "seo_description": "x" * 301}, token=seller_token)
    assert too_long.status_code == 422
    product.refresh_from_db()
    assert product.seo_description == "七天无理由退货"
