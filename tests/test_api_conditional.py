"""Conditional requests and cache headers of the public catalogue API
(GET /products, GET /products/{id}): anonymous readers get an ETag and may
revalidate for a 304; any edit of what the body shows changes the tag; signed-in
callers and errors get no caching headers; bodies kept per catalogue version
cost a fixed number of queries."""

import pytest
from django.db.models import F

from shopyard.catalog import services
from shopyard.catalog.api import ProductOut, ProductPage
from shopyard.inventory.models import StockLevel
from tests import factories as f


@pytest.fixture
def kept(settings):
    """Bodies kept as in production (conftest assembles them live elsewhere)."""
    settings.API_CACHE_SECONDS = 300
    settings.API_MAX_AGE_SECONDS = 10


def _edit(shop, product, **changes):
    """The seller's edit through the catalogue service, as the seller API sends it."""
    sku = product.skus.get()
    data = {"category_id": product.category_id, "title": product.title, "title_en": product.title_en,
            "description": product.description,
            "skus": [{"code": sku.code, "price": str(sku.price), "stock": sku.stock.quantity, "options": []}]}
    if "price" in changes:
        data["skus"][0]["price"] = changes.pop("price")
    data.update(changes)
    services.update_product(actor=shop.members.first().user, shop=shop, product_id=product.pk, data=data)


def test_an_anonymous_product_read_carries_an_etag_and_public_cache_headers(api, product, kept):
    r = api.get(f"/products/{product.pk}")
    assert r.status_code == 200
    assert r["ETag"].startswith('"') and len(r["ETag"]) == 34
    assert r["Cache-Control"] == "public, max-age=10"
    assert {v.strip() for v in r["Vary"].split(",")} >= {"Authorization", "Cookie"}
    ProductOut.model_validate(r.json())  # the body written without ninja's validation still has the documented shape
    assert r.json()["skus"][0]["price"] == "59.90"


