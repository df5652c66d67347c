"""Issue 10's search rest: ranking by reviews (kept current by review events),
attribute facets (values of one attribute ORed, attributes ANDed) whose counts
equal the filtered result counts (with the other filters too), the relaxed multi-word match, the catalogue API's `q` going
through the search, and odd attribute parameters (never a 500)."""

import re

import pytest

from shopyard.catalog.services import create_product
from shopyard.core.events import dispatch_pending
from shopyard.reviews import services as review_services
from shopyard.search.models import AttributeValue, SearchDocument
from shopyard.search.queries import Filters, search
from shopyard.search.services import attribute_of
from tests import factories as f

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


# --- rating ---------------------------------------------------------------------------------


def test_a_good_rating_ranks_an_equal_match_first_and_follows_hiding(shop, shopper, address):
    # given two products with the same words and no sales: the newer ranks first
    older = f.make_product(shop, title="评分台灯 护眼")
    newer = f.make_product(shop, title="评分台灯 护眼")
    dispatch_pending()
    assert search("评分台灯").ids == [newer.pk, older.pk]
    # when a buyer buys both and gives the older one five stars
    order = f.make_completed_order(shopper, address, [(older.skus.get(), 1), (newer.skus.get(), 1)])
    line = order.lines.get(sku__product=older)
    review = review_services.create_review(actor=shopper, order_id=order.pk, line_id=line.pk,
                                           rating=5, logistics=5, service=5, text="很亮")
    dispatch_pending()
    from shopyard.search.services import refresh_signals

    refresh_signals()
    assert set(SearchDocument.objects.filter(pk__in=[older.pk, newer.pk]).values_list("sales", flat=True)) == {1}
    # then the index holds its rating and it ranks first
    doc = SearchDocument.objects.get(pk=older.pk)
    assert (str(doc.rating), doc.reviews) == ("5.00", 1)
    assert search("评分台灯").ids == [older.pk, newer.pk]
    # and when an operator hides the review, the order is back
    review_services.hide_review(actor=f.make_user("mod", is_staff=True), review_id=review.pk, reason="广告")
    dispatch_pending()
    doc.refresh_from_db()
    assert (doc.rating, doc.reviews) == (None, 0)
    assert search("评分台灯").ids == [newer.pk, older.pk]


def test_a_bad_rating_ranks_lower_but_out_of_stock_stays_last(shop, shopper, address):
    bad = f.make_product(shop, title="差评水杯")
    plain = f.make_product(shop, title="差评水杯")
    gone = f.make_product(shop, title="差评水杯", stock=0)
    order = f.make_completed_order(shopper, address, [(bad.skus.get(), 1)])
    review_services.create_review(actor=shopper, order_id=order.pk, line_id=order.lines.get().pk,
                                  rating=1, logistics=1, service=1, text="漏水")
    dispatch_pending()
    assert search("差评水杯").ids == [plain.pk, bad.pk, gone.pk]


# --- attribute facets ---------------------------------------------------------------------------


def _tee(shop, title, variants, *, stock=5, price="59.00"):
    """A product with 颜色 × 尺码 SKUs: variants = [(colour, size), ...]."""
    colours = list(dict.fromkeys(c for c, _s in variants))
    sizes = list(dict.fromkeys(s for _c, s in variants))
    return create_product(actor=None, shop=shop, data={
        "category_id": f.make_category().pk, "title": title, "title_en": "", "description": "",
        "attributes": [{"name": "颜色", "name_en": "Colour", "options": [{"value": c, "value_en": ""} for c in colours]},
                       {"name": "尺码", "name_en": "Size", "options": [{"value": s, "value_en": s} for s in sizes]}],
        "skus": [{"code": f"T-{title}-{c}-{s}", "price": price, "stock": stock, "options": [c, s]} for c, s in variants],
        "publish": True})


@pytest.fixture
def tees(shop, other_shop):
    made = {
        "classic": _tee(shop, "纯棉短袖 经典", [("红色", "M"), ("红色", "L")]),
        "loose": _tee(other_shop, "纯棉短袖 宽松", [("红色", "M"), ("蓝色", "M")]),
        "kids": _tee(shop, "纯棉短袖 儿童", [("蓝色", "S")], stock=0),
        "plain": f.make_product(shop, title="纯棉短袖 男款"),
    }
    dispatch_pending()
    return made


