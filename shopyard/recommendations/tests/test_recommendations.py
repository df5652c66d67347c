"""Recommendations: co-occurrence with a minimum support and a cosine that does
not just repeat the best-seller, the personalised feed and its fallbacks,
visibility (never a hidden product, never the product itself), the periodic
recompute, the API's answers to bad input and the blocks on the pages."""

import itertools
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from shopyard.analytics.models import BehaviourEvent
from shopyard.catalog.models import Sku
from shopyard.catalog.services import set_published
from shopyard.recommendations import algorithms, queries, services
from shopyard.recommendations.algorithms import Event
from shopyard.recommendations.models import ProductNeighbour
from shopyard.shops.services import suspend_shop
from tests import factories as f

pytestmark = pytest.mark.django_db


SHOPPERS = itertools.count(1)


def bought(*baskets, at=None):
    """Each basket is a new shopper's purchases (product objects)."""
    at = at or timezone.now() - timedelta(days=1)
    BehaviourEvent.objects.bulk_create([
        BehaviourEvent(kind="purchase", visitor=f"{n:032x}", product_id=p.pk, created_at=at)
        for basket in baskets for n in [next(SHOPPERS)] for p in basket])


def ids(products):
    return [p.pk for p in products]


# --- the algorithm ------------------------------------------------------------------


def test_a_pair_needs_the_minimum_support():
    once = {"s1": [1, 2], "s2": [3, 4], "s3": [3, 4]}
    table = algorithms.co_occurrence(once, min_support=2)
    assert 1 not in table and 2 not in table  # one shopper is not a pattern
    assert table[3] == [(4, 1.0, 2)] and table[4] == [(3, 1.0, 2)]


def test_the_best_seller_that_goes_with_everything_tops_no_list():
    # every shopper buys the best-seller 99; pairs (1,2), (3,4), (5,6) go together
    shoppers = {}
    for n, pair in enumerate([(1, 2)] * 3 + [(3, 4)] * 3 + [(5, 6)] * 3):
        shoppers[f"s{n}"] = [*pair, 99]
    table = algorithms.co_occurrence(shoppers)
    # a raw count would tie 99 with the partner (3 each) and break ties to the best-seller's favour nowhere:
    # the cosine ranks the partner first, 3/sqrt(3*3)=1.0 against 3/sqrt(3*9)=0.577
    for a, b in [(1, 2), (3, 4), (5, 6)]:
        assert table[a][0][:2] == (b, 1.0) and table[b][0][:2] == (a, 1.0)
        assert [row[0] for row in table[a]] == [b, 99]
        assert table[a][1][1] == pytest.approx(3 / (3 * 9) ** 0.5)


def test_personal_feed_leaves_out_what_the_shopper_touched_and_fills_from_fallback():
    viewed = {1: [(2, 0.9), (3, 0.5)], 2: [(1, 0.9)]}
    feed = algorithms.personal([(1, "view"), (2, "purchase")], bought={}, viewed=viewed, fallback=[2, 7, 3, 8],
                               limit=3)
    assert feed == [3, 7, 8]


def test_the_co_occurrence_feed_beats_popularity_on_a_seeded_synthetic_log():
    from shopyard.recommendations import evaluation, synthetic

    clusters, categories = synthetic.abstract_catalogue()
    events = synthetic.taste_log(clusters, shoppers=400, seed=11)
    result = evaluation.evaluate(events, categories=categories, with_library=False)
    popularity, ours = result["methods"]["popularity"], result["methods"]["co-occurrence (ours)"]
    assert result["shoppers"] > 200
    assert ours["hit_rate"] > popularity["hit_rate"] + 0.05
    assert ours["recall"] > popularity["recall"] and ours["coverage"] > popularity["coverage"]


