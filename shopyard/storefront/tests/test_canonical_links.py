"""Every product link on the cart, order, flash-sale, reviews, questions and
suggestion pages and in the seller console is the product's canonical URL
(/p/<id>-<slug>/), never /p/<id>/ (which answers with a 301)."""

import re

import pytest
from django.urls import reverse

from shopyard.cart.services import add_line, get_cart
from tests import factories as f

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PRODUCT_LINK = re.compile(r'href="((?:https?://[^/"]+)?/p/\d+[^"]*)"')


def product_links(html: str) -> list[str]:
    # the questions and reviews pages of a product live under /p/<id>/…: not product links
    return [link for link in PRODUCT_LINK.findall(html) if not re.search(r"/p/\d+/(questions|reviews)", link)]


def assert_only_canonical(html: str, *products):
    links = product_links(html)
    canonical = {f.product_url(p) for p in products}
    assert links, "no product link on the page"
    assert set(links) <= canonical, set(links) - canonical
    assert all(re.match(r"^/p/\d+-[a-z0-9-]+/", link) for link in links), links


@pytest.fixture
def lamp(shop):
    product = f.make_product(shop, title="护眼台灯", price="59.00", stock=50)
    assert product.slug  # pinyin: the canonical URL differs from /p/<id>/
    return product


def test_the_cart_links_canonical_product_urls(client, shopper, lamp):
    client.force_login(shopper)
    add_line(cart=get_cart(user=shopper, create=True), sku_id=lamp.skus.get().pk, quantity=1)
    assert_only_canonical(client.get(reverse("storefront:cart"), **EN).content.decode(), lamp)


def test_the_order_page_links_canonical_product_urls(client, shopper, address, lamp):
    order = f.make_paid_order(shopper, address, [(lamp.skus.get(), 1)])
    client.force_login(shopper)
    assert_only_canonical(client.get(reverse("storefront:order_detail", args=[order.pk]), **EN).content.decode(), lamp)


def test_the_flash_sale_page_links_canonical_product_urls(client, shop, lamp):
    f.make_flash_sale(shop, [(lamp.skus.get(), "9.90", 10, 1)])
    assert_only_canonical(client.get(reverse("storefront:flash_sale"), **EN).content.decode(), lamp)


def test_the_seller_console_links_canonical_product_urls(seller_client, lamp):
    assert_only_canonical(seller_client.get(reverse("console:products"), **EN).content.decode(), lamp)
    assert_only_canonical(seller_client.get(reverse("console:product_edit", args=[lamp.pk]), **EN).content.decode(),
                          lamp)


def test_reviews_questions_and_suggestions_link_canonical_product_urls(client, lamp):
    from shopyard.core.events import dispatch_pending
    from shopyard.search.services import refresh_suggest_prefixes

    dispatch_pending()
    refresh_suggest_prefixes()
    assert_only_canonical(client.get(reverse("storefront:product_reviews", args=[lamp.pk]), **EN).content.decode(),
                          lamp)
    assert_only_canonical(client.get(reverse("service:product_questions", args=[lamp.pk]), **EN).content.decode(), lamp)
    assert_only_canonical(client.get("/search/suggest/", {"q": "护眼"}, **EN).content.decode(), lamp)


def test_the_old_url_still_answers_with_one_hop_to_the_canonical_one(client, lamp):
    resp = client.get(f"/p/{lamp.pk}/")
    assert resp.status_code == 301 and resp["Location"] == f.product_url(lamp)


def test_a_category_renamed_twice_answers_301_from_each_old_slug_keeping_the_query(client, shop):
    from shopyard.storefront.services import record_slug_change

    category = f.make_category()
    f.make_product(shop, category=category)
    first = category.slug
    for new in ("second-name", "third-name"):
        old, category.slug = category.slug, new
        category.save()
        record_slug_change(kind="category", object_id=category.pk, old_slug=old, slug=new)
    for slug in (first, "second-name"):
        resp = client.get(f"/c/{slug}/?sort=sales&page=2")
        assert resp.status_code == 301 and resp["Location"] == "/c/third-name/?sort=sales&page=2"
    assert client.get("/c/third-name/").status_code == 200
    assert client.get("/c/never-was/").status_code == 404
