"""Read replicas (docs/operations.md, "Read replicas"): catalogue reads go to a
replica, a shopper's own data and everything after their write to the primary.

The first tests check the rule in shopyard.core.replicas on any database. The
last one runs Shopyard under gunicorn against a real primary and a real
streaming standby (Debian's PostgreSQL binaries, in a folder the test owns),
pauses the standby's replay so the two differ, and reads what a shopper sees."""

import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from shopyard.cart.models import Cart
from shopyard.catalog.models import Favourite, Product
from shopyard.core import replicas
from shopyard.core.replicas import PIN_COOKIE, PinMiddleware, ReplicaRouter, catalogue_reads
from shopyard.orders.models import Order

from . import servers

ROOT = servers.ROOT


@pytest.fixture
def one_replica(settings):
    settings.REPLICA_DATABASES = ["replica1"]
    settings.REPLICA_PIN_SECONDS = 7


def test_without_replicas_every_read_uses_the_one_database(settings):
    settings.REPLICA_DATABASES = []
    with catalogue_reads():
        assert replicas.read_alias(Product) == "default"


def test_catalogue_data_read_for_a_catalogue_page_goes_to_the_replica(one_replica):
    router = ReplicaRouter()
    assert router.db_for_read(Product) == "default"  # not a catalogue page
    with catalogue_reads():
        assert router.db_for_read(Product) == "replica1"
        # the shopper's own rows, even on a catalogue page
        assert router.db_for_read(Cart) == "default"
        assert router.db_for_read(Order) == "default"
        assert router.db_for_read(Favourite) == "default"
        from django.contrib.sessions.models import Session

        from shopyard.accounts.models import User

        assert router.db_for_read(Session) == "default"
        assert router.db_for_read(User) == "default"
        # writes, always
        assert router.db_for_write(Product) == "default"


def test_reads_inside_a_transaction_stay_on_the_primary(one_replica, db):
    with catalogue_reads(), transaction.atomic():
        assert replicas.read_alias(Product) == "default"


def test_migrations_run_on_the_primary_only(one_replica):
    router = ReplicaRouter()
    assert router.allow_migrate("default", "catalog") is True
    assert router.allow_migrate("replica1", "catalog") is False


def _through_middleware(request, view):
    return PinMiddleware(view)(request)


def _catalogue_view(seen):
    def view(request):
        with catalogue_reads():
            seen.append(replicas.read_alias(Product))
        return HttpResponse("ok")

    return view


def test_a_write_pins_the_visitor_to_the_primary_for_a_few_seconds(one_replica):
    rf = RequestFactory()
    seen = []

    # a plain GET reads from the replica and sets no pin
    response = _through_middleware(rf.get("/p/1/"), _catalogue_view(seen))
    assert seen == ["replica1"] and PIN_COOKIE not in response.cookies

    # a POST reads from the primary and pins the visitor for REPLICA_PIN_SECONDS
    response = _through_middleware(rf.post("/cart/add/"), _catalogue_view(seen))
    assert seen[-1] == "default"
    assert response.cookies[PIN_COOKIE]["max-age"] == 7
    assert response.cookies[PIN_COOKIE]["httponly"]

    # the next GET carries the cookie: primary
    pinned = rf.get("/p/1/")
    pinned.COOKIES[PIN_COOKIE] = response.cookies[PIN_COOKIE].value
    _through_middleware(pinned, _catalogue_view(seen))
    assert seen[-1] == "default"

    # and outside any request nothing stays pinned
    with catalogue_reads():
        assert replicas.read_alias(Product) == "replica1"


def test_a_get_that_writes_pins_the_visitor_too(one_replica):
    def writing_view(request):
        ReplicaRouter().db_for_write(Cart)  # what the ORM asks before any INSERT/UPDATE/DELETE
        return HttpResponse("ok")

    response = _through_middleware(RequestFactory().get("/cart/"), writing_view)
    assert PIN_COOKIE in response.cookies


