"""Fixtures shared by every test, under tests/ and under each app's tests/."""

import pytest
from django.core.cache import cache

from tests import factories as f


def _clear_our_cache():
    """Empty this run's cache only: on a shared Redis, delete our prefixed keys
    instead of flushing the whole database."""
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    _clear_our_cache()
    yield
    _clear_our_cache()


@pytest.fixture
def shopper(db):
    return f.make_user("shopper")


@pytest.fixture
def other_shopper(db):
    return f.make_user("other")


@pytest.fixture
def seller(db):
    return f.make_user("seller")


@pytest.fixture
def shop(seller):
    return f.make_shop("星河数码", owner=seller, shipping_fee="10.00", free_shipping_over="199.00")


@pytest.fixture
def other_shop(db):
    owner = f.make_user("other-seller")
    return f.make_shop("青木家居", owner=owner, shipping_fee="8.00")


@pytest.fixture
def product(shop):
    return f.make_product(shop, price="59.90", stock=10)


@pytest.fixture
def sku(product):
    return product.skus.get()


@pytest.fixture
def address(shopper):
    return f.make_address(shopper)


@pytest.fixture
def shopper_token(shopper):
    return f.token_for(shopper)


@pytest.fixture
def seller_token(seller):
    return f.token_for(seller)


@pytest.fixture
def api(client):
    """Django test client posting JSON to /api/v1 by default."""

    class Api:
        def __init__(self, c):
            self.c = c

        def _h(self, token, extra):
            h = dict(extra or {})
            if token:
                h.update(f.auth(token))
            return h

        def get(self, path, token=None, **kw):
            return self.c.get(f"/api/v1{path}", **self._h(token, kw.pop("headers", None)), **kw)

        def post(self, path, data=None, token=None, headers=None):
            import json

            return self.c.post(f"/api/v1{path}", data=json.dumps(data if data is not None else {}),
                               content_type="application/json", **self._h(token, headers))

        def put(self, path, data=None, token=None, headers=None):
            import json

            return self.c.put(f"/api/v1{path}", data=json.dumps(data if data is not None else {}),
                              content_type="application/json", **self._h(token, headers))

        def patch(self, path, data=None, token=None, headers=None):
            import json

            return self.c.patch(f"/api/v1{path}", data=json.dumps(data if data is not None else {}),
                                content_type="application/json", **self._h(token, headers))

        def delete(self, path, token=None):
            return self.c.delete(f"/api/v1{path}", **self._h(token, None))

    return Api(client)


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """Pages render live in tests; the page cache has its own tests."""
    settings.PAGE_CACHE_SECONDS = 0


# --- shop helper: the test session runs like the demo -----------------------
# Tests pay through the simulated gateway (off by default: SHOPYARD_SIMULATED_GATEWAY)
# and use the built-in development secrets (the Celery worker of the CI signs and
# verifies with them too), which only the demo may do (SHOPYARD_DEMO). Tests of the
# production-safety checks (tests/test_production_safety.py) turn these off again.
def _test_session_settings():
    from django.conf import settings as dj_settings

    dj_settings.SIMULATED_GATEWAY = True
    dj_settings.DEMO_MODE = True


_test_session_settings()