def test_a_matching_if_none_match_gets_a_304_without_body(api, product, kept):
    tag = api.get(f"/products/{product.pk}")["ETag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        r = api.get(f"/products/{product.pk}", HTTP_IF_NONE_MATCH=header)
        assert r.status_code == 304, header
        assert r.content == b""
        assert r["ETag"] == tag
        assert r["Cache-Control"] == "public, max-age=10"


def test_another_tag_gets_the_full_body(api, product, kept):
    r = api.get(f"/products/{product.pk}", HTTP_IF_NONE_MATCH='"not-the-current-one"')
    assert r.status_code == 200
    assert r.json()["id"] == product.pk


@pytest.mark.parametrize("change", [{"title": "新标题 2026"}, {"price": "49.90"}])
def test_a_seller_edit_changes_the_tag_and_the_stale_tag_gets_the_new_body(
        api, shop, product, kept, change, django_capture_on_commit_callbacks):
    old = api.get(f"/products/{product.pk}")
    old_list = api.get("/products")
    with django_capture_on_commit_callbacks(execute=True):  # the event reaches the API's kept bodies after commit
        _edit(shop, product, **change)
    r = api.get(f"/products/{product.pk}", HTTP_IF_NONE_MATCH=old["ETag"])
    assert r.status_code == 200
    assert r["ETag"] != old["ETag"]
    if "title" in change:
        assert r.json()["title"] == "新标题 2026"
    else:
        assert r.json()["skus"][0]["price"] == "49.90" and r.json()["min_price"] == "49.90"
    listing = api.get("/products", HTTP_IF_NONE_MATCH=old_list["ETag"])
    assert listing.status_code == 200
    card = listing.json()["results"][0]
    assert card["title"] == "新标题 2026" if "title" in change else card["min_price"] == "49.90"


def test_stock_and_sales_moved_by_orders_change_the_product_tag_without_an_event(api, product, sku, kept):
    first = api.get(f"/products/{product.pk}")
    StockLevel.objects.filter(sku=sku).update(quantity=F("quantity") - 3)  # what placing an order does
    r = api.get(f"/products/{product.pk}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert r.status_code == 200
    assert r.json()["skus"][0]["stock"] == 7
    services.record_sales(quantities={product.pk: 3})  # what paying for it does
    r2 = api.get(f"/products/{product.pk}", HTTP_IF_NONE_MATCH=r["ETag"])
    assert r2.status_code == 200
    assert r2.json()["sales_count"] == 3


def test_an_unpublished_product_is_a_404_without_caching_headers_and_leaves_the_list(
        api, shop, product, kept, django_capture_on_commit_callbacks):
    tag = api.get("/products")["ETag"]
    api.get(f"/products/{product.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        services.set_published(actor=shop.members.first().user, shop=shop, product_id=product.pk, published=False)
    r = api.get(f"/products/{product.pk}")
    assert r.status_code == 404
    assert "ETag" not in r and "public" not in r.get("Cache-Control", "")
    listing = api.get("/products", HTTP_IF_NONE_MATCH=tag)
    assert listing.status_code == 200
    assert listing.json()["results"] == [] and listing.json()["meta"]["count"] == 0


def test_errors_never_carry_caching_headers(api, db, kept):
    for path in ("/products/999999", "/products?category=999999", "/products?page=0"):
        r = api.get(path)
        assert r.status_code in (404, 422), path
        assert "ETag" not in r and "public" not in r.get("Cache-Control", ""), path


def test_signed_in_callers_get_no_tag_and_no_public_caching(api, client, product, shopper, shopper_token, kept):
    anonymous_tag = api.get(f"/products/{product.pk}")["ETag"]
    r = api.get(f"/products/{product.pk}", token=shopper_token, HTTP_IF_NONE_MATCH=anonymous_tag)
    assert r.status_code == 200 and r.json()["id"] == product.pk
    assert "ETag" not in r
    assert r["Cache-Control"] == "private, no-cache"
    client.force_login(shopper)  # a session cookie
    r = api.get("/products", HTTP_IF_NONE_MATCH=anonymous_tag)
    assert r.status_code == 200 and "ETag" not in r and r["Cache-Control"] == "private, no-cache"


def test_the_listing_is_conditional_and_keeps_its_shape(api, shop, kept):
    for _ in range(3):
        f.make_product(shop)
    r = api.get("/products?page_size=2&sort=price_asc")
    ProductPage.model_validate(r.json())
    assert r.json()["meta"] == {"count": 3, "page": 1, "page_size": 2, "pages": 2}
    assert api.get("/products?page_size=2&sort=price_asc", HTTP_IF_NONE_MATCH=r["ETag"]).status_code == 304
    other_page = api.get("/products?page_size=2&sort=price_asc&page=2", HTTP_IF_NONE_MATCH=r["ETag"])
    assert other_page.status_code == 200 and len(other_page.json()["results"]) == 1


def test_without_kept_bodies_the_tags_are_the_same(api, product, settings):
    settings.API_CACHE_SECONDS = 0
    a = api.get(f"/products/{product.pk}")
    b = api.get(f"/products/{product.pk}", HTTP_IF_NONE_MATCH=a["ETag"])
    assert b.status_code == 304 and b["ETag"] == a["ETag"]


def test_a_kept_product_costs_one_query_and_a_fresh_one_a_fixed_number(
        api, shop, kept, django_assert_num_queries):
    small = f.make_product(shop, skus=[("10.00", 1)])
    big = f.make_product(shop, skus=[("10.00", 1), ("11.00", 2), ("12.00", 0), ("13.00", 5)])
    for p in (small, big):
        with django_assert_num_queries(3):  # live state, product+images+attributes+options, SKUs+stock+options
            assert api.get(f"/products/{p.pk}").status_code == 200
        with django_assert_num_queries(1):  # the live state of its SKUs
            assert api.get(f"/products/{p.pk}").status_code == 200


def test_the_public_body_is_the_sellers_view_of_the_published_product(api, shop, seller_token, kept):
    """The public read (catalog.queries.product_rows) and the seller's (prefetched rows) show
    the same attributes, options and SKUs, in the same order, inactive SKUs left out."""
    colour = {"name": "颜色", "name_en": "Colour", "options": [{"value": "蓝", "value_en": "Blue"},
                                                            {"value": "红", "value_en": "Red"}]}
    size = {"name": "尺码", "name_en": "Size", "options": [{"value": "L"}, {"value": "M"}, {"value": "S"}]}
    skus = [{"code": f"T-{c}-{z}", "price": price, "stock": stock, "options": [c, z], "is_active": active}
            for c, z, price, stock, active in [("红", "M", "10.00", 3, True), ("蓝", "L", "12.50", 0, True),
                                               ("红", "S", "9.90", 7, False), ("蓝", "M", "11.00", 1, True)]]
    created = api.post("/seller/products", {"category_id": f.make_category().pk, "title": "T 恤", "title_en": "Tee",
                                            "attributes": [colour, size], "skus": skus}, token=seller_token)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    seller_view = api.post(f"/seller/products/{pk}/publish", token=seller_token).json()

    public = api.get(f"/products/{pk}").json()

    assert public == seller_view
    assert [s["code"] for s in public["skus"]] == ["T-红-M", "T-蓝-L", "T-蓝-M"]
    assert [[o["value"] for o in s["options"]] for s in public["skus"]] == [["红", "M"], ["蓝", "L"], ["蓝", "M"]]
    assert [a["options"] for a in public["attributes"]] == [["蓝", "红"], ["L", "M", "S"]]


def test_a_kept_listing_costs_no_query_and_a_fresh_one_a_fixed_number(api, shop, kept, django_assert_num_queries):
    for _ in range(5):
        f.make_product(shop)
    with django_assert_num_queries(3):  # count, page, covers
        api.get("/products?page_size=2")
    with django_assert_num_queries(2):  # the count is kept per filter set: page, covers
        api.get("/products?page_size=2&page=2")
    with django_assert_num_queries(0):
        assert api.get("/products?page_size=2").status_code == 200


def test_the_openapi_documents_the_tags_the_304_and_keeps_the_bodies(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, schema in (("/api/v1/products", "ProductPage"), ("/api/v1/products/{product_id}", "ProductOut")):
        op = paths[path]["get"]
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(schema)
        assert set(op["responses"]["200"]["headers"]) == {"ETag", "Cache-Control"}
        assert "304" in op["responses"] and "If-None-Match" in op["description"]
