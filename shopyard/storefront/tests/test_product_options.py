"""The product page's option picker: one choice per attribute, combinations
that are sold out or do not exist shown disabled, the chosen SKU's price,
stock and code rendered by the server (no JavaScript needed), and the
specifications table; the option matrix and the page cost a fixed number of
queries."""

import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from shopyard.catalog.models import AttributeOption, Brand, Sku
from shopyard.catalog.queries import option_matrix, option_states, product_rows, resolve_selection
from shopyard.catalog.services import (
    attach_image_bytes,
    create_product,
    delete_image,
    set_sku_image,
)
from tests import factories as f

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = pytest.mark.usefixtures("media")

# 颜色 × 尺码 with a sold-out pair (红/M) and two that do not exist (蓝/M, 绿/S)
TEE_SKUS = [
    ("TEE-RS", "59.00", 3, ["红色", "S"]),
    ("TEE-RM", "69.00", 0, ["红色", "M"]),
    ("TEE-BS", "79.00", 5, ["蓝色", "S"]),
    ("TEE-GM", "89.00", 2, ["绿色", "M"]),
]


def make_tee(shop, *, brand=None, skus=TEE_SKUS, title="纯棉T恤"):
    category = f.make_category("T恤", parent=f.make_category("服装"))
    return create_product(actor=None, shop=shop, data={
        "category_id": category.pk, "brand_id": brand.pk if brand else None, "title": title,
        "title_en": "Cotton tee", "publish": True,
        "attributes": [
            {"name": "颜色", "name_en": "Colour", "options": [
                {"value": "红色", "value_en": "Red"}, {"value": "蓝色", "value_en": "Blue"},
                {"value": "绿色", "value_en": "Green"}]},
            {"name": "尺码", "name_en": "Size", "options": [{"value": "S", "value_en": "S"}, {"value": "M", "value_en": "M"}]},
        ],
        "skus": [{"code": c, "price": p, "stock": s, "options": o} for c, p, s, o in skus],
    })


def opt(product, value) -> AttributeOption:
    return AttributeOption.objects.get(attribute__product=product, value=value)


def attr_id(product, name) -> int:
    return product.attributes.get(name=name).pk


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def chips(html: str) -> dict[int, dict]:
    parser = _Tags()
    parser.feed(html)
    return {int(a["data-option"]): a for t, a in parser.tags if t == "a" and "data-option" in a}


def sent_sku(html: str) -> int:
    parser = _Tags()
    parser.feed(html)
    return next(int(a["value"]) for t, a in parser.tags if t == "input" and a.get("name") == "sku_id")


def summary(html: str) -> dict[str, str]:
    """What the selected-SKU box shows: price, stock and code."""
    return {key: re.search(rf"<(dd|span)[^>]*data-sku-{key}>([^<]*)</(dd|span)>", html).group(2)
            for key in ("price", "stock", "code")}


def states_by_value(product, html) -> dict[str, str]:
    found = chips(html)
    return {o.value: found[o.pk]["data-state"]
            for o in AttributeOption.objects.filter(attribute__product=product)}


def page(client, product, query=""):
    return client.get(f.product_url(product) + query, **EN).content.decode()


# --- the matrix ----------------------------------------------------------------


def test_option_states_disable_sold_out_and_missing_combinations(shop):
    product = make_tee(shop)
    matrix = option_matrix(product_rows(product.pk))
    colour, size = attr_id(product, "颜色"), attr_id(product, "尺码")
    red, blue, green, s, m = (opt(product, v).pk for v in ("红色", "蓝色", "绿色", "S", "M"))

    # given red chosen: M exists only sold out; given S: green does not exist
    assert option_states(matrix, {colour: red, size: s}) == {
        red: "available", blue: "available", green: "missing", s: "available", m: "sold_out",
    }
    # given blue and M (impossible together): red pairs with M only sold out, blue with S only
    assert option_states(matrix, {colour: blue, size: m}) == {
        red: "sold_out", blue: "missing", green: "available", s: "available", m: "missing",
    }


def test_selection_completes_a_partial_choice_with_a_sku_in_stock(shop):
    product = make_tee(shop)
    matrix = option_matrix(product_rows(product.pk))
    colour, size = attr_id(product, "颜色"), attr_id(product, "尺码")
    red, green, m = opt(product, "红色").pk, opt(product, "绿色").pk, opt(product, "M").pk

    def code(**kw):
        return resolve_selection(matrix, **kw)[0]["sku"].code

    assert code() == "TEE-RS"  # nothing chosen: the first SKU in stock
    assert code(chosen={colour: green}) == "TEE-GM"
    assert code(chosen={size: m}) == "TEE-GM"  # M in stock is green, red/M is sold out
    assert code(chosen={colour: red, size: m}) == "TEE-RM"  # an exact choice stays, even sold out
    assert code(chosen={colour: 999999, size: 999999}) == "TEE-RS"  # foreign pairs are ignored
    assert resolve_selection(matrix, chosen={colour: green})[1] == {colour: green, size: m}