def test_the_evaluation_splits_by_time_and_counts_exact_figures():
    from shopyard.recommendations import evaluation

    # s1 bought 1 then 2; s2 bought 1 then 2 later; s3 bought 1 early and 2 in the test period
    events = [Event("s1", 1, "purchase", 1), Event("s1", 2, "purchase", 2), Event("s2", 1, "purchase", 3),
              Event("s2", 2, "purchase", 4), Event("s3", 1, "purchase", 5), Event("s4", 3, "purchase", 6),
              Event("s4", 3, "purchase", 7), Event("s3", 2, "purchase", 9), Event("s4", 1, "purchase", 10)]
    _train, test = evaluation.split(events)  # the first 80%: 7 of 9
    assert [e.at for e in test] == [9, 10]
    result = evaluation.evaluate(events, with_library=False)
    assert result["shoppers"] == 2  # s3 (wants 2) and s4 (wants 1)
    # co-occurrence: s3 had 1 -> its neighbour 2 (support 2) is a hit; s4 had 3 -> no neighbour, then popularity: 1
    assert result["methods"]["co-occurrence (ours)"] == {"hit_rate": 1.0, "recall": 1.0, "coverage": 1.0}


def test_the_eval_command_reads_a_csv_and_prints_every_method(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from shopyard.recommendations import synthetic

    clusters, _categories = synthetic.abstract_catalogue(clusters=4, per_cluster=12)
    path = tmp_path / "log.csv"
    rows = ["user,item,kind,timestamp"] + [f"{e.actor},sku-{e.item},{e.kind},{e.at:.0f}"
                                           for e in synthetic.taste_log(clusters, shoppers=120, seed=3)]
    path.write_text("\n".join(rows))
    out = StringIO()
    call_command("recommend_eval", "--csv", str(path), stdout=out)
    text = out.getvalue()
    for method in ("popularity", "co-occurrence (ours)", "implicit item-item cosine", "implicit ALS"):
        assert method in text
    assert "hit-rate@10" in text


def test_the_eval_command_refuses_a_csv_without_the_columns(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "bad.csv"
    path.write_text("who,what\n1,2\n")
    with pytest.raises(CommandError, match="user and item"):
        call_command("recommend_eval", "--csv", str(path))


# --- the tables and serving ------------------------------------------------------------


@pytest.fixture
def pairs(shop):
    """Three pairs bought together by three shoppers each, every shopper also buying the best-seller."""
    best = f.make_product(shop, title="爆款")
    made = [(f.make_product(shop), f.make_product(shop)) for _n in range(3)]
    bought(*[[a, b, best] for a, b in made for _shopper in range(3)])
    services.recompute()
    return best, made


def test_recompute_writes_neighbours_and_popularity(pairs):
    best, made = pairs
    a, b = made[0]
    assert list(ProductNeighbour.objects.filter(kind="bought", product=a).order_by("-score")
                .values_list("neighbour_id", "support")) == [(b.pk, 3), (best.pk, 3)]
    assert ids(queries.bought_together(a)) == [b.pk, best.pk]
    assert queries.popular_lists([None])[None][0] == best.pk


def test_serving_never_shows_the_product_itself(pairs):
    best, made = pairs
    a, b = made[0]
    ProductNeighbour.objects.create(kind="bought", product=a, neighbour=a, score=5.0, support=9)
    services.bump_version()
    assert ids(queries.bought_together(a)) == [b.pk, best.pk]
    assert a.pk not in ids(queries.similar(a))


def test_hidden_products_never_show(pairs, seller, shop, other_shop, home_operator):
    best, made = pairs
    (a, b), (c, d), (e, g) = made
    # a foreign shop's product bought with `a` by three shoppers, and the pairs' partners hidden three ways
    foreign = f.make_product(other_shop)
    bought(*[[a, foreign]] * 3)
    services.recompute()
    assert set(ids(queries.bought_together(a))) == {b.pk, foreign.pk, best.pk}
    queries.similar(a, limit=50)  # the id lists and the cards are now cached
    set_published(actor=seller, shop=shop, product_id=b.pk, published=False)
    Sku.objects.filter(product=best).update(is_active=False)
    suspend_shop(actor=home_operator, shop_id=other_shop.pk, reason="违规")
    # at once, with every cache warm: visibility is asked on every call
    shown = ids(queries.bought_together(a, limit=50)) + ids(queries.similar(a, limit=50))
    shown += ids(queries.for_you(user_id=None, visitor="0" * 32, limit=50))
    assert not {b.pk, best.pk, foreign.pk} & set(shown)
    assert c.pk in ids(queries.similar(a, limit=50))  # the category's other products still fill "similar"


def test_cart_addons_rank_what_goes_with_the_cart_and_leave_the_cart_out(pairs):
    best, made = pairs
    (a, b), (c, d), _ef = made
    assert ids(queries.cart_addons([a.pk, c.pk])) == sorted([b.pk, d.pk]) + [best.pk]
    assert ids(queries.cart_addons([a.pk, best.pk])) == [b.pk, *sorted(p for pair in made[1:] for p in ids(pair))]


def test_the_home_feed_follows_the_shoppers_recent_behaviour(pairs, shopper):
    best, made = pairs
    (a, b), (c, d), _ef = made
    BehaviourEvent.objects.create(kind="view", user=shopper, product=c, created_at=timezone.now())
    feed = ids(queries.for_you(user_id=shopper.pk, limit=3))
    assert feed[:2] == [d.pk, best.pk]  # c's neighbours, strongest first; c itself left out
    assert c.pk not in feed
    # a shopper with no history gets the best-sellers (cold start)
    assert ids(queries.for_you(user_id=None, visitor="f" * 32, limit=1)) == [best.pk]


def test_the_periodic_job_recomputes_hourly_and_only_after_new_behaviour(shop):
    a, b = f.make_product(shop), f.make_product(shop)
    assert services.recompute_if_due() == 0  # nothing recorded yet
    bought([a, b], [a, b])
    assert services.recompute_if_due() == 4  # a->b and b->a, bought and viewed together
    assert services.recompute_if_due() == 0  # ran just now
    later = timezone.now() + timedelta(hours=2)
    assert services.recompute_if_due(now=later) == 0  # nothing new since
    c = f.make_product(shop)
    bought([a, c], [a, c], at=timezone.now())
    assert services.recompute_if_due(now=later) == 8
    assert sorted(ProductNeighbour.objects.filter(kind="bought").values_list("product_id", "neighbour_id")) == sorted(
        [(a.pk, b.pk), (b.pk, a.pk), (a.pk, c.pk), (c.pk, a.pk)])


def test_serving_reads_the_new_tables_after_a_recompute(shop, django_capture_on_commit_callbacks):
    a, b, c = f.make_product(shop), f.make_product(shop), f.make_product(shop)
    bought([a, b], [a, b])
    with django_capture_on_commit_callbacks(execute=True):
        services.recompute()
    assert ids(queries.bought_together(a)) == [b.pk]  # now cached
    bought([a, c], [a, c], [a, c])
    with django_capture_on_commit_callbacks(execute=True):  # the caches move on once the tables are committed
        services.recompute()
    assert ids(queries.bought_together(a)) == [c.pk, b.pk]


def test_recompute_command_prints_what_it_did(shop):
    from io import StringIO

    from django.core.management import call_command

    a, b = f.make_product(shop), f.make_product(shop)
    bought([a, b], [a, b])
    out = StringIO()
    call_command("recompute_recommendations", stdout=out)
    assert '"neighbours": 4' in out.getvalue()  # bought and viewed tables, both ways


# --- API ----------------------------------------------------------------------------------


def test_api_lists_cards_of_visible_neighbours(api, pairs):
    best, made = pairs
    a, b = made[0]
    body = api.get(f"/recommendations/products/{a.pk}/bought-together?limit=1").json()
    assert body["kind"] == "bought_together" and [r["id"] for r in body["results"]] == [b.pk]
    assert body["results"][0]["title_en"] == b.title_en
    similar = api.get(f"/recommendations/products/{a.pk}/similar").json()["results"]
    assert a.pk not in [r["id"] for r in similar] and similar
    popular = api.get("/recommendations/popular?limit=2").json()["results"]
    assert popular[0]["id"] == best.pk


@pytest.mark.parametrize("path, status", [
    ("/recommendations/products/abc/similar", 422),
    ("/recommendations/products/0/similar", 422),
    ("/recommendations/products/-5/bought-together", 422),
    (f"/recommendations/products/{2**70}/similar", 422),
    ("/recommendations/products/987654/similar", 404),
    ("/recommendations/products/{pk}/similar?limit=100000", 422),
    ("/recommendations/products/{pk}/similar?limit=0", 422),
    ("/recommendations/products/{pk}/similar?limit=ten", 422),
    ("/recommendations/popular?category=x", 422),
    ("/recommendations/popular?category=99999999999999999999", 422),
    ("/recommendations/for-you", 401),
    ("/recommendations/cart", 401),
])
def test_api_answers_bad_input_with_4xx(api, product, path, status):
    response = api.get(path.format(pk=product.pk))
    assert response.status_code == status
    assert response.json()["code"]


def test_api_answers_404_for_a_hidden_product(api, seller, shop, product):
    set_published(actor=seller, shop=shop, product_id=product.pk, published=False)
    assert api.get(f"/recommendations/products/{product.pk}/bought-together").status_code == 404


def test_api_for_you_and_cart_for_a_signed_in_shopper(api, pairs, shopper, shopper_token):
    best, made = pairs
    a, b = made[0]
    api.post("/cart/lines", {"sku_id": a.skus.get().pk, "quantity": 1}, token=shopper_token)
    cart = api.get("/recommendations/cart", token=shopper_token).json()["results"]
    assert [r["id"] for r in cart] == [b.pk, best.pk]
    feed = api.get("/recommendations/for-you?limit=2", token=shopper_token).json()["results"]
    assert [r["id"] for r in feed] == [b.pk, best.pk]  # the cart add is behaviour too


# --- pages ---------------------------------------------------------------------------------


def test_product_page_loads_its_blocks_and_they_render(client, pairs, django_assert_max_num_queries):
    best, made = pairs
    a, b = made[0]
    page = client.get(f.product_url(a)).content.decode()
    slot = reverse("storefront:recs_product", args=[a.pk])
    assert f'hx-get="{slot}"' in page
    client.get(slot)  # warm the id caches
    # the product, which candidates are visible, the shown ones, their covers, their promotions
    with django_assert_max_num_queries(5):
        html = client.get(slot).content.decode()
    assert "Frequently bought together" in html and "Similar products" in html
    together = html.split('id="recs-similar"')[0]
    assert b.title_en in together and best.title_en in together
    assert f'href="{f.product_url(a)}"' not in html


def test_cart_page_shows_addons(client, pairs):
    best, made = pairs
    a, b = made[0]
    client.post(reverse("storefront:cart_add"), {"sku_id": a.skus.get().pk, "quantity": 1})
    page = client.get(reverse("storefront:cart")).content.decode()
    assert reverse("storefront:recs_cart") in page
    html = client.get(reverse("storefront:recs_cart")).content.decode()
    assert "Goes well with your cart" in html and b.title_en in html and f.product_url(a) not in html


def test_home_and_empty_search_show_the_for_you_block(client, pairs, shopper):
    best, made = pairs
    c, d = made[1]
    assert reverse("storefront:recs_for_you") in client.get(reverse("storefront:home")).content.decode()
    empty = client.get(reverse("storefront:search") + "?q=zzzqqqxx").content.decode()
    assert reverse("storefront:recs_for_you") in empty
    client.force_login(shopper)
    client.get(f.product_url(c))
    cache.clear()
    response = client.get(reverse("storefront:recs_for_you"))
    html = response.content.decode()
    assert "Recommended for you" in html and d.title_en in html
    assert "private" in response["Cache-Control"]


def test_a_block_for_a_hidden_or_unknown_product_is_404(client, seller, shop, product):
    set_published(actor=seller, shop=shop, product_id=product.pk, published=False)
    assert client.get(reverse("storefront:recs_product", args=[product.pk])).status_code == 404
    assert client.get("/recommendations/p/abc/").status_code == 404
    assert client.get("/recommendations/p/99999999999999999999999/").status_code == 404


def test_an_empty_block_renders_nothing(client, product):
    assert client.get(reverse("storefront:recs_cart")).content.decode().strip() == ""
