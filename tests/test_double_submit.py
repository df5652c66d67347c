"""Double submits race for real: parallel requests of one user through the
API, in threads, on SQLite and PostgreSQL. The first add of a SKU to a cart
(no cart and no line yet) and default-address changes used to hit unique
constraints on PostgreSQL (a 500) or leave two carts or lines."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from shopyard.accounts.models import Address, User
from shopyard.cart.models import Cart, CartLine

from . import factories as f

PARALLEL = 6
ADDRESS = {
    "recipient": "王五", "phone": "13700137000", "province": "广东省", "city": "深圳市",
    "district": "南山区", "detail": "科技园 8 号", "postcode": "518000",
}


def _race(requests):
    """Send each (method, path, body) from its own thread and test client at the
    same instant; return the status codes (or the exception a request raised)."""
    barrier = threading.Barrier(len(requests))
    outcomes = [None] * len(requests)

    def run(i, token, method, path, body):
        client = Client()
        try:
            barrier.wait(timeout=60)
            response = getattr(client, method)(path, data=json.dumps(body), content_type="application/json",
                                               **f.auth(token))
            outcomes[i] = response.status_code
        except Exception as exc:  # a 500 raised in the view: keep it for the assert message
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request thread hung"
    return outcomes


def _shopper_and_token():
    user = User.objects.create_user(username="double-submitter", password=None)
    return user, f.token_for(user)


@pytest.mark.django_db(transaction=True)
def test_parallel_first_adds_make_one_cart_and_one_line():
    # given a shopper with no cart yet, and a SKU with plenty of stock
    shop = f.make_shop(owner=f.make_user("cart-race-seller"))
    sku = f.make_product(shop, price="12.00", stock=100).skus.get()
    user, token = _shopper_and_token()
    assert not Cart.objects.filter(user=user).exists()

    # when six requests add 2 units each at the same instant
    outcomes = _race([(token, "post", "/api/v1/cart/lines", {"sku_id": sku.pk, "quantity": 2})] * PARALLEL)

    # then all succeed, into one cart with one line holding every unit
    assert outcomes == [201] * PARALLEL, outcomes
    assert Cart.objects.filter(user=user).count() == 1
    assert list(CartLine.objects.filter(cart__user=user).values_list("sku_id", "quantity")) == [(sku.pk, 2 * PARALLEL)]


@pytest.mark.django_db(transaction=True)
def test_parallel_default_address_creation_leaves_one_default():
    # given a shopper with no address
    user, token = _shopper_and_token()

    # when six addresses, each marked default, are created at the same instant
    outcomes = _race([(token, "post", "/api/v1/addresses", {**ADDRESS, "detail": f"科技园 {i} 号", "is_default": True})
                      for i in range(PARALLEL)])

    # then all are created and exactly one is the default
    assert outcomes == [201] * PARALLEL, outcomes
    assert Address.objects.filter(user=user).count() == PARALLEL
    assert Address.objects.filter(user=user, is_default=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_first_addresses_leave_one_default():
    # the first address becomes the default by itself: six "first" addresses race
    user, token = _shopper_and_token()
    outcomes = _race([(token, "post", "/api/v1/addresses", {**ADDRESS, "detail": f"科技园 {i} 号"})
                      for i in range(PARALLEL)])
    assert outcomes == [201] * PARALLEL, outcomes
    assert Address.objects.filter(user=user, is_default=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_default_switches_leave_one_default():
    # given six addresses, the first of them the default
    user, token = _shopper_and_token()
    addresses = [f.make_address(user, detail=f"科技园 {i} 号") for i in range(PARALLEL)]
    assert Address.objects.filter(user=user, is_default=True).count() == 1

    # when each is made the default at the same instant
    outcomes = _race([(token, "patch", f"/api/v1/addresses/{a.pk}", {"is_default": True}) for a in addresses])

    # then every request succeeds and exactly one address is the default
    assert outcomes == [200] * PARALLEL, outcomes
    assert Address.objects.filter(user=user, is_default=True).count() == 1
    assert Address.objects.filter(user=user).count() == PARALLEL