def value_id(name, value):
    return AttributeValue.objects.get(name=name, value=value).pk


def attribute(pk):
    return attribute_of(AttributeValue.objects.get(pk=pk).key)


def in_place(chosen, pk) -> tuple:
    """The choice with `pk` in place of its attribute's chosen values: what a value's count promises."""
    return (*(c for c in chosen if attribute(c) != attribute(pk)), pk)


def test_attribute_facets_count_each_value_once_per_product_across_shops(tees):
    result = search("纯棉短袖")
    assert result.total == 4
    counts = {AttributeValue.objects.get(pk=pk).value: n for pk, n in result.facets["attributes"]}
    assert counts == {"红色": 2, "蓝色": 2, "M": 2, "L": 1, "S": 1}


@pytest.mark.parametrize("others", [{}, {"in_stock": True}, {"shop": "other"}, {"price": 2}])
def test_attribute_facet_counts_equal_the_filtered_result_counts_with_other_filters(tees, other_shop, others):
    if others.get("shop") == "other":
        others = {"shop": other_shop.pk}
    base = search("纯棉短袖", filters=Filters(**others))
    assert base.facets["attributes"]
    for pk, count in base.facets["attributes"]:
        narrowed = search("纯棉短袖", filters=Filters(**others, attributes=(pk,)))
        assert narrowed.total == count, (pk, others)
        # and within that value, each value's count is what it gives in place of its attribute's choice
        for pk2, count2 in narrowed.facets["attributes"]:
            assert search("纯棉短袖", filters=Filters(**others, attributes=in_place((pk,), pk2))).total == count2


CHOICES = [("红色",), ("红色", "蓝色"), ("红色", "M"), ("红色", "蓝色", "M"), ("蓝色", "红色", "L", "S"), ("蓝色", "L")]


@pytest.mark.parametrize("others", [{}, {"shop": "other"}])
@pytest.mark.parametrize("choice", CHOICES)
def test_with_attributes_chosen_every_facet_count_equals_the_results_it_gives(tees, other_shop, choice, others):
    if others.get("shop") == "other":
        others = {"shop": other_shop.pk}
    ids = {v.value: v.pk for v in AttributeValue.objects.all()}
    chosen = tuple(ids[v] for v in choice)
    result = search("纯棉短袖", filters=Filters(**others, attributes=chosen))
    if not result.total:
        assert result.facets == {}
        return
    counts = dict(result.facets["attributes"])
    # every chosen value is listed (to be unticked), and every value counts what it gives in place of
    # its attribute's choice: a colour's count ignores the chosen colours but keeps the chosen sizes
    assert set(chosen) <= set(counts)
    for pk, count in counts.items():
        assert search("纯棉短袖", filters=Filters(**others, attributes=in_place(chosen, pk))).total == count, pk
    # and the other facets count the results with the attributes chosen
    for key in ("shop", "price", "category"):
        for value, count in result.facets[key]:
            if value != others.get(key):
                narrowed = Filters(**{**others, key: value}, attributes=chosen)
                assert search("纯棉短袖", filters=narrowed).total == count, (key, value)
    assert search("纯棉短袖", filters=Filters(**others, attributes=chosen, in_stock=True)).total == (
        result.facets["in_stock"])


def test_values_of_one_attribute_give_the_union_and_attributes_the_intersection(tees):
    red, blue = value_id("颜色", "红色"), value_id("颜色", "蓝色")
    m, s_, large = value_id("尺码", "M"), value_id("尺码", "S"), value_id("尺码", "L")

    def found(*chosen):
        return sorted(search("纯棉短袖", filters=Filters(attributes=chosen)).ids)

    classic, loose, kids = tees["classic"].pk, tees["loose"].pk, tees["kids"].pk
    # red or blue: every product with either colour (not only the one that has both)
    assert found(red) == sorted([classic, loose]) and found(blue) == sorted([loose, kids])
    assert found(red, blue) == found(blue, red) == sorted([classic, loose, kids])
    # a colour and a size: both
    assert found(red, m) == sorted([classic, loose])
    assert found(blue, large) == []
    # (red or blue) and (L or S): the red L and the blue S, never red S
    assert found(red, blue, large, s_) == sorted([classic, kids])
    assert found(red, s_) == []