def test_option_matrix_costs_the_same_queries_for_one_or_many_skus(shop, django_assert_num_queries):
    one = f.make_product(shop, skus=[("10.00", 1)])
    many = f.make_product(shop, skus=[(f"{10 + i}.00", i) for i in range(12)])
    tee = make_tee(shop)
    # the product with its pictures and attributes, its SKUs with their stock and options
    with django_assert_num_queries(2):
        assert len(option_matrix(product_rows(one.pk))["skus"]) == 1
    with django_assert_num_queries(2):
        assert len(option_matrix(product_rows(many.pk))["skus"]) == 12
    with django_assert_num_queries(2):
        assert len(option_matrix(product_rows(tee.pk))["skus"]) == 4


# --- the page without JavaScript --------------------------------------------------


def test_page_preselects_the_first_sku_in_stock_and_disables_the_rest(client, shop):
    product = make_tee(shop)

    html = page(client, product)

    assert summary(html) == {"price": "¥59.00", "stock": "3 in stock", "code": "TEE-RS"}
    assert sent_sku(html) == Sku.objects.get(code="TEE-RS").pk
    assert states_by_value(product, html) == {
        "红色": "available", "蓝色": "available", "绿色": "missing", "S": "available", "M": "sold_out",
    }
    found = chips(html)
    assert found[opt(product, "M").pk]["aria-disabled"] == "true"
    assert "href" not in found[opt(product, "M").pk]  # sold out: not a link, it cannot be chosen
    # no green/S: still a link (choosing it starts a new choice), so not disabled
    assert "aria-disabled" not in found[opt(product, "绿色").pk] and found[opt(product, "绿色").pk]["href"]
    assert found[opt(product, "红色").pk]["aria-current"] == "true"
    assert "aria-current" not in found[opt(product, "蓝色").pk]


def test_option_links_select_the_sku_server_side(client, shop):
    product = make_tee(shop)
    colour, size = attr_id(product, "颜色"), attr_id(product, "尺码")
    blue, green = opt(product, "蓝色").pk, opt(product, "绿色").pk

    html = page(client, product)
    # the link of blue keeps the chosen size; green (no green/S) starts a new choice
    assert chips(html)[blue]["href"].replace("&amp;", "&") == f"?opt={colour}%3A{blue}&opt={size}%3A{opt(product, 'S').pk}"
    assert chips(html)[green]["href"] == f"?opt={colour}%3A{green}"

    html = page(client, product, f"?opt={colour}:{green}")

    assert summary(html) == {"price": "¥89.00", "stock": "2 in stock", "code": "TEE-GM"}
    assert sent_sku(html) == Sku.objects.get(code="TEE-GM").pk
    assert states_by_value(product, html) == {
        "红色": "sold_out", "蓝色": "missing", "绿色": "available", "S": "missing", "M": "available",
    }


def test_sku_parameter_selects_a_sold_out_sku_that_cannot_be_added(client, shop):
    product = make_tee(shop)
    sold_out = Sku.objects.get(code="TEE-RM")

    html = page(client, product, f"?sku={sold_out.pk}")

    assert summary(html) == {"price": "¥69.00", "stock": "Out of stock", "code": "TEE-RM"}
    assert sent_sku(html) == sold_out.pk
    assert "data-add-button disabled>Out of stock</button>" in html


@pytest.mark.parametrize("query", ["?sku=abc", "?sku=999999", "?opt=1", "?opt=x:y", "?opt=:&sku=-1", "?sku=²"])
def test_garbage_selection_falls_back_to_the_default_sku(client, shop, query):
    product = make_tee(shop)
    response = client.get(f.product_url(product) + query, **EN)
    assert response.status_code == 200
    assert summary(response.content.decode())["code"] == "TEE-RS"


def test_another_products_sku_is_not_selected(client, shop):
    product = make_tee(shop)
    other = f.make_product(shop, price="5.00")
    html = page(client, product, f"?sku={other.skus.get().pk}")
    assert summary(html)["code"] == "TEE-RS"


def test_embedded_matrix_lists_every_sku_with_its_options_in_attribute_order(client, shop):
    product = make_tee(shop)
    html = page(client, product)
    data = json.loads(re.search(r'<script id="sku-matrix" type="application/json">(.*?)</script>', html, re.S).group(1))
    ids = {o.value: o.pk for o in AttributeOption.objects.filter(attribute__product=product)}
    assert [(s["code"], s["price"], s["stock"], s["options"], s["name"]) for s in data["skus"]] == [
        (c, f"¥{p}", n, [ids[v] for v in o], " / ".join({"红色": "Red", "蓝色": "Blue", "绿色": "Green"}.get(v, v) for v in o))
        for c, p, n, o in TEE_SKUS
    ]
    assert [a["id"] for a in data["attributes"]] == [attr_id(product, "颜色"), attr_id(product, "尺码")]
    assert '<script src="/static/shopyard/product.js" defer></script>' in html


