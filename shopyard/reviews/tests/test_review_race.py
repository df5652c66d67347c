"""Reviews under real concurrency (SQLite IMMEDIATE transactions, PostgreSQL row
locks): a product's rating counts every review when buyers review it at the same
instant, and "once" holds for a line's review, a follow-up and a seller's reply."""

import threading
from collections import Counter

import pytest
from django.db import connection

from shopyard.core.errors import Conflict
from shopyard.reviews import queries, services
from shopyard.reviews.models import ProductRating, Review, ShopRating
from tests import factories as f


def _race(n, call):
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=60)
            call(i)
            outcomes[i] = ("ok", None)
        except Conflict as exc:
            outcomes[i] = ("refused", exc.status)
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a review thread hung"
    return outcomes


def _orders(n):
    seller = f.make_user("race-seller")
    shop = f.make_shop(owner=seller)
    sku = f.make_product(shop, price="20.00", stock=50).skus.get()
    orders = []
    for i in range(n):
        buyer = f.make_user(f"race-buyer-{i}")
        orders.append(f.make_completed_order(buyer, f.make_address(buyer), [(sku, 1)]))
    return seller, shop, sku, orders


def _review(order, rating=5):
    return services.create_review(actor=order.user, order_id=order.pk, line_id=order.lines.get().pk,
                                  rating=rating, logistics=4, service=3, text="并发评价")


@pytest.mark.django_db(transaction=True)
def test_eight_buyers_reviewing_one_product_at_once_are_all_counted():
    _seller, shop, sku, orders = _orders(8)
    outcomes = _race(8, lambda i: _review(orders[i], rating=1 + i % 5))
    assert Counter(o[0] for o in outcomes) == {"ok": 8}, outcomes
    rating = ProductRating.objects.get(product_id=sku.product_id)
    assert (rating.count, rating.stars_total) == (8, sum(1 + i % 5 for i in range(8)))
    assert ShopRating.objects.get(shop=shop).count == 8
    assert [s["count"] for s in queries.product_summary(sku.product_id)["stars"]] == [1, 1, 2, 2, 2]


@pytest.mark.django_db(transaction=True)
def test_one_line_reviewed_twice_at_once_keeps_one_review():
    _seller, _shop, sku, [order] = _orders(1)
    outcomes = _race(4, lambda i: _review(order))
    assert Counter(o[0] for o in outcomes) == {"ok": 1, "refused": 3}, outcomes
    assert Review.objects.count() == 1 and ProductRating.objects.get(product_id=sku.product_id).count == 1


@pytest.mark.django_db(transaction=True)
def test_racing_follow_ups_and_replies_write_once():
    seller, shop, _sku, [order] = _orders(1)
    review = _review(order)
    follow = _race(4, lambda i: services.add_follow_up(actor=order.user, review_id=review.pk, text=f"追评 {i}"))
    replies = _race(4, lambda i: services.reply(actor=seller, shop=shop, review_id=review.pk, text=f"回复 {i}"))
    assert Counter(o[0] for o in follow) == {"ok": 1, "refused": 3}, follow
    assert Counter(o[0] for o in replies) == {"ok": 1, "refused": 3}, replies
    review.refresh_from_db()
    assert review.follow_up.startswith("追评 ") and review.reply.startswith("回复 ")
