"""Several app servers (docs/operations.md, "Scaling out"): two gunicorn
instances on different ports share one PostgreSQL database and one Redis, and a
shopper cannot tell which one answers. No state may live in one process: the
session, the cart, the page cache's invalidation and the login throttle are
each used on one server and checked on the other, with real HTTP requests
and one cookie jar (cookies of 127.0.0.1 go to every port, as behind one
load balancer)."""

import uuid
from urllib.parse import quote

import pytest
from django.conf import global_settings, settings
from django.db import connection

from shopyard.catalog.models import Product

from . import factories as f
from . import servers


def _reason() -> str:
    if connection.vendor != "postgresql":
        return "needs PostgreSQL (DATABASE_URL) shared by both servers: runs in CI's PostgreSQL stage"
    if not settings.REDIS_URL:
        return "needs Redis (REDIS_URL) shared by both servers: runs in CI's PostgreSQL stage"
    if not servers.GUNICORN.exists():
        return f"gunicorn is not installed beside {servers.GUNICORN.parent}"
    return ""


def _test_database_url() -> str:
    """The database this test session really uses (test_<name>): the servers see what the test commits."""
    d = connection.settings_dict
    auth = quote(d.get("USER") or "", safe="")
    if d.get("PASSWORD"):
        auth += ":" + quote(d["PASSWORD"], safe="")
    return f"postgresql://{auth}@{d.get('HOST') or '127.0.0.1'}:{d.get('PORT') or 5432}/{quote(d['NAME'], safe='')}"


@pytest.fixture
def two_servers(transactional_db, tmp_path):
    """Servers A and B: one gunicorn each, the same database, Redis and key prefix."""
    reason = _reason()
    if reason:
        pytest.skip(reason)
    prefix = f"{settings.REDIS_KEY_PREFIX}-apps-{uuid.uuid4().hex[:8]}"
    envs = []
    for name in ("a", "b"):
        home = tmp_path / name
        home.mkdir()
        envs.append(servers.app_env(
            home, DATABASE_URL=_test_database_url(), DB_CONN_MAX_AGE="0", REDIS_URL=settings.REDIS_URL,
            REDIS_KEY_PREFIX=prefix, SHOPYARD_PAGE_CACHE_SECONDS="600", SHOPYARD_LOGIN_MAX_FAILURES="4"))
    try:
        with servers.gunicorns(envs) as bases:
            yield bases
    finally:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.mark.app_servers
def test_a_shopper_cannot_tell_which_server_answers(two_servers, seller, shop, settings):
    a, b = two_servers
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # what the servers check passwords with
    category = f.make_category()
    product = f.make_product(shop, category=category, price="66.00", stock=30)
    sku = product.skus.get()
    f.make_user("wanderer")
    f.make_user("guessed")
    old = product.title_en

    # a session: log in on A, logged in on B
    shopper = servers.Browser()
    status, _ = shopper.login(a, "wanderer", f.PASSWORD)
    assert status == 200 and shopper.cookie(settings.SESSION_COOKIE_NAME)
    status, page = shopper.get(f"{b}/accounts/me/")
    assert status == 200 and "/accounts/login/" not in shopper.url and "wanderer" in page

    # a cart: add on A, see it on B
    status, _ = shopper.post(f"{a}/cart/add/", {"sku_id": sku.pk, "quantity": "3",
                                                "csrfmiddlewaretoken": shopper.cookie("csrftoken")})
    assert status == 200
    status, cart = shopper.get(f"{b}/cart/")
    assert status == 200 and old in servers.text_of(cart)
    assert 'value="3"' in cart

    # the page cache: an anonymous product page is cached on both servers…
    visitor = servers.Browser()
    for base in (a, b):
        status, page = visitor.get(f"{base}/p/{product.pk}/")
        assert status == 200 and old in page
    Product.objects.filter(pk=product.pk).update(title_en="Quietly renamed")  # no event: caches keep the page
    for base in (a, b):
        assert old in visitor.get(f"{base}/p/{product.pk}/")[1]
    # …and a seller's edit on A shows on both at once
    new = "Brass desk lamp"
    status, body = servers.Browser().request("PUT", f"{a}/api/v1/seller/products/{product.pk}", json_body={
        "category_id": category.pk, "title": product.title, "title_en": new,
        "skus": [{"code": sku.code, "price": "66.00", "stock": 30}],
    }, headers={"Authorization": f"Bearer {f.token_for(seller)}"})
    assert status == 200, body
    for base in (a, b):
        status, page = visitor.get(f"{base}/p/{product.pk}/")
        assert status == 200 and new in page and old not in page

    # the login throttle: failures on A and B add up (4 allowed), and either server then refuses
    guesser = servers.Browser()
    for base in (a, b, a, b):
        status, _ = guesser.login(base, "guessed", "wrong password")
        assert status != 429 and not guesser.cookie(settings.SESSION_COOKIE_NAME)
    for base in (a, b):
        status, page = guesser.login(base, "guessed", f.PASSWORD)  # the right password, too late
        assert status == 429 and not guesser.cookie(settings.SESSION_COOKIE_NAME)