def test_the_setting_adds_replica_connections_the_router_and_the_pin():
    code = (
        "import importlib, json, os\n"
        "import shopyard.settings as s\n"
        "before = (sorted(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []), "
        "'shopyard.core.replicas.PinMiddleware' in s.MIDDLEWARE)\n"
        "os.environ['DATABASE_REPLICA_URLS'] = 'postgresql://r@10.0.0.2:5432/shop, postgresql://r@10.0.0.3/shop'\n"
        "importlib.reload(s)\n"
        "after = (sorted(s.DATABASES), s.DATABASE_ROUTERS, 'shopyard.core.replicas.PinMiddleware' in s.MIDDLEWARE,"
        " s.DATABASES['replica2']['HOST'], s.DATABASES['replica1']['TEST'])\n"
        "print(json.dumps([before, after]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URLS"}
    env["DATABASE_URL"] = "postgresql://p@10.0.0.1:5432/shop"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == [["default"], [], False]
    assert after == [["default", "replica1", "replica2"], ["shopyard.core.replicas.ReplicaRouter"], True,
                     "10.0.0.3", {"MIRROR": "default"}]


def _catalogue_marks(url, client):
    """For each SQL query `url` runs: whether it ran inside a catalogue read."""
    from django.db import connection

    marks = []

    def note(execute, sql, params, many, context):
        marks.append(replicas.catalogue_replica() is not None)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        response = client.get(url, follow=True)
    assert response.status_code == 200, url
    return marks


def test_every_catalogue_page_and_api_read_is_marked_and_others_are_not(one_replica, client, product, shopper):
    """The decorator is what lets a read reach a replica: a catalogue endpoint that lost it
    would quietly load the primary, one that should not have it would serve stale data."""
    slug, shop = product.category.slug, product.shop.slug
    catalogue = ["/", f"/c/{slug}/", f"/p/{product.pk}/", f"/shop/{shop}/", "/search/?q=lamp",
                 "/search/suggest/?q=la", "/api/v1/categories", "/api/v1/products", f"/api/v1/products/{product.pk}",
                 "/api/v1/search?q=lamp", "/api/v1/search/suggest?q=la"]
    for url in catalogue:
        assert any(_catalogue_marks(url, client)), url
    client.force_login(shopper)
    for url in ["/cart/", "/orders/", "/accounts/me/", "/favourites/"]:
        marks = _catalogue_marks(url, client)
        assert marks and not any(marks), url


def _page_cache_timeouts(monkeypatch):
    """The timeouts the page cache stores its entries with, in order."""
    from shopyard.storefront import page_cache

    seen, real_set = [], page_cache.cache.set

    def spy(key, value, timeout=None, **kw):
        if key.startswith("storefront:page:"):
            seen.append(timeout)
        return real_set(key, value, timeout, **kw)

    monkeypatch.setattr(page_cache.cache, "set", spy)
    return seen


def test_pages_cached_just_after_a_change_are_kept_only_briefly_with_replicas(
        one_replica, settings, client, product, monkeypatch):
    """A replica may still lack the change that emptied the page cache: what it renders then
    must not stay cached for the full PAGE_CACHE_SECONDS."""
    from shopyard.storefront import page_cache

    settings.PAGE_CACHE_SECONDS = 600
    settings.REPLICA_PIN_SECONDS = 300  # longer than any first request takes on a busy machine
    timeouts = _page_cache_timeouts(monkeypatch)
    page_cache.bump()  # a catalogue change
    assert client.get(f"/p/{product.pk}/", follow=True).status_code == 200
    page_cache.cache.delete(page_cache.PAGES.bumped_key)  # REPLICA_PIN_SECONDS later
    assert client.get(f"/c/{product.category.slug}/").status_code == 200
    assert timeouts == [300, 600]


def test_without_replicas_a_change_keeps_the_full_page_cache_time(settings, client, product, monkeypatch):
    from shopyard.storefront import page_cache

    settings.REPLICA_DATABASES = []
    settings.PAGE_CACHE_SECONDS = 30
    timeouts = _page_cache_timeouts(monkeypatch)
    page_cache.bump()
    assert client.get(f"/p/{product.pk}/", follow=True).status_code == 200
    assert timeouts == [30]



