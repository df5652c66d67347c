"""The `shopyard` command, run as a new user runs it: in a subprocess, with
nothing but SHOPYARD_HOME pointing at an empty directory.

These use the embedded defaults (SQLite under SHOPYARD_HOME, eager Celery),
whatever DATABASE_URL the test session itself runs on, so they are marked
`cli` and left out of the PostgreSQL stage of .ci/run.
"""

import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.cli

DEMO_ACCOUNTS = [
    ("operator", "operator123"),
    ("shopper", "shopper123"),
    ("seller", "seller123"),
    ("seller2", "seller123"),
]
# the environment of a machine with nothing configured but SHOPYARD_HOME
SERVICE_VARIABLES = {
    "DATABASE_URL", "REDIS_URL", "BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_QUEUE",
    "SHOPYARD_TEST_SQLITE", "SHOPYARD_DEBUG", "DJANGO_SETTINGS_MODULE", "SHOPYARD_MEDIA_ROOT",
}


def _command() -> list:
    script = Path(sys.executable).with_name("shopyard")
    if script.exists():  # the console script `pip install -e .` installs
        return [str(script)]
    return [sys.executable, "-m", "shopyard.cli"]


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env["SHOPYARD_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def shopyard(home: Path, *args, timeout=900) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [*_command(), *args], env=_env(home), cwd=home.parent, capture_output=True, text=True, timeout=timeout,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, f"`shopyard {' '.join(args)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done, elapsed


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)


def _counts(db: Path) -> dict:
    tables = ["accounts_user", "shops_shop", "catalog_category", "catalog_product", "catalog_sku", "catalog_productimage"]
    return {t: _count(db, t) for t in tables}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """A home prepared twice by `shopyard demo --no-serve`: (home, first run, second run)."""
    home = tmp_path_factory.mktemp("shopyard-home")
    first = shopyard(home, "demo", "--no-serve")
    counts_after_first = _counts(home / "shopyard.sqlite3")
    second = shopyard(home, "demo", "--no-serve")
    return home, first, second, counts_after_first


def test_demo_migrates_loads_demo_data_and_prints_the_accounts(demo_home):
    home, (first, _elapsed), _second, counts = demo_home

    assert (home / "shopyard.sqlite3").is_file()
    assert (home / "media").is_dir()
    for username, password in DEMO_ACCOUNTS:
        assert username in first.stdout, first.stdout
        assert password in first.stdout, first.stdout
    # the demo the issue asks for: three shops or more, a two-level tree of
    # 8+ categories, 60+ products with SKUs and locally generated images
    assert counts["shops_shop"] >= 3
    assert counts["catalog_category"] >= 8
    assert counts["catalog_product"] >= 60
    assert counts["catalog_sku"] > counts["catalog_product"]
    assert counts["catalog_productimage"] >= counts["catalog_product"]
    assert counts["accounts_user"] >= len(DEMO_ACCOUNTS)
    with sqlite3.connect(home / "shopyard.sqlite3") as conn:
        usernames = {row[0] for row in conn.execute("SELECT username FROM accounts_user")}
        children = conn.execute("SELECT COUNT(*) FROM catalog_category WHERE parent_id IS NOT NULL").fetchone()[0]
    assert {u for u, _p in DEMO_ACCOUNTS} <= usernames
    assert children >= 1


def test_second_demo_run_is_quick_keeps_the_data_and_still_prints_the_accounts(demo_home):
    home, (_first, first_elapsed), (second, second_elapsed), counts = demo_home

    assert _counts(home / "shopyard.sqlite3") == counts
    assert second_elapsed < first_elapsed, (first_elapsed, second_elapsed)
    assert second_elapsed < 60, second_elapsed
    for username, password in DEMO_ACCOUNTS:
        assert username in second.stdout, second.stdout
        assert password in second.stdout, second.stdout


def test_run_periodic_prints_what_it_did_as_json(demo_home):
    home, *_ = demo_home

    done, _elapsed = shopyard(home, "run-periodic")

    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["cancelled_unpaid_orders"] == 0
    assert isinstance(outcome["dispatched_events"], int)


def _free_port() -> int:
    for _ in range(50):
        port = random.randint(18000, 18999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 18000-18999")


def _get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def test_demo_serves_the_storefront_and_the_api_docs(demo_home):
    home, *_ = demo_home
    port = _free_port()
    proc = subprocess.Popen(
        [*_command(), "demo", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(home), cwd=home.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"`shopyard demo` exited {proc.returncode}:\n{proc.stdout.read()}")
            try:
                status, body = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, status
        assert "<html" in body.lower()
        docs_status, docs = _get(f"http://127.0.0.1:{port}/api/v1/docs")
        assert docs_status == 200
        schema_status, schema = _get(f"http://127.0.0.1:{port}/api/v1/openapi.json")
        assert schema_status == 200
        assert json.loads(schema)["info"]["title"] == "Shopyard API"
    finally:
        proc.terminate()
        try:
            output, _unused = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _unused = proc.communicate(timeout=10)
    # the accounts and the links printed point at the address being served
    assert "shopper123" in output
    assert f"http://127.0.0.1:{port}/console/" in output


def test_migrate_creates_the_database_in_an_empty_home_and_is_repeatable(tmp_path):
    home = tmp_path / "fresh"  # does not exist yet: the command creates it

    done, _elapsed = shopyard(home, "migrate")

    db = home / "shopyard.sqlite3"
    assert db.is_file()
    assert _count(db, "django_migrations") > 10
    assert _count(db, "catalog_product") == 0  # migrate never loads demo data
    again, _elapsed = shopyard(home, "migrate")
    assert "No migrations to apply" in again.stdout


def test_manage_passes_any_command_through(tmp_path):
    done, _elapsed = shopyard(tmp_path, "manage", "check")

    assert "System check identified no issues" in done.stdout
