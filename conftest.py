"""Fixtures shared by every test, under tests/ and under each app's tests/."""

import io
import json
import logging
from contextlib import contextmanager

import pytest
from django.core.cache import cache

from tests import factories as f


def _clear_our_cache():
    """Empty this run's cache only: on a shared Redis, delete our prefixed keys
    instead of flushing the whole database."""
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("RedisCache"):
        from shopyard.core.cache import delete_matching

        delete_matching(cache._cache.get_client(write=True), f"{settings.REDIS_KEY_PREFIX}:*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache(request):
    """Each test starts with an empty cache, except the `celery_worker` tests:
    their task results live in Redis under our prefix while they wait for them."""
    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    _clear_our_cache()
    _forget_process_caches()
    yield
    _clear_our_cache()


def _forget_process_caches():
    """Per-process caches keyed by row id: ids come back after a rolled-back test."""
    from shopyard.promotions.flash import forget_live_items

    forget_live_items()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """MD5 hashing: the real hasher would dominate the suite's time. Tests of the
    hasher itself set PASSWORD_HASHERS back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _held_per_request(_clear_cache, settings):
    """Behaviour events written, and the events a request commits delivered, once each
    response is sent, as with SHOPYARD_BEHAVIOUR_BATCH_SECONDS=0 and
    SHOPYARD_EVENT_DISPATCH_SECONDS=0: a test asserts what one page recorded or what
    one order's subscribers did, and the test's transaction is invisible to a batch's
    timer thread. The batches themselves are tested with batching on
    (shopyard/analytics/tests/test_batch.py, tests/test_events_held.py). After
    `_clear_cache`: the settings a test changes (its CACHES) are put back before the
    cache is emptied."""
    settings.BEHAVIOUR_BATCH_SECONDS = 0
    settings.EVENT_DISPATCH_SECONDS = 0


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded and generated files go to a temporary MEDIA_ROOT (returned)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


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
def other_sku(other_shop):
    return f.make_product(other_shop, price="35.50", stock=5).skus.get()


@pytest.fixture
def address(shopper):
    return f.make_address(shopper)


@pytest.fixture
def reviewable_order(shopper, address, sku, media):
    """The shopper's completed order of one `sku` (reviews, after-sales)."""
    return f.make_completed_order(shopper, address, [(sku, 1)])


@pytest.fixture
def seller_client(client, seller, shop):
    """The test client logged in as the seller of `shop` (console pages)."""
    client.force_login(seller)
    return client


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
    """Pages render live in tests; the page cache and the fragment cache have their own tests."""
    settings.PAGE_CACHE_SECONDS = 0
    settings.FRAGMENT_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _no_api_body_cache(settings):
    """Catalogue API bodies are assembled live in tests; tests/test_api_conditional.py keeps them."""
    settings.API_CACHE_SECONDS = 0


@pytest.fixture
def subscribe_for_test():
    """Subscribe handlers for one test: `subscribe_for_test(name, handler, key=...)`;
    every subscription is removed (and any handler it replaced restored) at teardown."""
    from shopyard.core import events

    added = []

    def add(name, handler, *, key=None, many=None):
        key = key or events.subscriber_key(handler)
        added.append((name, key, events.subscription(name, key)))
        return events.subscribe(name, handler, key=key, many=many)

    yield add
    for name, key, previous in reversed(added):
        events.unsubscribe(name, key)
        if previous is not None:
            events.subscribe(name, **previous)


ENGLISH = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _english_test_clients(monkeypatch):
    """The site defaults to Chinese; every test client (the `client` fixture and
    any `Client()` a test builds) asks for English unless the test says otherwise:
    tests about language pass their own Accept-Language, which wins."""
    from django.test import Client

    original = Client.__init__

    def init(self, *args, headers=None, **defaults):
        if "HTTP_ACCEPT_LANGUAGE" not in defaults and "Accept-Language" not in (headers or {}):
            headers = {**ENGLISH, **(headers or {})}
        original(self, *args, headers=headers, **defaults)

    monkeypatch.setattr(Client, "__init__", init)


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Messages built outside a request (services called directly) in English,
    as the test client's requests are."""
    from django.utils import translation

    with translation.override("en"):
        yield


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


def _xdist_worker_settings():
    """Under pytest-xdist (`-n 2`), each worker is its own test run sharing one Redis and
    one SHOPYARD_HOME: it gets its own key prefix (the cache clearing between tests deletes
    `<prefix>:*`, which would empty the other worker's keys mid-test) and its own media
    folder. pytest-django already gives each worker its own test database (`_gw0`, ...)."""
    import os
    from pathlib import Path

    from django.conf import settings as dj_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    dj_settings.REDIS_KEY_PREFIX = f"{dj_settings.REDIS_KEY_PREFIX}-{worker}"
    if "KEY_PREFIX" in dj_settings.CACHES["default"]:
        dj_settings.CACHES["default"]["KEY_PREFIX"] = dj_settings.REDIS_KEY_PREFIX
    dj_settings.MEDIA_ROOT = Path(dj_settings.MEDIA_ROOT) / worker


_xdist_worker_settings()


@pytest.fixture
def home_operator(db):
    """A platform operator (staff superuser) for the Django admin."""
    from tests import factories

    return factories.make_user("home-operator", is_staff=True, is_superuser=True)


@pytest.fixture
def flash_db_path(settings, monkeypatch):
    """Flash sales on the database path (conditional UPDATEs), even where REDIS_URL is set.

    The process's sold-out marker lives one second in production; a loaded CI
    machine can take longer than that between selling out and the next
    request, so here it lives a minute (tests that sell out and ask again
    assert what the marker does while it stands)."""
    from shopyard.promotions import flash_store

    settings.REDIS_URL = ""
    monkeypatch.setattr(flash_store, "SOLD_OUT_MARK_SECONDS", 60)
    return "db"


@pytest.fixture
def workers_make_orders(flash_redis, settings):
    """Flash holds on Redis whose orders a Celery worker makes (tasks queued, not run
    in the request), as in production with a broker."""
    from shopyard.celery import app

    before = app.conf.task_always_eager  # read first: Celery reads Django's settings lazily, once
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    yield flash_redis
    app.conf.task_always_eager = before


@pytest.fixture
def flash_redis(settings):
    """Flash sales on the Redis path (the Lua gate), under a key prefix of this test's
    own; skipped only when REDIS_URL is unset (CI's PostgreSQL stage sets it)."""
    import os
    import uuid

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is unset: the Redis path runs in the PostgreSQL+Redis stage")
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    settings.REDIS_URL = url
    settings.REDIS_KEY_PREFIX = prefix = f"{os.environ.get('REDIS_KEY_PREFIX', 'shopyard')}-flash-{uuid.uuid4().hex[:8]}"
    yield client
    from shopyard.core.cache import delete_matching

    delete_matching(client, f"{prefix}:*")


@pytest.fixture(params=["db", "redis"])
def flash_path(request):
    """Run a flash-sale test on the database path and on the Redis path."""
    return request.getfixturevalue("flash_db_path" if request.param == "db" else "flash_redis") and request.param


# --- the browser tests (tests/test_browser_*.py; helpers in tests/browser.py) --


@pytest.fixture(scope="module")
def chromium():
    """One headless chromium per test module (each test gets its own context):
    starting the browser once keeps the browser tests fast."""
    import os

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, FLAGS

    # Playwright's sync API runs an event loop in this thread; the tests' own
    # ORM calls are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def visit(chromium, live_server, size, lang):
    """A `tests.browser.Visit` of the live server at `size` in `lang` (both
    parametrised by the test module)."""
    from tests.browser import Visit

    v = Visit(chromium, live_server.url, size, lang)
    yield v
    v.context.close()


@pytest.fixture
def unpaid_checkout(shopper, address, sku, other_shop):
    """Two orders (two shops) awaiting one payment of 59.90×2+10 + 35.50+8 = 173.30
    (used by the gateway adapters' end-to-end tests)."""
    from types import SimpleNamespace

    from shopyard.checkout.services import place_order
    from shopyard.orders.models import Order
    from shopyard.payments.models import Payment

    other_sku = f.make_product(other_shop, price="35.50", stock=5).skus.get()
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": 2}, {"sku_id": other_sku.pk, "quantity": 1}])
    return SimpleNamespace(payment=Payment.objects.get(pk=placed.payment_id),
                           orders=list(Order.objects.filter(pk__in=placed.order_ids).order_by("pk")))


@pytest.fixture
def rsa_key_file(tmp_path):
    """make(name) -> (private key, private PEM path, public PEM path) of a fresh 2048-bit RSA key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    def make(name):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = tmp_path / f"{name}_private.pem"
        public = tmp_path / f"{name}_public.pem"
        private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
        return key, str(private), str(public)

    return make


@pytest.fixture
def search_catalogue(shop, seller):
    """The labelled catalogue of tests/data/search_relevance.json, published and indexed
    (through the catalogue's services, then event delivery): {key: product}."""
    import json
    from pathlib import Path

    from shopyard.catalog.models import Brand, Category
    from shopyard.catalog.services import create_product, record_sales
    from shopyard.core.events import dispatch_pending
    from shopyard.search.services import save_synonyms

    data = json.loads((Path(__file__).parent / "tests" / "data" / "search_relevance.json").read_text("utf-8"))
    cats = {k: Category.objects.create(name=zh, name_en=en, slug=f"s-{k}") for k, (zh, en) in data["categories"].items()}
    brands = {k: Brand.objects.create(name=zh, name_en=en) for k, (zh, en) in data["brands"].items()}
    products = {}
    for n, item in enumerate(data["products"]):
        products[item["key"]] = create_product(actor=seller, shop=shop, data={
            "category_id": cats[item["category"]].pk, "title": item["title"], "title_en": item["title_en"],
            "brand_id": brands[item["brand"]].pk if item["brand"] else None, "description": "",
            "attributes": [], "skus": [{"code": f"REL-{n}", "price": item["price"], "stock": 5, "options": []}],
            "publish": True,
        })
    record_sales(quantities={products[i["key"]].pk: i["sales"] for i in data["products"]})
    for terms in data["synonyms"]:
        save_synonyms(actor=seller, terms=terms)
    dispatch_pending(limit=10_000)
    from shopyard.search.services import refresh_signals

    refresh_signals()
    return products


# --- CI's PostgreSQL stage: only the tests that touch the database or a service ---
# The README's command (the SQLite stage) runs every test. .ci/run's PostgreSQL stage
# sets SHOPYARD_CI_STAGE=postgresql and then runs again only the tests for which
# PostgreSQL or Redis can make a difference: those using the database (pytest-django's
# fixtures or its marker, directly or through any fixture), those marked `services`
# (the configured cache, Redis, the broker, ... without the database) and those using
# a fixture marked so below. The rest (structure, catalogues, parsers, money) already
# passed on SQLite and would only pass again.
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                     "live_server"}
SERVICE_FIXTURES = {"flash_redis", "flash_path", "throttle_cache"}
SERVICE_MARKERS = {"django_db", "services", "celery_worker", "replica", "app_servers"}


def _unblocks_the_database(item) -> bool:
    """A fixture of ours (or the test) asking for `django_db_blocker` opens the database
    itself; pytest-django's own autouse fixtures ask for it in every test."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    if "django_db_blocker" in info.argnames:
        return True
    return any("django_db_blocker" in d.argnames and not d.func.__module__.startswith("pytest_django")
               for defs in info.name2fixturedefs.values() for d in defs)


def needs_database_or_service(item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return (bool(fixtures & (DATABASE_FIXTURES | SERVICE_FIXTURES)) or _unblocks_the_database(item)
            or any(item.get_closest_marker(name) for name in SERVICE_MARKERS))


@pytest.hookimpl(trylast=True)  # after -m/-k, so that "kept" is what runs
def pytest_collection_modifyitems(config, items):
    import os

    if os.environ.get("SHOPYARD_CI_STAGE") != "postgresql":
        return
    kept, deselected = [], []
    for item in items:
        (kept if needs_database_or_service(item) else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    config.stash[_STAGE_COUNTS] = (len(deselected), len(kept))
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker: the controller prints it
        config.workeroutput["shopyard_stage_counts"] = (len(deselected), len(kept))


_STAGE_COUNTS = pytest.StashKey[tuple]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: every worker collected the same tests; keep one's counts."""
    counts = getattr(node, "workeroutput", {}).get("shopyard_stage_counts")
    if counts:
        node.config.stash[_STAGE_COUNTS] = tuple(counts)


def pytest_terminal_summary(terminalreporter, config):
    if _STAGE_COUNTS in config.stash:
        deselected, kept = config.stash[_STAGE_COUNTS]
        terminalreporter.write_line(f"SHOPYARD_CI_STAGE=postgresql: {deselected} tests that use neither the database "
                                    f"nor a service deselected (they passed in the SQLite stage); {kept} kept")


@contextmanager
def _json_lines(logger, level):
    """What `logger` logs inside the block, rendered as production renders it (JSON): a
    function giving the lines as dicts, with `.text()` the raw text."""
    from shopyard.core import logs

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    lines.text = stream.getvalue
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


@pytest.fixture
def request_lines():
    """The request log lines as JSON (`shopyard.requests`), formatted as they are written (while the request id is bound)."""
    with _json_lines(logging.getLogger("shopyard.requests"), logging.INFO) as lines:
        yield lines


@pytest.fixture
def log_lines():
    """Every line logged while the test runs, rendered as production renders it (JSON)."""
    with _json_lines(logging.getLogger(), logging.DEBUG) as lines:
        yield lines