def test_api_bodies_built_just_after_a_change_are_kept_only_briefly_with_replicas(
        one_replica, settings, client, product, monkeypatch):
    """The catalogue API's kept bodies follow the same rule as pages: one built from a replica
    right after a change is not kept for the full API_CACHE_SECONDS."""
    from shopyard.catalog import api_cache

    settings.API_CACHE_SECONDS = 600
    settings.REPLICA_PIN_SECONDS = 300
    timeouts = []
    real_set = api_cache.cache.set
    monkeypatch.setattr(api_cache.cache, "set",
                        lambda key, value, timeout=None, **kw: (
                            key.startswith("catalog:api:") and timeouts.append(timeout),
                            real_set(key, value, timeout)))
    api_cache.bump()
    assert client.get(f"/api/v1/products/{product.pk}").status_code == 200
    assert timeouts and set(timeouts) == {300}
    api_cache.cache.delete(api_cache.BODIES.bumped_key)  # REPLICA_PIN_SECONDS later
    timeouts.clear()
    assert client.get("/api/v1/products").status_code == 200
    assert timeouts and set(timeouts) == {600}



def test_what_a_replica_built_is_never_served_to_a_visitor_pinned_to_the_primary(one_replica, settings):
    """After their own write a visitor reads the primary; a fragment a lagging replica built
    for everybody else must not reach them (the page cache and API bodies share the rule)."""
    from shopyard.storefront import fragments

    settings.FRAGMENT_CACHE_SECONDS = 60
    with catalogue_reads():
        assert fragments.get_or_build("probe", "1", lambda: "old, from the replica") == "old, from the replica"
        with replicas.primary_only():
            assert fragments.get_or_build("probe", "1", lambda: "new, from the primary") == "new, from the primary"
        assert fragments.get_or_build("probe", "1", lambda: "built again") == "old, from the replica"


# --- a replica that is down: an alias pointing at a port where nothing listens -----------

DOWN = {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": "1", "NAME": "shopyard",
        "USER": "shopyard", "PASSWORD": "secret-replica-password", "OPTIONS": {"connect_timeout": 2}}


@pytest.fixture
def replica1(django_db_setup, django_db_blocker, monkeypatch, settings):
    """Call with the alias' settings over the primary's: `replica1`, routed to as in production.
    No test case around the readiness tests: its checks connect from other threads, which a
    test case refuses for aliases it was not set up with."""
    from django.db import connections

    def add(**config):
        configured = connections.configure_settings(
            {"default": dict(connections.settings["default"]), "replica1": {**connections.settings["default"], **config}})
        monkeypatch.setitem(connections.settings, "replica1", configured["replica1"])
        settings.REPLICA_DATABASES = ["replica1"]
        settings.DATABASE_ROUTERS = ["shopyard.core.replicas.ReplicaRouter"]
        settings.REPLICA_RETRY_SECONDS = 60

    monkeypatch.setattr(replicas, "_skipped_until", {})
    with django_db_blocker.unblock():
        yield add
        if "replica1" in connections.settings:
            connections["replica1"].close()
            del connections["replica1"]


def test_readiness_names_a_replica_that_is_down(replica1, client):
    replica1(**DOWN)
    r = client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable" and body["failing"] == ["replica1"]
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"
    assert body["checks"]["replica1"].startswith("Unavailable")
    assert "secret-replica-password" not in r.content.decode()


def test_readiness_checks_each_replica_and_is_200_when_they_answer(replica1, client):
    replica1()  # the primary's own settings: a replica that answers
    r = client.get("/health/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "failing": [],
                        "checks": {"database": "ok", "replica1": "ok", "cache": "ok"}}


@pytest.fixture
def replica1_down_with_data(transactional_db, replica1, django_db_blocker):
    """`replica1` down, with the test database's rows committed (no transaction around the test:
    inside one every read stays on the primary, rule 5). Django's test case refuses connections
    to aliases it was not set up with; this one connects for real (and is refused by the port)."""
    from django.db import connections

    replica1(**DOWN)
    connection = connections["replica1"]
    # Django's own method, as pytest-django keeps it before wrapping it
    connection.ensure_connection = django_db_blocker._real_ensure_connection.__get__(connection)


