"""Deep pages of a listing (issue 12, 100,000 products): a page past the middle is read
from the far end of the listing (core.pagination), so a shopper walking a category
page by page, or opening a bookmarked page N, must see every visible product exactly
once, in the order the sort promises, whatever ties the sort key has (the product id
breaks them, the same way from either end)."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shopyard.catalog.models import Product, Sku
from shopyard.catalog.services import rebuild_category_counts
from shopyard.storefront.catalog_views import PER_PAGE
from tests import factories as f

pytestmark = pytest.mark.usefixtures("media")

PRICES = [Decimal("5.00"), Decimal("9.90"), Decimal("9.90"), Decimal("50.00")]  # ties on purpose
SALES = [0, 3, 3, 3, 7]

# each sort's order, as a shopper reads it: the sort key, ties broken by the newer product first
# (ascending prices: the older one first), the promise of catalog.queries.SORTS
EXPECTED = {
    "newest": lambda p: (-p.created_at.timestamp(), -p.pk),
    "price_asc": lambda p: (p.min_price, p.pk),
    "price_desc": lambda p: (-p.min_price, -p.pk),
    "sales": lambda p: (-p.sales_count, -p.pk),
}


@pytest.fixture
def tied_category(shop, seller):
    """A category of 2 pages and 5 products (53 visible), whose products share their
    creation moment, a few prices and a few sales counts, beside a draft and a product
    whose only SKU is switched off (neither listed)."""
    category = f.make_category("深页")
    products = [f.make_product(shop, category=category, title=f"深页商品{i:02d}") for i in range(53)]
    moment = timezone.now()
    for i, p in enumerate(products):
        Product.objects.filter(pk=p.pk).update(created_at=moment, min_price=PRICES[i % len(PRICES)],
                                               sales_count=SALES[i % len(SALES)])
    f.make_product(shop, category=category, title="深页草稿", publish=False)
    hidden = f.make_product(shop, category=category, title="深页下架")
    Sku.objects.filter(product=hidden).update(is_active=False)
    rebuild_category_counts()  # the kept counts, as the hourly job repairs them after a write behind the services
    return category


def _titles(resp) -> list[str]:
    return re.findall(r'<h3 class="product-title">([^<]*)</h3>', resp.content.decode())


def _rows_skipped(queries) -> int:
    """The most rows any statement skipped with OFFSET: what a deep page made the database walk."""
    return max((int(n) for q in queries for n in re.findall(r"OFFSET (\d+)", q["sql"])), default=0)


def _expected(category, sort) -> list[Product]:
    listed = Product.objects.filter(category=category, status="published").exclude(title="深页下架")
    return sorted(listed, key=EXPECTED[sort])


@pytest.mark.parametrize("sort", list(EXPECTED))
def test_walking_a_category_page_by_page_shows_each_product_once_in_order(client, tied_category, sort):
    url = reverse("storefront:category", args=[tied_category.slug])
    expected = [p.title_en for p in _expected(tied_category, sort)]  # the test client reads English
    assert len(expected) == 53

    pages = [_titles(client.get(url, {"sort": sort, "page": n})) for n in (1, 2)]
    with CaptureQueriesContext(connection) as last:
        pages.append(_titles(client.get(url, {"sort": sort, "page": 3})))

    assert [len(page) for page in pages] == [PER_PAGE, PER_PAGE, 5]
    assert [t for page in pages for t in page] == expected  # no gap, no repeat, ties in id order
    assert _rows_skipped(last) == 0  # the last page is the first 5 from the far end, not 48 walked past
    # a bookmark past the end is the last page; the page links and the summary stay page numbers
    assert _titles(client.get(url, {"sort": sort, "page": 40})) == expected[48:]
    middle = client.get(url, {"sort": sort, "page": 2}).content.decode()
    assert f"?sort={sort}&amp;page=3" in middle and f"?sort={sort}&amp;page=1" in middle


@pytest.mark.parametrize("sort", list(EXPECTED))
def test_api_pages_cover_the_listing_once_in_order_from_either_end(api, tied_category, sort):
    expected = [p.pk for p in _expected(tied_category, sort)]
    seen, page, metas = [], 1, []
    while True:
        body = api.get(f"/products?category={tied_category.pk}&sort={sort}&page={page}&page_size=7").json()
        metas.append(body["meta"])
        if not body["results"]:
            break
        seen += [item["id"] for item in body["results"]]
        page += 1

    assert seen == expected
    with CaptureQueriesContext(connection) as last:
        api.get(f"/products?category={tied_category.pk}&sort={sort}&page=8&page_size=7")
    assert _rows_skipped(last) == 0  # page 8 of 8 is read from the far end, not after 49 rows
    assert metas[0] == {"count": 53, "page": 1, "page_size": 7, "pages": 8}
    assert page == 9  # pages 1-8 full or partial (53 = 7 x 7 + 4), page 9 empty
