"""Catalogue pages: what a shopper sees on home, category, product, search,
shop, favourites and recently viewed pages, in Chinese and English, and what
each page costs in SQL queries."""

import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from shopyard.catalog.models import Favourite, Product
from shopyard.catalog.services import attach_image_bytes, set_published
from shopyard.core.events import dispatch_pending
from tests import factories as f

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = pytest.mark.usefixtures("media")


# --- helpers ----------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def option_chips(html: str) -> dict[int, dict]:
    """The option links of a product page, by option id."""
    parser = _Tags()
    parser.feed(html)
    return {int(a["data-option"]): a for t, a in parser.tags if t == "a" and "data-option" in a}


def embedded_matrix(html: str) -> dict:
    """The option matrix the page embeds for its script."""
    found = re.search(r'<script id="sku-matrix" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def selected_sku_id(html: str) -> int | None:
    """The SKU the add-to-cart form would send."""
    parser = _Tags()
    parser.feed(html)
    return next((int(a["value"]) for t, a in parser.tags if t == "input" and a.get("name") == "sku_id"), None)


def card_titles(resp) -> list[str]:
    return re.findall(r'<h3 class="product-title">([^<]*)</h3>', resp.content.decode())


def png_bytes(colour=(255, 80, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(out, "PNG")
    return out.getvalue()


def add_image(product):
    return attach_image_bytes(product=product, data=png_bytes(), ext="png")


def set_sales(product, n):
    Product.objects.filter(pk=product.pk).update(sales_count=n)


@pytest.fixture
def root_category(db):
    return f.make_category("数码")


@pytest.fixture
def category(root_category):
    return f.make_category("手机", parent=root_category)


# --- home ---------------------------------------------------------------------


def test_home_shows_category_tree_and_grids_in_both_languages(client, shop, category):
    p = f.make_product(shop, category=category, title="星河手机", price="1999.00")
    set_sales(p, 42)

    html_zh = client.get(reverse("storefront:home"), **ZH).content.decode()
    html_en = client.get(reverse("storefront:home"), **EN).content.decode()

    assert "星河手机" in html_zh
    assert "数码" in html_zh and "手机" in html_zh
    assert reverse("storefront:category", args=[category.slug]) in html_zh
    assert reverse("storefront:category", args=[category.parent.slug]) in html_zh
    assert "¥1999.00" in html_zh
    assert shop.name in html_zh
    assert p.title_en in html_en
    assert "星河手机" not in html_en
    assert category.name_en in html_en and category.parent.name_en in html_en
    assert "42 sold" in html_en
    assert shop.name_en in html_en


def test_home_lists_best_sellers_by_sales_and_hides_drafts(client, shop, category):
    low = f.make_product(shop, category=category, title="低销量")
    high = f.make_product(shop, category=category, title="高销量")
    f.make_product(shop, category=category, title="草稿商品", publish=False)
    set_sales(low, 1)
    set_sales(high, 500)

    html = client.get(reverse("storefront:home"), **ZH).content.decode()

    best = html[html.index('id="best-sellers"'):]
    assert best.index("高销量") < best.index("低销量")
    assert "草稿商品" not in html


# --- category -----------------------------------------------------------------


def test_category_lists_products_of_children_with_breadcrumb(client, shop, root_category, category):
    in_child = f.make_product(shop, category=category, title="子分类商品")
    elsewhere = f.make_product(shop, title="别的分类商品")

    resp = client.get(reverse("storefront:category", args=[root_category.slug]), **ZH)

    assert resp.status_code == 200
    titles = card_titles(resp)
    assert titles == [in_child.title]
    assert elsewhere.title not in titles
    child = client.get(reverse("storefront:category", args=[category.slug]), **EN).content.decode()
    crumb = child[child.index('class="breadcrumb"'):child.index("</nav>", child.index('class="breadcrumb"'))]
    assert root_category.name_en in crumb and category.name_en in crumb


def test_unknown_category_is_404(client, db):
    assert client.get(reverse("storefront:category", args=["no-such-thing"])).status_code == 404


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price_asc", ["便宜", "中等", "贵"]),
        ("price_desc", ["贵", "中等", "便宜"]),
        ("sales", ["中等", "贵", "便宜"]),
        ("newest", ["中等", "贵", "便宜"]),
        ("bogus", ["中等", "贵", "便宜"]),  # unknown sort falls back to newest
        ("", ["中等", "贵", "便宜"]),
    ],
)
def test_category_sorting(client, shop, category, sort, expected):
    cheap = f.make_product(shop, category=category, title="便宜", price="5.00")
    dear = f.make_product(shop, category=category, title="贵", price="500.00")
    mid = f.make_product(shop, category=category, title="中等", price="50.00")
    set_sales(cheap, 1)
    set_sales(dear, 10)
    set_sales(mid, 100)

    resp = client.get(reverse("storefront:category", args=[category.slug]), {"sort": sort}, **ZH)

    assert resp.status_code == 200
    assert card_titles(resp) == expected


def test_category_pagination_24_per_page(client, shop, category):
    products = [f.make_product(shop, category=category, title=f"商品-{i:02d}") for i in range(30)]
    url = reverse("storefront:category", args=[category.slug])
    newest_first = [p.title for p in reversed(products)]

    first = client.get(url, **ZH)
    second = client.get(url, {"page": 2}, **ZH)
    beyond = client.get(url, {"page": 99}, **ZH)
    negative = client.get(url, {"page": -3}, **ZH)
    garbage = client.get(url, {"page": "abc"}, **ZH)

    assert card_titles(first) == newest_first[:24]
    assert card_titles(second) == newest_first[24:]
    assert beyond.status_code == 200 and card_titles(beyond) == newest_first[24:]
    assert negative.status_code == 200 and card_titles(negative) == newest_first[24:]
    assert garbage.status_code == 200 and card_titles(garbage) == newest_first[:24]
    # the page links keep the sort order
    sorted_page = client.get(url, {"sort": "price_asc"}, **ZH).content.decode()
    assert "?sort=price_asc&amp;page=2" in sorted_page


def test_category_page_costs_fixed_queries(client, shop, category, django_assert_max_num_queries):
    url = reverse("storefront:category", args=[category.slug])
    for i in range(3):
        add_image(f.make_product(shop, category=category, title=f"少-{i}"))
    client.get(url)  # warm the cached category tree
    with CaptureQueriesContext(connection) as few:
        client.get(url)

    for i in range(27):
        p = f.make_product(shop, category=category, title=f"多-{i}")
        if i % 3 == 0:
            add_image(p)
    with CaptureQueriesContext(connection) as many:
        resp = client.get(url)
    assert len(card_titles(resp)) == 24
    assert "<img src=" in resp.content.decode()
    assert len(many) == len(few)
    with django_assert_max_num_queries(5):  # the category with its sub-categories in one query
        client.get(url, {"sort": "sales", "page": 2})


def test_category_page_for_logged_in_user_costs_fixed_queries(client, shopper, shop, category, django_assert_max_num_queries):
    for i in range(26):
        f.make_product(shop, category=category, title=f"商品{i}")
    client.force_login(shopper)
    url = reverse("storefront:category", args=[category.slug])
    client.get(url)
    # 8, plus the promotions that may badge the cards
    with django_assert_max_num_queries(10):  # + the unread-message count in the header
        resp = client.get(url)
    assert len(card_titles(resp)) == 24


# --- product ------------------------------------------------------------------


def test_product_page_in_both_languages(client, shop, category):
    p = f.make_product(shop, category=category, title="无线耳机", skus=[("99.00", 5), ("129.50", 3)])
    add_image(p)
    add_image(p)
    url = f.product_url(p)

    zh = client.get(url, **ZH).content.decode()
    en = client.get(url, **EN).content.decode()

    assert "无线耳机" in zh and "描述" in zh
    assert "¥99.00 – ¥129.50" in zh
    assert shop.name in zh
    assert reverse("storefront:shop", args=[shop.slug]) in zh
    assert zh.count('class="gallery-slide"') == 2
    assert zh.count("<li><a href=\"#img-") == 2  # thumbnails
    assert p.title_en in en and "无线耳机" not in en
    assert "Size" in en
    assert f'action="{reverse("storefront:cart_add")}"' in en
    assert 'name="quantity"' in en


def test_product_page_offers_every_option_and_marks_the_sold_out_one(client, shop):
    p = f.make_product(shop, skus=[("10.00", 5), ("12.00", 0), ("15.00", 2)])
    s0, s1, s2 = p.attributes.get().options.order_by("position")
    in_stock = p.skus.order_by("id").first()

    html = client.get(f.product_url(p), **EN).content.decode()

    found = option_chips(html)
    assert set(found) == {s0.pk, s1.pk, s2.pk}
    assert [found[o.pk]["data-state"] for o in (s0, s1, s2)] == ["available", "sold_out", "available"]
    assert found[s1.pk].get("aria-disabled") == "true" and "aria-disabled" not in found[s2.pk]
    assert found[s0.pk].get("aria-current") == "true"  # the first SKU in stock is preselected
    assert selected_sku_id(html) == in_stock.pk
    assert "5 in stock" in html and "(sold out)" in html
    assert [sku["price"] for sku in embedded_matrix(html)["skus"]] == ["¥10.00", "¥12.00", "¥15.00"]


def test_product_with_every_sku_out_of_stock_cannot_be_added(client, shop):
    p = f.make_product(shop, price="20.00", stock=0)

    html = client.get(f.product_url(p), **EN).content.decode()

    assert selected_sku_id(html) == p.skus.get().pk
    assert re.search(r'<button type="submit" class="btn btn-primary btn-block" data-add-button disabled>Out of stock</button>', html)


def test_unpublished_and_unknown_products_are_404(client, shop, seller):
    draft = f.make_product(shop, publish=False)
    was_published = f.make_product(shop)
    set_published(actor=seller, shop=shop, product_id=was_published.pk, published=False)

    assert client.get(f.product_url(draft)).status_code == 404
    assert client.get(f.product_url(was_published)).status_code == 404
    assert client.get(reverse("storefront:product", args=[999999])).status_code == 404
    assert client.get("/p/99999999999999999999999/").status_code == 404


def test_anonymous_product_view_writes_nothing_and_costs_fixed_queries(client, shop, django_assert_max_num_queries):
    small = f.make_product(shop, skus=[("10.00", 1)])
    big = f.make_product(shop, skus=[(f"{10 + i}.00", i) for i in range(12)])
    for _ in range(4):
        add_image(big)
    client.get(f.product_url(small))  # warm the cached category tree

    with CaptureQueriesContext(connection) as one_sku:
        client.get(f.product_url(small))
    with CaptureQueriesContext(connection) as many_skus:
        resp = client.get(f.product_url(big))
    # 2 (catalog.queries.product_rows: the product with its pictures and attributes, then its SKUs; the
    # product's row also says whether it has answered questions, group buys or flash sales, none here,
    # and carries its review rating), plus the shop's and the platform's published promotions (the
    # price shown is the price paid), and the view's behaviour event (analytics), one INSERT once the
    # response is sent
    with django_assert_max_num_queries(4):
        client.get(f.product_url(big))

    assert len(many_skus) == len(one_sku)
    *reads, recorded = [q["sql"].lstrip() for q in many_skus.captured_queries]
    assert all(sql.upper().startswith("SELECT") for sql in reads)
    assert recorded.startswith("INSERT") and "analytics_behaviourevent" in recorded
    assert len(option_chips(resp.content.decode())) == 12
    assert "sessionid" not in resp.cookies
    assert Session.objects.count() == 0


def test_logged_in_product_view_costs_fixed_queries(client, shopper, shop, django_assert_max_num_queries):
    p = f.make_product(shop, skus=[(f"{10 + i}.00", 3) for i in range(8)])
    client.force_login(shopper)
    client.get(f.product_url(p))
    # 6, plus the logged-in session's tracking row (accounts.sessions), the promotions and the
    # shopper's coupons (the price shown is what they pay), and the unread-message count in the
    # header; the product's row says it has no questions, group buys or flash sales, and carries its
    # rating (as above); + the view's behaviour event (after the response)
    with django_assert_max_num_queries(11):
        resp = client.get(f.product_url(p))
    assert resp.status_code == 200


# --- recently viewed ------------------------------------------------------------


def test_recently_viewed_cookie_most_recent_first(client, shop):
    a = f.make_product(shop, title="甲")
    b = f.make_product(shop, title="乙")
    c = f.make_product(shop, title="丙")

    for p in (a, b, c, a):
        client.get(f.product_url(p))

    assert client.cookies["recently_viewed"].value == f"{a.pk},{c.pk},{b.pk}"
    assert card_titles(client.get(reverse("storefront:recent"), **ZH)) == ["甲", "丙", "乙"]


def test_recently_viewed_keeps_twenty_and_skips_unpublished_and_garbage(client, shop, seller):
    products = [f.make_product(shop, title=f"看过{i}") for i in range(22)]
    for p in products:
        client.get(f.product_url(p))
    ids = [int(i) for i in client.cookies["recently_viewed"].value.split(",")]
    assert ids == [p.pk for p in reversed(products)][:20]

    set_published(actor=seller, shop=shop, product_id=products[-1].pk, published=False)
    client.cookies["recently_viewed"] = f"{products[-1].pk},x,-1,{products[-2].pk},²,{products[-2].pk}"
    resp = client.get(reverse("storefront:recent"), **ZH)

    assert resp.status_code == 200
    assert card_titles(resp) == [products[-2].title]


def test_recently_viewed_empty(client, db):
    resp = client.get(reverse("storefront:recent"), **EN)
    assert resp.status_code == 200
    assert "Products you look at will show up here." in resp.content.decode()


# --- favourites -----------------------------------------------------------------


def test_favourite_toggle_requires_login(client, product):
    url = reverse("storefront:toggle_favourite", args=[product.pk])

    resp = client.post(url, {"action": "add"})
    htmx = client.post(url, {"action": "add"}, HTTP_HX_REQUEST="true")

    assert resp.status_code == 302
    assert resp.url.startswith(reverse("accounts:login"))
    assert htmx["HX-Redirect"].startswith(reverse("accounts:login"))
    assert client.get(reverse("storefront:favourites")).status_code == 302
    assert Favourite.objects.count() == 0


def test_favourite_toggle_is_post_only(client, shopper, product):
    client.force_login(shopper)
    resp = client.get(reverse("storefront:toggle_favourite", args=[product.pk]))
    assert resp.status_code == 405
    assert Favourite.objects.count() == 0


def test_favourite_add_list_and_remove(client, shopper, product):
    client.force_login(shopper)
    url = reverse("storefront:toggle_favourite", args=[product.pk])
    product_url = f.product_url(product)

    added = client.post(url, {"action": "add", "next": product_url})
    assert added.status_code == 302 and added.url == product_url
    assert list(Favourite.objects.filter(user=shopper).values_list("product_id", flat=True)) == [product.pk]
    page = client.get(product_url, **EN).content.decode()
    assert 'aria-pressed="true"' in page
    assert card_titles(client.get(reverse("storefront:favourites"), **EN)) == [product.title_en]

    removed = client.post(url)  # no action: toggles
    assert removed.status_code == 302 and removed.url == reverse("storefront:product", args=[product.pk])  # then 301
    assert Favourite.objects.count() == 0
    assert card_titles(client.get(reverse("storefront:favourites"), **EN)) == []


def test_favourite_toggle_with_htmx_returns_the_button(client, shopper, product):
    client.force_login(shopper)
    url = reverse("storefront:toggle_favourite", args=[product.pk])

    resp = client.post(url, {"action": "add"}, HTTP_HX_REQUEST="true", **EN)

    assert resp.status_code == 200
    html = resp.content.decode()
    assert html.lstrip().startswith("<form") and "Favourited" in html and 'value="remove"' in html
    assert Favourite.objects.filter(user=shopper, product=product).exists()


def test_favourite_rejects_unpublished_product_and_foreign_redirect(client, shopper, shop, product):
    draft = f.make_product(shop, publish=False)
    client.force_login(shopper)

    resp = client.post(reverse("storefront:toggle_favourite", args=[draft.pk]), {"action": "add"})
    assert resp.status_code == 404
    assert Favourite.objects.count() == 0

    resp = client.post(reverse("storefront:toggle_favourite", args=[product.pk]),
                       {"action": "add", "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp.url == reverse("storefront:product", args=[product.pk])


def test_favourites_page_hides_unpublished_and_others(client, shopper, other_shopper, shop, seller):
    from shopyard.catalog.services import add_favourite

    mine = f.make_product(shop, title="我的收藏")
    gone = f.make_product(shop, title="已下架")
    theirs = f.make_product(shop, title="别人的收藏")
    add_favourite(actor=shopper, product_id=mine.pk)
    add_favourite(actor=shopper, product_id=gone.pk)
    add_favourite(actor=other_shopper, product_id=theirs.pk)
    set_published(actor=seller, shop=shop, product_id=gone.pk, published=False)
    client.force_login(shopper)

    assert card_titles(client.get(reverse("storefront:favourites"), **ZH)) == ["我的收藏"]


# --- search and shop --------------------------------------------------------------


def test_search_matches_chinese_and_english_titles(client, shop):
    phone = f.make_product(shop, title="智能手机")
    f.make_product(shop, title="保温杯")
    f.make_product(shop, title="手机壳草稿", publish=False)
    dispatch_pending()  # the search index is updated from events, after commit

    zh = client.get(reverse("storefront:search"), {"q": "手机"}, **ZH)
    en = client.get(reverse("storefront:search"), {"q": phone.title_en.lower()}, **EN)

    assert card_titles(zh) == ["智能手机"]
    assert card_titles(en) == [phone.title_en]


def test_search_without_query_shows_a_prompt(client, product):
    resp = client.get(reverse("storefront:search"), {"q": "  "}, **EN)
    assert resp.status_code == 200
    assert "Search the shops" in resp.content.decode()
    assert card_titles(resp) == []


def test_search_with_nothing_found(client, product):
    resp = client.get(reverse("storefront:search"), {"q": "不存在的东西"}, **EN)
    assert resp.status_code == 200
    assert card_titles(resp) == []
    assert "Nothing matches" in resp.content.decode()


def test_shop_page_shows_only_its_published_products(client, shop, other_shop):
    f.make_product(shop, title="本店商品")
    f.make_product(shop, title="本店草稿", publish=False)
    f.make_product(other_shop, title="别家商品")

    zh = client.get(reverse("storefront:shop", args=[shop.slug]), **ZH)
    en = client.get(reverse("storefront:shop", args=[shop.slug]), **EN)

    assert card_titles(zh) == ["本店商品"]
    assert shop.name in zh.content.decode()
    assert shop.name_en in en.content.decode()
    assert client.get(reverse("storefront:shop", args=["no-such-shop"])).status_code == 404


def test_header_menu_names_each_category_in_the_visitors_language(client, shop, category):
    untranslated = f.make_category(name="图书")
    untranslated.name_en = ""
    untranslated.save()
    p = f.make_product(shop, category=category)

    def menu(headers):
        html = client.get(reverse("storefront:product", args=[p.pk]), follow=True, **headers).content.decode()
        return html.split('class="catnav"')[1].split("</nav>")[0]

    en, zh = menu(EN), menu(ZH)
    assert category.parent.name_en in en and category.parent.name not in en
    assert "图书" in en  # no English name: the Chinese one, as everywhere else
    assert category.parent.name in zh and category.parent.name_en not in zh and "图书" in zh