def test_catalogue_reads_fall_back_to_the_primary_while_a_replica_is_down(replica1_down_with_data, client, product,
                                                                          caplog):
    # given a replica that refuses connections
    caplog.set_level("WARNING", logger="shopyard.replicas")
    # then the catalogue still answers, from the primary (it was 503, the database-down answer)
    api = client.get(f"/api/v1/products/{product.pk}")
    assert api.status_code == 200 and api.json()["title"] == product.title
    page = client.get(f"/p/{product.pk}/", follow=True)
    assert page.status_code == 200 and product.title_en in page.content.decode()  # the page is in English here
    assert client.get("/api/v1/products").json()["meta"]["count"] == 1
    # the replica was tried once, then skipped (REPLICA_RETRY_SECONDS): one warning, naming its alias only
    warnings = [r.getMessage() for r in caplog.records if r.name == "shopyard.replicas"]
    assert len(warnings) == 1 and "replica1" in warnings[0] and "secret-replica-password" not in warnings[0]


def test_a_skipped_replica_is_tried_again_after_the_retry_time(replica1_down_with_data, settings, monkeypatch):
    import time
    from types import SimpleNamespace

    with catalogue_reads():
        assert replicas.read_alias(Product) == "default"  # tried: down
    with catalogue_reads():
        assert replicas.catalogue_replica() is None  # skipped: not even chosen
    # REPLICA_RETRY_SECONDS later
    later = time.monotonic() + settings.REPLICA_RETRY_SECONDS + 1
    monkeypatch.setattr(replicas, "time", SimpleNamespace(monotonic=lambda: later))
    with catalogue_reads():
        assert replicas.catalogue_replica() == "replica1"
        assert replicas.read_alias(Product) == "default"  # tried again, still down: the primary


# --- a real primary and streaming standby ---------------------------------------

SETUP = """
from tests import factories as f
seller = f.make_user("replica-seller")
shop = f.make_shop("光明灯具", owner=seller)
category = f.make_category()
product = f.make_product(shop, category=category, price="88.00", stock=20)
sku = product.skus.get()
shopper = f.make_user("replica-shopper")
address = f.make_address(shopper)
print(json.dumps({
    "product": product.pk, "title": product.title, "title_en": product.title_en, "sku": sku.pk,
    "sku_code": sku.code, "category": category.pk, "category_slug": category.slug,
    "seller_token": f.token_for(seller), "shopper_token": f.token_for(shopper), "address": address.pk,
    "password": f.PASSWORD,
}))
"""


@pytest.fixture
def replicated_shop(db, tmp_path):
    """Shopyard under gunicorn on a primary with one streaming standby as its replica."""
    source, test_db = servers.PgServer.of_test_database()
    name = f"shopyard_{uuid.uuid4().hex[:8]}"
    home = tmp_path / "home"
    home.mkdir()
    with servers.primary_and_standby() as (primary, standby, started):
        # the standby streams everything written after it starts: the schema and the data too
        servers.start_standby(primary, standby, started)

        def fill():
            servers.copy_schema(source.url(test_db), primary, name)
            return servers.run_python(servers.app_env(home, DATABASE_URL=primary.url(name)), SETUP)

        env = servers.app_env(home, DATABASE_URL=primary.url(name), DATABASE_REPLICA_URLS=standby.url(name),
                              SHOPYARD_PAGE_CACHE_SECONDS="0", SHOPYARD_REPLICA_PIN_SECONDS="30",
                              # what a lagging replica built may be kept for the pin window (30 s here, for a
                              # busy machine): the cache windows and the primary/replica separation have their
                              # own tests above; this one watches where each read goes
                              SHOPYARD_FRAGMENT_CACHE_SECONDS="0")
        with ThreadPoolExecutor(1) as pool:
            filled = pool.submit(fill)  # while gunicorn starts (it touches no database until asked)
            with servers.gunicorns([env]) as (base,):
                data = filled.result()
                servers.wait_replayed(primary, standby)
                yield {"base": base, "primary": primary, "standby": standby, "db": name, **data}


