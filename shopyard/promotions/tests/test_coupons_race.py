"""Coupons under real concurrency (threads, transactional tests; run on SQLite and
PostgreSQL): the total and the per-user limit hold when shoppers claim at the same
instant, and one coupon is used by at most one of two racing checkouts."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import translation

from shopyard.accounts.models import User
from shopyard.checkout.services import place_order
from shopyard.core.errors import Conflict, DomainError
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from shopyard.promotions.coupon_services import claim_coupon
from shopyard.promotions.models import CouponTemplate, UserCoupon
from tests import factories as f


def _race(calls):
    """Run each call in its own thread, released together; return their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = ("ok", call())
        except DomainError as exc:
            outcomes[i] = (exc.code, exc.status, exc.fields)
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_thirty_shoppers_race_for_ten_coupons():
    shop = f.make_shop(owner=f.make_user("coupon-seller"))
    template = f.make_coupon_template(shop, total_quantity=10)
    users = [User.objects.create_user(username=f"claimer{i}", password=None) for i in range(30)]
    outcomes = _race([lambda u=u: claim_coupon(actor=u, template_id=template.pk) for u in users])
    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 10, "coupon_unavailable": 20}, [o for o in outcomes if o[0] == "error"][:3]
    template.refresh_from_db()
    assert template.issued == 10
    assert UserCoupon.objects.filter(template=template).count() == 10
    assert UserCoupon.objects.values("user").distinct().count() == 10


@pytest.mark.django_db(transaction=True)
def test_one_shopper_claiming_eight_times_at_once_gets_their_limit_of_two():
    shop = f.make_shop(owner=f.make_user("coupon-seller"))
    template = f.make_coupon_template(shop, total_quantity=100, per_user_limit=2)
    user = User.objects.create_user(username="greedy", password=None)
    outcomes = _race([lambda: claim_coupon(actor=user, template_id=template.pk) for _ in range(8)])
    kinds = Counter(o[0] for o in outcomes)
    assert kinds == {"ok": 2, "coupon_limit_reached": 6}, [o for o in outcomes if o[0] == "error"][:3]
    template.refresh_from_db()
    assert template.issued == 2  # the refused claims gave their count back
    assert sorted(UserCoupon.objects.filter(user=user).values_list("claim_number", flat=True)) == [1, 2]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("coupons", ["explicit", "auto"])
def test_two_checkouts_with_one_coupon_one_wins_the_other_is_refused_whole(coupons):
    shop = f.make_shop(owner=f.make_user("coupon-seller"), shipping_fee="0")
    a = f.make_product(shop, price="150.00", stock=10).skus.get()
    b = f.make_product(shop, price="120.00", stock=10).skus.get()
    user = User.objects.create_user(username="twotabs", password=None)
    address = f.make_address(user)
    coupon = f.give_coupon(user, f.make_coupon_template(shop))
    chosen = [coupon.pk] if coupons == "explicit" else "auto"

    def checkout(sku):
        def place():
            with translation.override("en"):  # a thread starts in the site's language (zh-hans)
                return place_order(actor=user, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}],
                                   coupons=chosen).order_ids
        return place

    outcomes = _race([checkout(a), checkout(b)])
    winners = [o for o in outcomes if o[0] == "ok"]
    losers = [o for o in outcomes if o[0] != "ok"]
    if coupons == "auto" and len(winners) == 2:
        # AUTO means "the best I hold": a checkout that starts after the other one took the
        # coupon is priced without it (SQLite serialises whole transactions); never both with it
        assert Order.objects.filter(discount_total__gt=0).count() == 1
    else:
        assert len(winners) == 1, outcomes
        [loser] = losers
        assert loser[0] in {"coupon_used", "coupon_refused"} and loser[1] == Conflict.status, loser
        assert "already been used" in str(loser[2]) or "just used on another order" in str(loser[2])
        # nothing partial: one order, one payment, one unit taken
        assert Order.objects.count() == Payment.objects.count() == 1
        assert sorted(StockLevel.objects.values_list("quantity", flat=True)) == [9, 10]
    coupon.refresh_from_db()
    assert coupon.status == "locked"
    assert coupon.orders.count() == 1
    assert Order.objects.get(pk=coupon.orders.get().pk).discount_total == 10
    assert CouponTemplate.objects.get().issued == 1