def test_product_page_costs_a_fixed_number_of_queries(client, shop, settings):
    settings.PAGE_CACHE_SECONDS = 0
    single = f.make_product(shop, skus=[("10.00", 1)])
    tee = make_tee(shop)
    for product in (single, tee):  # warm the cached category tree
        client.get(f.product_url(product))

    green_m = Sku.objects.get(code="TEE-GM").pk
    with CaptureQueriesContext(connection) as one:
        client.get(f.product_url(single))
    with CaptureQueriesContext(connection) as many:
        client.get(f.product_url(tee) + f"?sku={green_m}")

    # 2 (the product with its shop, category path, pictures and attributes with options, and whether it
    # has answered questions, group buys or flash sales, none here, with its review rating for the
    # structured data; its SKUs with stock and options), plus the shop's and the platform's published
    # promotions, and the view's behaviour event, inserted once the response is sent (analytics)
    assert len(one) == len(many) == 4


# --- specifications -----------------------------------------------------------------


def test_specifications_table_shows_brand_category_attributes_and_selected_code(client, shop):
    brand = Brand.objects.create(name="优衣库", name_en="Uniqlo")
    product = make_tee(shop, brand=brand)

    html = page(client, product, f"?sku={Sku.objects.get(code='TEE-BS').pk}")

    table = re.search(r'<table class="table spec-table"><tbody>(.*?)</tbody></table>', html, re.S).group(1)
    rows = [(th, re.sub(r"\s+", " ", td).strip())
            for th, td in re.findall(r'<th scope="row">([^<]*)</th><td[^>]*>(.*?)</td>', table, re.S)]
    assert rows == [
        ("Brand", "Uniqlo"),
        ("Category", f"{product.category.parent.name_en} › {product.category.name_en}"),
        ("Colour", "Red · Blue · Green"),
        ("Size", "S · M"),
        ("SKU code", "TEE-BS"),
    ]


# --- the SKU's own picture -------------------------------------------------------


def _picture(product, colour):
    out = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(out, "PNG")
    return attach_image_bytes(product=product, data=out.getvalue(), ext="png")


def test_seller_sets_a_sku_image_that_follows_the_choice(client, api, seller_token, shop):
    product = make_tee(shop)
    first, green_picture = _picture(product, (255, 0, 0)), _picture(product, (0, 255, 0))
    green = Sku.objects.get(code="TEE-GM")

    response = api.put(f"/seller/products/{product.pk}/skus/{green.pk}/image", {"image_id": green_picture.pk},
                       token=seller_token)

    assert response.status_code == 204
    green.refresh_from_db()
    assert green.image_id == green_picture.pk
    html = page(client, product, f"?sku={green.pk}")
    thumb = green_picture.thumbnail.url
    assert f'data-sku-image src="{thumb}"' in html
    data = json.loads(re.search(r'<script id="sku-matrix" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert [(s["code"], s["image"], s["slide"]) for s in data["skus"]] == [
        ("TEE-RS", "", ""), ("TEE-RM", "", ""), ("TEE-BS", "", ""), ("TEE-GM", thumb, "img-2"),
    ]
    assert first.pk != green_picture.pk
    # a SKU without its own picture shows none
    assert re.search(r'<img class="sku-image" data-sku-image alt="[^"]*" width="72" height="72" hidden>', page(client, product, f"?sku={Sku.objects.get(code='TEE-RS').pk}"))


def test_sku_image_must_be_one_of_the_products_images(api, seller_token, shop, other_shop):
    product = make_tee(shop)
    elsewhere = f.make_product(shop)
    foreign_picture = _picture(elsewhere, (0, 0, 255))
    theirs = f.make_product(other_shop)
    green = Sku.objects.get(code="TEE-GM")
    url = f"/seller/products/{product.pk}/skus/{green.pk}/image"

    assert api.put(url, {"image_id": foreign_picture.pk}, token=seller_token).status_code == 404
    assert api.put(url, {"image_id": "abc"}, token=seller_token).status_code == 422
    other_sku = theirs.skus.get().pk
    assert api.put(f"/seller/products/{product.pk}/skus/{other_sku}/image", {"image_id": None},
                   token=seller_token).status_code == 404
    assert api.put(f"/seller/products/{theirs.pk}/skus/{other_sku}/image", {"image_id": None},
                   token=seller_token).status_code == 404
    assert list(Sku.objects.filter(image__isnull=False)) == []


def test_deleting_the_image_leaves_the_sku_without_one(shop, seller):
    product = make_tee(shop)
    picture = _picture(product, (0, 255, 0))
    green = Sku.objects.get(code="TEE-GM")
    set_sku_image(actor=seller, shop=shop, product_id=product.pk, sku_id=green.pk, image_id=picture.pk)

    delete_image(actor=seller, shop=shop, product_id=product.pk, image_id=picture.pk)

    green.refresh_from_db()
    assert green.image_id is None