@pytest.mark.replica
@pytest.mark.skipif(bool(servers.missing_pg()), reason=servers.missing_pg() or "-")
def test_catalogue_reads_come_from_the_replica_and_a_shoppers_own_from_the_primary(replicated_shop):
    s = replicated_shop
    base, primary, standby, db = s["base"], s["primary"], s["standby"], s["db"]
    old, new = s["title_en"], "Brass desk lamp"

    # given the standby replays nothing from now on
    standby.sql("SELECT pg_wal_replay_pause()")
    # when the seller renames the product (a write: it must reach the primary)
    seller = servers.Browser()
    status, body = seller.request("PUT", f"{base}/api/v1/seller/products/{s['product']}", json_body={
        "category_id": s["category"], "title": s["title"], "title_en": new,
        "skus": [{"code": s["sku_code"], "price": "88.00", "stock": 20}],
    }, headers={"Authorization": f"Bearer {s['seller_token']}"})
    assert status == 200, body
    assert primary.sql(f"SELECT title_en FROM catalog_product WHERE id = {s['product']}", db) == new
    assert standby.sql(f"SELECT title_en FROM catalog_product WHERE id = {s['product']}", db) == old

    # then an anonymous visitor's catalogue pages and API are read from the replica: the old name
    visitor = servers.Browser()
    status, page = visitor.get(f"{base}/p/{s['product']}/")
    assert status == 200 and old in page and new not in page
    status, listing = visitor.get(f"{base}/c/{s['category_slug']}/")
    assert status == 200 and old in listing and new not in listing
    status, api = visitor.get(f"{base}/api/v1/products/{s['product']}")
    assert status == 200 and json.loads(api)["title_en"] == old
    status, api = visitor.get(f"{base}/api/v1/products?category={s['category']}")
    assert [p["title_en"] for p in json.loads(api)["results"]] == [old]

    # a shopper logs in and adds the product to the cart: writes, on the primary (the standby is read-only)
    shopper = servers.Browser()
    status, _ = shopper.login(base, "replica-shopper", s["password"])
    assert status == 200 and shopper.cookie(PIN_COOKIE)
    status, cart = shopper.post(f"{base}/cart/add/", {"sku_id": s["sku"], "quantity": "2",
                                                      "csrfmiddlewaretoken": shopper.cookie("csrftoken")})
    assert status == 200  # followed to the cart page
    # the cart line exists on the primary only, and the cart page shows it
    assert primary.sql("SELECT count(*) FROM cart_cartline", db) == "1"
    assert standby.sql("SELECT count(*) FROM cart_cartline", db) == "0"
    assert new in servers.text_of(cart)
    # pinned after the write, the shopper sees the catalogue as the primary has it
    status, page = shopper.get(f"{base}/p/{s['product']}/")
    assert new in page and old not in page
    # the pin gone, the cart is still read from the primary (a shopper's own data never uses a replica)
    shopper.forget(PIN_COOKIE)
    status, cart = shopper.get(f"{base}/cart/")
    assert status == 200 and new in servers.text_of(cart)
    status, page = shopper.get(f"{base}/p/{s['product']}/")
    assert old in page  # and the catalogue from the replica again

    # an order placed through the API is listed at once, from the primary
    token = {"Authorization": f"Bearer {s['shopper_token']}", "Idempotency-Key": uuid.uuid4().hex}
    api_client = servers.Browser()
    status, placed = api_client.request("POST", f"{base}/api/v1/orders", json_body={
        "address_id": s["address"], "lines": [{"sku_id": s["sku"], "quantity": 1}]}, headers=token)
    assert status == 201, placed
    number = json.loads(placed)["orders"][0]["number"]
    status, orders = api_client.get(f"{base}/api/v1/orders", headers=token)
    assert [o["number"] for o in json.loads(orders)["results"]] == [number]
    assert standby.sql("SELECT count(*) FROM orders_order", db) == "0"

    # a write sent to the replica would fail, not vanish
    refused = standby.try_sql("UPDATE catalog_product SET title_en = 'x'", db)
    assert refused.returncode != 0 and "read-only" in refused.stderr

    # once the standby replays again, the visitor sees the new name
    standby.sql("SELECT pg_wal_replay_resume()")
    servers.wait_replayed(primary, standby)
    status, page = visitor.get(f"{base}/p/{s['product']}/")
    assert new in page and old not in page
