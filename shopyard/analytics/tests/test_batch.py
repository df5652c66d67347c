"""Behaviour events kept by the process and written together (core/held.py):
at the limit in one INSERT, after the seconds by a timer thread when the shop is
quiet, at a login before the claim, at a worker's graceful exit; never twice, never
lost between racing threads, never written by a forked child as well as its parent."""

import logging
import os
import sqlite3
import threading
import time
import urllib.request
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shopyard.analytics import services
from shopyard.analytics.models import BehaviourEvent
from shopyard.core.held import HeldBatch, forget_in_children
from tests import factories as f
from tests import servers


class Writes:
    """A write function that remembers each call's rows and thread."""

    def __init__(self, fail=False):
        self.calls, self.fail = [], fail
        self.lock = threading.Lock()

    def __call__(self, rows):
        if self.fail:
            raise RuntimeError("database away")
        with self.lock:
            self.calls.append((list(rows), threading.current_thread()))

    def rows(self):
        return [row for rows, _thread in self.calls for row in rows]


def wait_for(check, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_rows_are_written_together_once_the_limit_is_reached():
    writes = Writes()
    batch = HeldBatch(writes, what="test rows")
    batch.add(["a", "b"], limit=3, seconds=60)
    assert writes.calls == [] and batch.held() == 2
    batch.add(["c"], limit=3, seconds=60)
    # one write of all three, in the order recorded, by the request that reached the limit
    assert writes.calls == [(["a", "b", "c"], threading.current_thread())]
    assert batch.held() == 0


def test_a_quiet_process_writes_what_it_holds_after_the_seconds():
    writes = Writes()
    batch = HeldBatch(writes, what="test rows")
    batch.add(["only"], limit=100, seconds=0.2)
    assert writes.calls == []
    assert wait_for(lambda: writes.calls)
    [(rows, thread)] = writes.calls
    assert rows == ["only"] and thread is not threading.current_thread()
    assert batch.held() == 0


def test_racing_threads_lose_nothing_and_write_nothing_twice():
    writes = Writes()
    batch = HeldBatch(writes, what="test rows")

    def shopper(n):
        for i in range(400):
            batch.add([(n, i)], limit=7, seconds=0.005)

    threads = [threading.Thread(target=shopper, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wait_for(lambda: batch.held() == 0)
    batch.flush()
    written = writes.rows()
    assert sorted(written) == [(n, i) for n in range(8) for i in range(400)]
    for n in range(8):  # each thread's rows in the order it recorded them
        assert [i for m, i in written if m == n] == list(range(400))


def test_a_failed_write_is_logged_and_dropped_and_the_next_batch_still_written(caplog):
    writes = Writes(fail=True)
    batch = HeldBatch(writes, what="behaviour events")
    with caplog.at_level(logging.ERROR, logger="shopyard.held"):
        batch.add(["lost"], limit=1, seconds=60)  # never raises into the request
    assert "could not hand on 1 behaviour events" in caplog.text
    assert batch.held() == 0  # nothing piles up while the database is away
    writes.fail = False
    batch.add(["next"], limit=1, seconds=60)
    assert writes.rows() == ["next"]


def test_a_forked_child_leaves_its_parents_events_to_the_parent():
    writes = Writes()
    batch = HeldBatch(writes, what="test rows")
    forget_in_children(batch)
    batch.add(["parent's"], limit=100, seconds=60)
    pid = os.fork()
    if pid == 0:  # the child: holds nothing, and a flush writes nothing
        os._exit(0 if batch.held() == 0 and batch.flush() == 0 and writes.calls == [] else 1)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert batch.held() == 1 and batch.flush() == 1 and writes.rows() == ["parent's"]


# --- with the database ----------------------------------------------------------------------------


@pytest.fixture
def batching(settings):
    """Batching on, as in production; whatever a test leaves held is written before the next."""
    settings.BEHAVIOUR_BATCH_SECONDS = 60
    settings.BEHAVIOUR_BATCH_EVENTS = 3
    yield settings
    services.write_held_events()


def _views():
    return list(BehaviourEvent.objects.filter(kind="view").order_by("id").values_list("product_id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_product_views_are_kept_then_written_with_one_insert(client, shop, batching):
    products = [f.make_product(shop, title=f"灯 {n}") for n in range(3)]
    for p in products[:2]:
        assert client.get(f.product_url(p)).status_code == 200
    assert _views() == [] and services.held_events() == 2
    with CaptureQueriesContext(connection) as third:
        assert client.get(f.product_url(products[2])).status_code == 200
    # one write for the three (executemany: "3 times: INSERT ...")
    [write] = [q["sql"] for q in third.captured_queries if "analytics_behaviourevent" in q["sql"]]
    assert write.startswith("3 times: INSERT INTO")
    assert _views() == [p.pk for p in products]
    assert services.held_events() == 0


@pytest.mark.django_db(transaction=True)
def test_a_quiet_shops_view_reaches_the_database_within_the_seconds(client, shop, batching):
    batching.BEHAVIOUR_BATCH_SECONDS = 0.3
    product = f.make_product(shop)
    assert client.get(f.product_url(product)).status_code == 200
    # nobody else visits: the timer thread writes it, on a connection of its own
    assert wait_for(lambda: _views() == [product.pk])
    assert services.held_events() == 0


@pytest.mark.django_db(transaction=True)
def test_a_login_claims_the_views_this_process_still_holds(client, shopper, shop, batching):
    a, b = f.make_product(shop, title="甲"), f.make_product(shop, title="乙")
    client.get(f.product_url(a))
    client.get(f.product_url(b))
    assert services.held_events() == 2
    response = client.post(reverse("accounts:login"), {"username": shopper.username, "password": f.PASSWORD})
    assert response.status_code == 302
    assert sorted(BehaviourEvent.objects.filter(user=shopper, kind="view").values_list("product_id", flat=True)) == \
        sorted([a.pk, b.pk])
    assert not BehaviourEvent.objects.filter(user__isnull=True, kind="view").exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_keeps_its_other_rows_when_a_shoppers_account_is_gone(shop, batching, caplog):
    product = f.make_product(shop)
    gone, stays = f.make_user("gone"), f.make_user("stays")
    for user in (gone, stays):
        services.write_events(events=[("view", product.pk, "", timezone.now())], user_id=user.pk)
    gone.delete()  # between the view and the batch's write
    with caplog.at_level(logging.WARNING, logger="shopyard.analytics"):
        services.write_held_events()
    assert list(BehaviourEvent.objects.values_list("user_id", flat=True)) == [stays.pk]
    assert "dropped a behaviour event of a user who is gone" in caplog.text


SETUP = """
from tests import factories as f
shop = f.make_shop("退出测试店", owner=f.make_user("exit-seller"))
print(json.dumps({"products": [f.make_product(shop, title=f"灯 {n}").pk for n in range(3)]}))
"""


@pytest.fixture
def app_database(db, tmp_path):
    """Environment of a gunicorn on a database of this test's own, with the test database's schema:
    a copy of the SQLite file, or a scratch PostgreSQL database."""
    home = tmp_path / "home"
    home.mkdir()
    if connection.vendor == "sqlite":
        with sqlite3.connect(connection.settings_dict["NAME"]) as src, \
                sqlite3.connect(home / "shopyard.sqlite3") as dst:
            src.backup(dst)
        yield servers.app_env(home), lambda sql: sqlite3.connect(home / "shopyard.sqlite3").execute(sql).fetchall()
        return
    import psycopg

    server, test_db = servers.PgServer.of_test_database()
    with servers.scratch_database(server, server.url(test_db), f"{test_db}_exit_{uuid.uuid4().hex[:8]}") as name:
        def query(sql):
            with psycopg.connect(server.url(name)) as conn:
                return conn.execute(sql).fetchall()

        yield servers.app_env(home, DATABASE_URL=server.url(name)), query


@pytest.mark.skipif(not servers.GUNICORN.exists(), reason="gunicorn is not installed beside the interpreter")
def test_a_workers_graceful_stop_writes_what_it_held(app_database):
    env, query = app_database
    env.update(SHOPYARD_BEHAVIOUR_BATCH_SECONDS="600", SHOPYARD_BEHAVIOUR_BATCH_EVENTS="1000")
    products = servers.run_python(env, SETUP)["products"]
    views = "SELECT product_id FROM analytics_behaviourevent WHERE kind = 'view' ORDER BY id"
    with servers.gunicorns([env]) as [base]:
        for pk in products:
            with urllib.request.urlopen(f"{base}/p/{pk}/", timeout=30) as response:
                assert response.status == 200
        assert query(views) == []  # held by the worker
    # gunicorn stopped gracefully (SIGTERM): the worker wrote them on its way out
    assert [pk for (pk,) in query(views)] == products
