"""Several app servers (docs/operations.md, "Scaling out"): two gunicorn
instances on different ports share one PostgreSQL database and one Redis, and a
shopper cannot tell which one answers. No state may live in one process: the
session, the cart, the page cache's invalidation and the login throttle are
each used on one server and checked on the other, with real HTTP requests
and one cookie jar (cookies of 127.0.0.1 go to every port, as behind one
load balancer)."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from . import servers


def _reason() -> str:
    if not settings.REDIS_URL:
        return "needs Redis (REDIS_URL) shared by both servers: runs in CI's PostgreSQL stage"
    if not servers.GUNICORN.exists():
        return f"gunicorn is not installed beside {servers.GUNICORN.parent}"
    return servers.missing_pg(servers=False)


SETUP = """
from tests import factories as f
seller = f.make_user("apps-seller")
shop = f.make_shop("光明灯具", owner=seller)
category = f.make_category()
product = f.make_product(shop, category=category, price="66.00", stock=30)
sku = product.skus.get()
f.make_user("wanderer")
f.make_user("guessed")
print(json.dumps({
    "product": product.pk, "title": product.title, "title_en": product.title_en, "sku": sku.pk,
    "sku_code": sku.code, "category": category.pk, "seller_token": f.token_for(seller), "password": f.PASSWORD,
}))
"""


@pytest.fixture
def two_servers(db, tmp_path):
    """Servers A and B: one gunicorn each on a database of this test's own (a copy of the
    test database's schema), the same Redis and key prefix."""
    server, test_db = servers.PgServer.of_test_database()
    prefix = f"{settings.REDIS_KEY_PREFIX}-apps-{uuid.uuid4().hex[:8]}"
    envs = []
    with servers.scratch_database(server, server.url(test_db), f"{test_db}_apps_{uuid.uuid4().hex[:8]}") as name:
        for host in ("a", "b"):
            home = tmp_path / host
            home.mkdir()
            envs.append(servers.app_env(
                home, DATABASE_URL=server.url(name), REDIS_URL=settings.REDIS_URL, REDIS_KEY_PREFIX=prefix,
                SHOPYARD_PAGE_CACHE_SECONDS="600", SHOPYARD_LOGIN_MAX_FAILURES="4"))
        try:
            with ThreadPoolExecutor(1) as pool:
                filled = pool.submit(servers.run_python, envs[0], SETUP)  # while the servers start
                with servers.gunicorns(envs) as (a, b):
                    yield {"a": a, "b": b, "server": server, "db": name, **filled.result()}
        finally:
            import redis

            from shopyard.core.cache import delete_matching

            delete_matching(redis.Redis.from_url(settings.REDIS_URL), f"{prefix}:*")


@pytest.mark.app_servers
@pytest.mark.skipif(bool(_reason()), reason=_reason() or "-")
def test_a_shopper_cannot_tell_which_server_answers(two_servers):
    s = two_servers
    a, b, product = s["a"], s["b"], s["product"]
    old = s["title_en"]

    # a session: log in on A, logged in on B
    shopper = servers.Browser()
    status, _ = shopper.login(a, "wanderer", s["password"])
    assert status == 200 and shopper.cookie(settings.SESSION_COOKIE_NAME)
    status, page = shopper.get(f"{b}/accounts/me/")
    assert status == 200 and "/accounts/login/" not in shopper.url and "wanderer" in page

    # a cart: add on A, see it on B
    status, _ = shopper.post(f"{a}/cart/add/", {"sku_id": s["sku"], "quantity": "3",
                                                "csrfmiddlewaretoken": shopper.cookie("csrftoken")})
    assert status == 200
    status, cart = shopper.get(f"{b}/cart/")
    assert status == 200 and old in servers.text_of(cart)
    assert 'value="3"' in cart

    # the page cache: an anonymous product page is cached on both servers…
    visitor = servers.Browser()
    for base in (a, b):
        status, page = visitor.get(f"{base}/p/{product}/")
        assert status == 200 and old in page
    # (a change behind the application's back, no event: both keep serving the cached page)
    s["server"].sql(f"UPDATE catalog_product SET title_en = 'Quietly renamed' WHERE id = {product}", s["db"])
    for base in (a, b):
        assert old in visitor.get(f"{base}/p/{product}/")[1]
    # …and a seller's edit on A shows on both at once
    new = "Brass desk lamp"
    status, body = servers.Browser().request("PUT", f"{a}/api/v1/seller/products/{product}", json_body={
        "category_id": s["category"], "title": s["title"], "title_en": new,
        "skus": [{"code": s["sku_code"], "price": "66.00", "stock": 30}],
    }, headers={"Authorization": f"Bearer {s['seller_token']}"})
    assert status == 200, body
    for base in (a, b):
        status, page = visitor.get(f"{base}/p/{product}/")
        assert status == 200 and new in page and old not in page

    # the login throttle: failures on A and B add up (4 allowed), and either server then refuses
    guesser = servers.Browser()
    for base in (a, b, a, b):
        status, _ = guesser.login(base, "guessed", "wrong password")
        assert status != 429 and not guesser.cookie(settings.SESSION_COOKIE_NAME)
    for base in (a, b):
        status, page = guesser.login(base, "guessed", s["password"])  # the right password, too late
        assert status == 429 and not guesser.cookie(settings.SESSION_COOKIE_NAME)
