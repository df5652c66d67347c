"""Search: what the index returns (only visible products, kept current by events),
Chinese, pinyin, initials, synonyms and typos, facets whose counts equal the
filtered results, sorts, suggestions, the search log, the storefront page and the
API, and odd input that must give a normal page (never a 500)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from shopyard.catalog.models import Product
from shopyard.catalog.services import set_published, update_product
from shopyard.core.errors import ValidationFailed
from shopyard.core.events import dispatch_pending
from shopyard.inventory.services import set_stock
from shopyard.search import queries, services
from shopyard.search.models import DictionaryWord, QueryStat, SearchDocument, SearchLog, Synonym
from shopyard.search.queries import Filters, search
from shopyard.shops import services as shop_services
from tests import factories as f

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def titles(result) -> list[str]:
    by_id = dict(Product.objects.filter(pk__in=result.ids).values_list("pk", "title"))
    return [by_id[i] for i in result.ids]


def card_titles(resp) -> list[str]:
    return re.findall(r'<h3 class="product-title">([^<]*)</h3>', resp.content.decode())


# --- words ---------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["手机", "shouji", "sj", "SHOUJI", "mobile phone", "smartphones"])
def test_chinese_pinyin_initials_and_synonyms_find_phones(search_catalogue, q):
    result = search(q)
    assert {titles(result)[i] for i in range(4)} == {
        "苹果 iPhone 15 Pro 256GB 手机", "苹果 iPhone 14 128GB 手机", "华为 Mate 60 Pro 智能手机", "小米 Redmi Note 13 手机"}


def test_erji_finds_earphones_which_the_old_search_did_not(search_catalogue):
    assert set(titles(search("erji"))) == {"苹果 AirPods Pro 无线蓝牙耳机", "索尼 WH-1000XM5 头戴式降噪耳机",
                                           "小米 蓝牙耳机 Buds 4", "小米 蓝牙音箱"}  # the last: category 耳机音响
    assert titles(search("erji"))[:3] != ["小米 蓝牙音箱"]


def test_a_typo_is_corrected_from_the_indexed_words(search_catalogue):
    result = search("kettel")
    assert titles(result) == ["美的 电热水壶"]
    assert result.corrected == "kettl"


def test_a_homophone_typo_in_chinese_finds_by_pinyin(search_catalogue):
    result = search("耳鸡")
    assert titles(result)[0] in {"苹果 AirPods Pro 无线蓝牙耳机", "索尼 WH-1000XM5 头戴式降噪耳机", "小米 蓝牙耳机 Buds 4"}
    assert result.corrected == "erji"


def test_an_operator_synonym_is_expanded_at_query_time(search_catalogue, seller):
    assert search("jacket").total == 1
    assert search("parka").total == 0
    services.save_synonyms(actor=seller, terms="parka, 羽绒服")
    from django.core.cache import cache

    cache.clear()
    assert titles(search("parka")) == ["冬季加厚羽绒服"]


def test_an_operator_dictionary_word_keeps_a_brand_whole(shop, seller):
    # given a product whose brand jieba splits
    f.make_product(shop, title="酷飒星 运动水壶")
    dispatch_pending()
    assert search("酷飒星").total == 1  # split into pieces, all present
    # when the operator adds the brand to the dictionary and the index is rebuilt
    services.save_dictionary_word(actor=seller, word="酷飒星")
    from shopyard.search import text

    text.dictionary_changed()
    services.rebuild_index()
    # then the brand is one word, with its own pinyin initials
    assert "酷飒星" in SearchDocument.objects.get().title_terms.split()
    assert search("ksx").total == 1


@pytest.mark.parametrize("bad", ["", " ", "x", "\u3000"])
def test_bad_dictionary_words_are_refused_and_nothing_is_saved(seller, bad):
    with pytest.raises(ValidationFailed) as err:
        services.save_dictionary_word(actor=seller, word=bad * 60 if bad == "x" else bad)
    assert "word" in err.value.fields
    assert DictionaryWord.objects.count() == 0


def test_a_synonym_group_needs_two_terms(seller):
    with pytest.raises(ValidationFailed) as err:
        services.save_synonyms(actor=seller, terms="手机")
    assert "terms" in err.value.fields
    assert Synonym.objects.count() == 0


# --- visibility and freshness ----------------------------------------------------------------


def test_hidden_products_never_come_back(shop, other_shop, seller, home_operator):
    # given three phones: one to unpublish, one in a shop to suspend, one draft
    kept = f.make_product(shop, title="可见手机")
    unpublished = f.make_product(shop, title="下架手机")
    f.make_product(shop, title="草稿手机", publish=False)
    f.make_product(other_shop, title="封店手机")
    dispatch_pending()
    assert search("手机").total == 3
    # when one is unpublished and the other shop is suspended (events delivered after commit)
    set_published(actor=seller, shop=shop, product_id=unpublished.pk, published=False)
    shop_services.suspend_shop(actor=home_operator, shop_id=other_shop.pk, reason="投诉 / complaints")
    dispatch_pending()
    # then only the visible one is found, in results and facets alike
    result = search("手机")
    assert titles(result) == ["可见手机"]
    assert result.facets["shop"] == [(shop.pk, 1)]
    assert SearchDocument.objects.filter(is_visible=True).count() == 1
    assert SearchDocument.objects.get(pk=kept.pk).is_published


def test_a_stale_document_still_shows_no_hidden_product(client, shop, seller):
    # given an indexed phone, then unpublished while its event waits undelivered
    phone = f.make_product(shop, title="滞后手机")
    dispatch_pending()
    Product.objects.filter(pk=phone.pk).update(status=Product.Status.DRAFT)
    # then the page loads the products through the visibility rule and shows none
    assert card_titles(client.get("/search/", {"q": "手机"}, **EN)) == []


def test_stock_and_edits_reach_the_index(shop, seller):
    phone = f.make_product(shop, title="旧名字手机", stock=3)
    dispatch_pending()
    assert SearchDocument.objects.get(pk=phone.pk).in_stock
    set_stock(sku=phone.skus.get(), quantity=0)
    data = {"title": "新名字耳机", "title_en": "new", "category_id": phone.category_id, "description": "",
            "attributes": [], "skus": [{"code": phone.skus.get().code, "price": "10", "stock": 0, "options": []}]}
    update_product(actor=seller, shop=shop, product_id=phone.pk, data=data)
    dispatch_pending()
    doc = SearchDocument.objects.get(pk=phone.pk)
    assert (doc.in_stock, doc.title) == (False, "新名字耳机")
    assert search("耳机").total == 1 and search("旧名字").total == 0


def test_sales_and_stock_sold_through_orders_are_refreshed_by_the_periodic_job(shop):
    phone = f.make_product(shop, title="畅销手机", stock=2)
    dispatch_pending()
    from shopyard.catalog.services import record_sales
    from shopyard.inventory.models import StockLevel

    record_sales(quantities={phone.pk: 7})
    StockLevel.objects.filter(sku__product=phone).update(quantity=0)
    assert services.refresh_signals() == 2
    doc = SearchDocument.objects.get(pk=phone.pk)
    assert (doc.sales, doc.in_stock) == (7, False)
    assert services.refresh_signals() == 0


def test_rebuild_command_indexes_every_product(search_catalogue):
    SearchDocument.objects.all().delete()
    out = StringIO()
    call_command("rebuild_search_index", stdout=out)
    assert out.getvalue().startswith("indexed 18 products")
    assert search("shouji").total == 5


# --- facets, sorts, ranking ------------------------------------------------------------------


def test_facet_counts_equal_the_filtered_result_counts(search_catalogue):
    result = search("xiaomi")
    assert result.total == 4
    for key in ("category", "brand", "shop", "price"):
        assert result.facets[key], key
        for value, count in result.facets[key]:
            assert search("xiaomi", filters=Filters(**{key: value})).total == count, (key, value)
    assert search("xiaomi", filters=Filters(in_stock=True)).total == result.facets["in_stock"]
    assert search("xiaomi", filters=Filters(on_promotion=True)).total == result.facets["on_promotion"] == 0
    # and within a filter, the other facets count the filtered results
    audio = search("xiaomi", filters=Filters(category=search_catalogue["xiaomibuds"].category_id))
    assert audio.total == 2
    assert sum(n for _v, n in audio.facets["price"]) == 2


def test_sorts_and_out_of_stock_last(search_catalogue):
    set_stock(sku=search_catalogue["redmi"].skus.get(), quantity=0)
    dispatch_pending()
    by_price = titles(search("手机", sort="price_asc"))
    assert by_price == ["透明硅胶手机壳", "苹果 iPhone 14 128GB 手机", "华为 Mate 60 Pro 智能手机",
                        "苹果 iPhone 15 Pro 256GB 手机", "小米 Redmi Note 13 手机"]
    assert titles(search("手机", sort="price_desc"))[0] == "苹果 iPhone 15 Pro 256GB 手机"
    assert titles(search("手机", sort="sales"))[0] == "透明硅胶手机壳"
    assert titles(search("手机"))[-1] == "小米 Redmi Note 13 手机"
    assert titles(search("手机", sort="newest"))[0] == "透明硅胶手机壳"


def test_pages_past_the_end_are_empty(search_catalogue):
    first = search("手机", per_page=2)
    assert (first.total, first.pages, len(first.ids)) == (5, 3, 2)
    assert search("手机", per_page=2, page=3).ids != []
    past = search("手机", per_page=2, page=4)
    assert (past.total, past.ids) == (5, [])


# --- suggestions and the log -----------------------------------------------------------------


def test_suggestions_are_pinyin_aware_and_include_top_queries(search_catalogue):
    services.log_search(query="手机壳", results=1)
    services.log_search(query="手机壳", results=1)
    services.log_search(query="没有的东西", results=0)
    texts = [s["text"] for s in queries.suggest("shou")]
    assert texts[0] == "手机壳"
    assert "Xiaomi Redmi Note 13 mobile phone" in texts
    assert "没有的东西" not in [s["text"] for s in queries.suggest("")]
    assert [s["text"] for s in queries.suggest("dianfan")] == ["Midea smart rice cooker 4L"]


def test_the_page_logs_the_search_and_the_click_position(client, search_catalogue):
    # given a search from the storefront
    page = client.get("/search/", {"q": "电饭煲"}, **EN)
    entry = SearchLog.objects.get()
    assert (entry.query, entry.results) == ("电饭煲", 1)
    link = re.search(r'class="product-card-link" href="([^"]+)"', page.content.decode()).group(1).replace("&amp;", "&")
    # when the shopper clicks the first result
    resp = client.get(link)
    # then the click and its position are recorded and the shopper lands on the product's canonical URL
    assert resp.status_code == 302 and resp["Location"] == f.product_url(search_catalogue["ricecooker"])
    entry.refresh_from_db()
    assert (entry.clicked_product_id, entry.click_position) == (search_catalogue["ricecooker"].pk, 1)
    stat = QueryStat.objects.get(query="电饭煲")
    assert (stat.searches, stat.zero_results, stat.clicks) == (1, 0, 1)


def test_a_click_link_not_signed_by_the_results_page_records_nothing(client, search_catalogue):
    entry = services.log_search(query="电饭煲", results=1)
    resp = client.get(f"/search/click/{entry.pk}/?p={search_catalogue['ricecooker'].pk}&pos=1&s=forged")
    assert resp.status_code == 302
    entry.refresh_from_db()
    assert (entry.clicked_at, QueryStat.objects.get().clicks) == (None, 0)


def test_zero_result_queries_are_counted(client, search_catalogue):
    client.get("/search/", {"q": "完全不存在"}, **EN)
    client.get("/search/", {"q": "完全不存在"}, **EN)
    stat = QueryStat.objects.get(query="完全不存在")
    assert (stat.searches, stat.zero_results) == (2, 2)


# --- pages and API ---------------------------------------------------------------------------


def test_the_search_page_has_one_search_box_facets_and_results(client, search_catalogue):
    html = client.get("/search/", {"q": "erji"}, **EN).content.decode()
    assert html.count('type="search"') == 1
    assert 'id="filter-drawer"' in html and 'data-facet="category"' in html
    assert card_titles(client.get("/search/", {"q": "erji"}, **EN))[:1] != []


def test_the_no_results_page_suggests_popular_products_and_queries(client, search_catalogue):
    services.log_search(query="耳机", results=3)
    page = client.get("/search/", {"q": "zzzzqqqq"}, **EN)
    html = page.content.decode()
    assert 'id="no-results"' in html and "Popular products" in html
    assert card_titles(page)[0] == "Clear silicone phone case"  # the best seller in stock
    assert ">耳机</a>" in html


def test_facet_links_narrow_the_page_and_htmx_gets_the_panel(client, search_catalogue):
    cat = search_catalogue["sonyxm5"].category_id
    full = client.get("/search/", {"q": "xiaomi", "category": cat}, **EN)
    assert sorted(card_titles(full)) == ["Xiaomi Bluetooth speaker", "Xiaomi Buds 4 Bluetooth earphones"]
    panel = client.get("/search/", {"q": "xiaomi", "category": cat}, HTTP_HX_REQUEST="true", **EN)
    assert panel.content.decode().startswith('<div id="search-results">')


def test_the_search_page_costs_fixed_queries(client, search_catalogue, django_assert_max_num_queries):
    client.get("/search/", {"q": "手机"}, **EN)  # warm the session and caches
    # count, match, log (3), products, covers, promotions, 3 facet labels, session,
    # and the search's behaviour event (analytics, after the response)
    with django_assert_max_num_queries(14):
        resp = client.get("/search/", {"q": "xiaomi", "sort": "sales"}, **EN)
    assert len(card_titles(resp)) == 4


def test_suggest_page_lists_links(client, search_catalogue):
    html = client.get("/search/suggest/", {"q": "shou"}, **EN).content.decode()
    assert 'class="search-suggest"' in html and "/p/" in html


def test_api_search_with_facets_and_sort(api, search_catalogue):
    body = api.get("/search", data={"q": "xiaomi", "sort": "price_asc", "in_stock": "true"}).json()
    assert body["count"] == 4
    assert [r["title"] for r in body["results"]] == ["小米 蓝牙音箱", "小米 空气炸锅", "小米 蓝牙耳机 Buds 4",
                                                     "小米 Redmi Note 13 手机"]
    assert body["facets"]["brand"] == [{"id": search_catalogue["redmi"].brand_id, "label": "Xiaomi", "count": 4}]
    assert body["facets"]["in_stock"] == 4
    assert {v["label"] for v in body["facets"]["price"]} == {"100–200", "200–500", "1000–2000"}


def test_api_suggest(api, search_catalogue):
    body = api.get("/search/suggest", data={"q": "dianfan"}).json()
    assert body["suggestions"] == [{"kind": "product", "text": "Midea smart rice cooker 4L",
                                    "product_id": search_catalogue["ricecooker"].pk}]


# --- odd input ---------------------------------------------------------------------------------

ODD = ['"', '""', "*", "手机*", "OR", "NEAR", "phone OR case", "NEAR(a b)", "'", "' OR 1=1 --", "-", "-手机", ":",
       "title:手机", "{title}: x", "^", "(", ")", "AND NOT", "\\", "%", "_", "\u3000", "😀", "x" * 300, "手机" * 150,
       "a" * 65]


@pytest.mark.parametrize("q", ODD)
def test_odd_queries_give_a_normal_page_never_an_error(client, api, search_catalogue, q):
    page = client.get("/search/", {"q": q}, **EN)
    assert page.status_code == 200
    body = api.get("/search", data={"q": q})
    assert body.status_code == 200
    assert api.get("/search/suggest", data={"q": q}).status_code == 200
    assert client.get("/search/suggest/", {"q": q}).status_code == 200


def test_an_empty_query_gives_the_prompt_and_no_results(client, api, search_catalogue):
    assert "Search the shops" in client.get("/search/", {"q": ""}, **EN).content.decode()
    assert api.get("/search", data={"q": ""}).json()["count"] == 0


@pytest.mark.parametrize("params", [{"page": "999"}, {"page": "abc"}, {"page": "-1"}, {"category": "x"},
                                    {"price": "99"}, {"brand": "9" * 30}, {"sort": "bogus"}, {"sl": "nope"}])
def test_odd_parameters_give_a_normal_page(client, search_catalogue, params):
    resp = client.get("/search/", {"q": "手机", **params}, **EN)
    assert resp.status_code == 200


def test_api_page_past_the_end_is_empty_and_bad_parameters_are_422(api, search_catalogue):
    body = api.get("/search", data={"q": "手机", "page": 50}).json()
    assert (body["count"], body["results"]) == (5, [])
    assert api.get("/search", data={"q": "手机", "sort": "bogus"}).status_code == 422
    assert api.get("/search", data={"q": "手机", "price": 99}).status_code == 422


def test_long_queries_are_cut_to_200_characters(search_catalogue):
    assert search("手机" + " " * 10 + "x" * 500).q == ("手机 " + "x" * 500)[:200]
    assert search("手机").q == "手机"


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_indexing_one_product_at_once_both_succeed(transactional_db):
    import threading

    from django.db import connection

    # given a published product not yet indexed
    shop = f.make_shop()
    phone = f.make_product(shop, title="并发手机")
    SearchDocument.objects.all().delete()
    barrier, errors = threading.Barrier(4), []

    def index():
        try:
            barrier.wait(timeout=10)
            services.index_products(product_ids=[phone.pk])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    # when four event deliveries index it at the same instant
    threads = [threading.Thread(target=index) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # then none failed, and there is one document that the search finds
    assert errors == []
    assert list(SearchDocument.objects.values_list("product_id", flat=True)) == [phone.pk]
    assert search("并发手机").ids == [phone.pk]