def test_a_chosen_value_no_result_has_is_still_listed_at_zero(tees):
    red, blue, large = value_id("颜色", "红色"), value_id("颜色", "蓝色"), value_id("尺码", "L")
    result = search("纯棉短袖", filters=Filters(attributes=(red, blue, large)))
    assert result.ids == [tees["classic"].pk]
    counts = dict(result.facets["attributes"])
    assert (counts[red], counts[blue], counts[large]) == (1, 0, 1)
    # M would give the red M and the blue M in place of L
    assert counts[value_id("尺码", "M")] == 2


def test_a_retired_sku_takes_its_values_out_of_the_facets(tees):
    from shopyard.catalog.models import Sku
    from shopyard.search import services

    Sku.objects.filter(product=tees["classic"], options__value="L").update(is_active=False)
    services.index_products(product_ids=[tees["classic"].pk])
    counts = {AttributeValue.objects.get(pk=pk).value: n for pk, n in search("纯棉短袖").facets["attributes"]}
    assert "L" not in counts and counts["红色"] == 2


def test_the_page_shows_attribute_facets_in_the_drawer_and_filters_by_them(client, tees):
    html = client.get("/search/", {"q": "纯棉短袖"}, **EN).content.decode()
    assert 'data-facet="attribute"' in html
    blue = value_id("颜色", "蓝色")
    link = re.search(r'href="([^"]*attr=' + str(blue) + r'[^"]*)"[^>]*>蓝色 <span class="facet-count">2</span>', html)
    assert link, html
    page = client.get("/search/" + link.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true", **EN)
    assert 'id="result-count">2 products' in page.content.decode()
    assert 'aria-current="true">蓝色' in page.content.decode()


def test_ticking_a_second_colour_in_the_drawer_widens_and_unticking_narrows(client, tees):
    # given the page with blue ticked: the colours are check boxes, red still shows its own 2
    blue = value_id("颜色", "蓝色")
    html = client.get("/search/", {"q": "纯棉短袖", "attr": str(blue)}, HTTP_HX_REQUEST="true", **EN).content.decode()
    colours = re.search(r'<section class="facet" data-facet="attribute" data-multiple="true">\s*'
                        r'<h2 class="facet-title">Colour .*?</section>', html, re.S)
    assert colours and 'class="facet-checks"' in colours.group(0), html
    red_link = re.search(r'href="([^"]*)"[^>]*>红色 <span class="facet-count">2</span>', colours.group(0))
    # when the shopper ticks red too: red or blue, three products
    page = client.get("/search/" + red_link.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true", **EN)
    html = page.content.decode()
    assert 'id="result-count">3 products' in html
    assert 'aria-current="true">红色' in html and 'aria-current="true">蓝色' in html
    # and unticking blue leaves red's two
    blue_link = re.search(r'href="([^"]*)"[^>]*aria-current="true">蓝色', html)
    page = client.get("/search/" + blue_link.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true", **EN)
    assert 'id="result-count">2 products' in page.content.decode()


def test_the_api_lists_attribute_facets_and_filters_with_other_filters(api, tees, other_shop):
    body = api.get("/search", data={"q": "纯棉短袖"}).json()
    facets = {(v["attribute"], v["name"], v["label"]): v["count"] for v in body["facets"]["attributes"]}
    assert facets == {("颜色", "Colour", "红色"): 2, ("颜色", "Colour", "蓝色"): 2, ("尺码", "Size", "M"): 2,
                      ("尺码", "Size", "L"): 1, ("尺码", "Size", "S"): 1}
    red = value_id("颜色", "红色")
    body = api.get(f"/search?q=纯棉短袖&attr={red}&shop={other_shop.pk}").json()
    assert [r["id"] for r in body["results"]] == [tees["loose"].pk]
    assert sorted(body["facets"]["attributes"], key=lambda v: v["id"]) == sorted([
        {"id": value_id("尺码", "M"), "attribute": "尺码", "name": "Size", "label": "M", "count": 1},
        {"id": red, "attribute": "颜色", "name": "Colour", "label": "红色", "count": 1},
        {"id": value_id("颜色", "蓝色"), "attribute": "颜色", "name": "Colour", "label": "蓝色", "count": 1},
    ], key=lambda v: v["id"])


def test_the_api_ors_two_values_of_one_attribute(api, tees):
    red, blue, m = value_id("颜色", "红色"), value_id("颜色", "蓝色"), value_id("尺码", "M")
    body = api.get(f"/search?q=纯棉短袖&attr={red}&attr={blue}").json()
    assert sorted(r["id"] for r in body["results"]) == sorted([tees["classic"].pk, tees["loose"].pk, tees["kids"].pk])
    # the colours count without the colour choice (each what it gives alone), the sizes with it
    counts = {v["label"]: v["count"] for v in body["facets"]["attributes"]}
    assert counts == {"红色": 2, "蓝色": 2, "M": 2, "L": 1, "S": 1}
    body = api.get(f"/search?q=纯棉短袖&attr={red}&attr={blue}&attr={m}").json()
    assert body["count"] == 2


@pytest.mark.parametrize("attr", ["abc", "0", "-3", "9" * 30, "1.5", "'; DROP TABLE x"])
def test_api_garbage_attribute_ids_are_422_with_the_field(api, tees, attr):
    resp = api.get("/search", data={"q": "纯棉短袖", "attr": attr})
    assert resp.status_code == 422
    assert "attr" in resp.content.decode()


def test_api_too_many_attribute_ids_is_422_and_a_foreign_one_finds_nothing(api, tees):
    assert api.get("/search?q=纯棉短袖&" + "&".join(f"attr={i}" for i in range(1, 12))).status_code == 422
    body = api.get("/search", data={"q": "纯棉短袖", "attr": 987654321}).json()
    assert (body["count"], body["results"]) == (0, [])
    # an id that names no value is no colour's alternative: it still finds nothing beside red
    body = api.get(f"/search?q=纯棉短袖&attr={value_id('颜色', '红色')}&attr=987654321").json()
    assert (body["count"], body["results"]) == (0, [])


@pytest.mark.parametrize("attr", ["abc", "0,-1,x", "9" * 40, ",,,", "1," * 400, "%", "'", "红色", "1e9"])
def test_odd_attribute_parameters_give_a_normal_page(client, tees, attr):
    resp = client.get("/search/", {"q": "纯棉短袖", "attr": attr}, **EN)
    assert resp.status_code == 200


# --- relaxed multi-word match -----------------------------------------------------------------


@pytest.fixture
def phones(shop):
    made = {
        "pro": f.make_product(shop, title="星光 Zephyr Quasar Pro 大屏"),
        "plain": f.make_product(shop, title="星光 Zephyr Quasar 大屏"),
        "mate": f.make_product(shop, title="星光 Mate Pro 大屏"),
    }
    dispatch_pending()
    return made


def test_when_no_product_has_every_word_most_words_match_ranked_by_how_many(phones):
    assert search("zephyr quasar pro").ids == [phones["pro"].pk]
    assert not search("zephyr quasar pro").relaxed
    result = search("星光 zephyr quasar pro wombat")
    assert result.ids == [phones["pro"].pk, phones["plain"].pk]  # 4 of 5 words, then 3 of 5; Mate has 2
    assert (result.relaxed, result.corrected, result.total) == (True, "", 2)
    # a plain one of two words is not "most": nothing relaxed
    assert search("星光 zzzz").total == 0
    # with one word the index lacks, the other three together are the query (Mate has only pro)
    exact = search("zephyr quasar pro wombat")
    assert (exact.ids, exact.relaxed) == ([phones["pro"].pk], True)


def test_relaxed_results_keep_the_filters_and_facets(phones):
    result = search("星光 zephyr quasar pro wombat", filters=Filters(price=2))
    assert result.total == 2 and sum(n for _v, n in result.facets["price"]) == 2
    assert search("星光 zephyr quasar pro wombat", filters=Filters(price=1)).total == 0


def test_relaxed_match_is_shown_on_the_page_and_in_the_api(client, api, phones):
    assert 'id="search-relaxed"' in client.get("/search/", {"q": "星光 zephyr quasar pro wombat"}, **EN).content.decode()
    body = api.get("/search", data={"q": "星光 zephyr quasar pro wombat"}).json()
    assert (body["relaxed"], body["count"]) == (True, 2)


def test_a_typo_still_falls_back_to_the_spelling_correction(phones):
    result = search("星光 zephyt")  # 星光 alone is half the words: not relaxed, corrected
    assert (result.relaxed, result.corrected, result.total) == (False, "星光 zephyr", 2)


# --- the catalogue API's old `q` ----------------------------------------------------------------


def test_products_with_words_are_redirected_to_the_search(api, search_catalogue):
    cat = search_catalogue["redmi"].category_id
    # given a client of the old naive filter
    resp = api.get("/products", data={"q": "shouji", "category": cat, "sort": "sales", "page_size": 5})
    # then it is sent, permanently and visibly deprecated, to the one search
    assert resp.status_code == 308
    assert resp["Location"] == f"/api/v1/search?q=shouji&category={cat}&sort=sales&page_size=5"
    assert resp["Deprecation"] == "true"
    # which finds the phones by pinyin (the old filter, title contains "shouji", found none)
    body = api.c.get(resp["Location"]).json()
    assert body["count"] == 5 and all("手机" in r["title"] for r in body["results"])


def test_products_with_words_and_a_price_bound_are_refused_with_the_field(api, search_catalogue):
    resp = api.get("/products", data={"q": "手机", "min_price": "10"})
    assert resp.status_code == 422 and list(resp.json()["fields"]) == ["min_price"]
    # and without words the listing is what it was
    listing = api.get("/products", data={"min_price": "10", "q": " "})
    assert listing.status_code == 200 and listing.json()["meta"]["count"] == 18


# --- one- and two-character suggestions -----------------------------------------------------------


def test_short_prefixes_are_suggested_from_the_precomputed_table(shop, django_assert_num_queries):
    from shopyard.catalog.services import record_sales
    from shopyard.search import queries, services
    from shopyard.search.models import SuggestPrefix

    # given three products whose words start with "sh", one a best-seller, one out of stock
    slow = f.make_product(shop, title="山茶 护手霜")
    star = f.make_product(shop, title="山茶 手机支架")
    gone = f.make_product(shop, title="山茶 沙发垫", stock=0)
    f.make_product(shop, title="电饭煲")
    record_sales(quantities={star.pk: 50, gone.pk: 500})
    dispatch_pending()
    services.refresh_signals()
    services.refresh_suggest_prefixes()
    # then "sh" and "s" and "山" offer them in stock first, then by sales, from one table look-up
    queries.suggest("x")  # warm the synonyms' cache
    with django_assert_num_queries(3):  # earlier queries, the prefix rows, the documents
        ids = [s["product_id"] for s in queries.suggest("sh")]
    assert ids == [star.pk, slow.pk, gone.pk]
    assert [s["product_id"] for s in queries.suggest("山")] == [star.pk, slow.pk, gone.pk]
    assert SuggestPrefix.objects.filter(prefix="s").count() == 3
    # when one is unpublished, it is gone at once (the next refresh drops its rows)
    from shopyard.catalog.services import set_published

    set_published(actor=None, shop=shop, product_id=star.pk, published=False)
    dispatch_pending()
    assert [s["product_id"] for s in queries.suggest("sh")] == [slow.pk, gone.pk]
    # and a longer prefix still searches the text index live
    assert [s["text"] for s in queries.suggest("shouj")] == []
    assert [s["product_id"] for s in queries.suggest("hush")] == [slow.pk]


def test_the_periodic_job_refreshes_the_prefix_table(shop):
    from django.core.cache import cache

    from shopyard.search import queries, services

    cache.delete(services.PREFIX_REFRESH_KEY)
    services.refresh_signals()
    new = f.make_product(shop, title="珊瑚绒毯")
    dispatch_pending()
    assert queries.suggest("sh") == []  # not yet in the table
    cache.delete(services.PREFIX_REFRESH_KEY)
    services.refresh_signals()
    assert [s["product_id"] for s in queries.suggest("sh")] == [new.pk]
