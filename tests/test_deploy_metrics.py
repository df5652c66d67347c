"""The metrics page of the shipped web unit counts every gunicorn worker, whichever one answers.

Each worker process keeps its own Prometheus values: without prometheus-client's
multiprocess mode a scrape reads the one worker that happens to answer, so a counter
jumps up and down between scrapes. deploy/systemd/shopyard-web.service sets
PROMETHEUS_MULTIPROC_DIR (a runtime directory systemd makes) and runs gunicorn with
shopyard/operations/gunicorn_hooks.py. Here that command and that environment run with
three workers (the directory a folder of this test's own, as systemd would make it),
on a SQLite home of the test's own: the pages used read no table."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from shopyard.operations import gunicorn_hooks

from . import servers
from .test_deploy_systemd import INSTALLED_BIN, UNITS, exec_start, unit_settings

TOKEN = "metrics-test-token"
ROBOTS = re.compile(r'^django_http_requests_total_by_view_transport_method_total\{[^}]*view="storefront:robots"[^}]*\} (\S+)$',
                    re.M)


def _unit_metrics_dir() -> str:
    """The unit's PROMETHEUS_MULTIPROC_DIR, which must be the runtime directory systemd makes for it."""
    found = unit_settings(UNITS / "shopyard-web.service")
    environment = dict(line.split("=", 1) for line in found["Environment"])
    (runtime,) = found["RuntimeDirectory"]
    assert environment["PROMETHEUS_MULTIPROC_DIR"] == f"/run/{runtime}"
    assert found["RuntimeDirectoryPreserve"] == ["yes"]  # a restart keeps the counters of ended workers
    return environment["PROMETHEUS_MULTIPROC_DIR"]


def _get(url, headers=None) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=60) as response:
        assert response.status == 200
        return response.read()


def _robots_counted(base) -> float:
    page = _get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"}).decode()
    found = ROBOTS.findall(page)
    return float(found[0]) if found else 0.0


def _writers(metrics_dir: Path) -> set[str]:
    """The processes that have written values (each to files named by its process id)."""
    return {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}


def _robots_counted_by_each(metrics_dir: Path, tmp_path: Path) -> dict[str, float]:
    """Each process's own count of robots.txt requests, read from its file alone."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        alone = tmp_path / f"alone-{path.stem}"
        alone.mkdir(parents=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        found = ROBOTS.findall(generate_latest(registry).decode())
        counts[path.stem.rsplit("_", 1)[1]] = float(found[0]) if found else 0.0
    return counts


def _workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


@pytest.fixture
def web_unit(tmp_path):
    if not servers.GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed beside {servers.GUNICORN.parent}")
    _unit_metrics_dir()
    metrics_dir = tmp_path / "run-shopyard-metrics"
    metrics_dir.mkdir()
    home = tmp_path / "home"
    home.mkdir()

    def command(port):
        command = exec_start("shopyard-web.service")
        assert command[0] == INSTALLED_BIN + "gunicorn"
        command[0] = str(servers.GUNICORN)
        command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
        command[command.index("--workers") + 1] = "3"
        command[command.index("--timeout") + 1] = "180"  # a loaded test machine imports Django slowly
        return command

    env = servers.app_env(home, PROMETHEUS_MULTIPROC_DIR=metrics_dir, SHOPYARD_METRICS_TOKEN=TOKEN)
    started = []
    with servers.gunicorns([env], command, started) as (base,):
        (master,) = started
        # every worker has loaded the application (its counters' file exists from then on), so
        # none is still importing while the others take all the requests
        deadline = time.monotonic() + 180
        while len(_writers(metrics_dir)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield SimpleNamespace(base=base, master=master.pid, metrics_dir=metrics_dir)


def _load(base, n):
    """`n` requests for robots.txt, eight at a time: several workers serve them."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _i: _get(f"{base}/robots.txt"), range(n)))


def test_every_scrape_counts_the_requests_of_every_worker(web_unit, tmp_path):
    # requests until several workers have answered some (on a loaded machine one worker may
    # take the first batches alone: the kernel gives a connection to whichever accepts first)
    sent, deadline = 0, time.monotonic() + 120
    while True:
        _load(web_unit.base, 20)
        sent += 20
        shares = _robots_counted_by_each(web_unit.metrics_dir, tmp_path / str(sent))
        if len([n for n in shares.values() if n > 0]) >= 2 or time.monotonic() > deadline:
            break

    # several workers did answer, each counting its own share
    assert len([n for n in shares.values() if n > 0]) >= 2, shares
    assert sum(shares.values()) == sent
    # whichever worker answers the scrape, it reports every one
    assert [_robots_counted(web_unit.base) for _ in range(8)] == [float(sent)] * 8


def test_a_worker_that_dies_takes_none_of_the_counts_with_it(web_unit):
    _load(web_unit.base, 30)
    before = _workers(web_unit.master)
    victim = min(before)

    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while (victim in _workers(web_unit.master) or len(_workers(web_unit.master)) < 3) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert victim not in _workers(web_unit.master) and len(_workers(web_unit.master)) == 3  # replaced

    assert [_robots_counted(web_unit.base) for _ in range(6)] == [30.0] * 6
    _load(web_unit.base, 12)
    assert [_robots_counted(web_unit.base) for _ in range(6)] == [42.0] * 6


def test_the_hook_drops_only_the_live_gauges_of_an_ended_worker(tmp_path, monkeypatch):
    """prometheus-client's rule for gauges summed over live processes: an ended worker's
    value must leave the sum; its counters and histograms stay (a total never goes back)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db", "histogram_4242.db",
                 "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")

    gunicorn_hooks.child_exit(None, SimpleNamespace(pid=4242))

    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db",
                                                           "histogram_4242.db"]


def test_without_the_directory_the_hook_leaves_everything_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")

    gunicorn_hooks.child_exit(None, SimpleNamespace(pid=4242))

    assert (tmp_path / "gauge_livesum_4242.db").exists()


def test_a_missing_metrics_directory_stops_the_start_with_a_clear_reason(tmp_path):
    env = servers.app_env(tmp_path, PROMETHEUS_MULTIPROC_DIR=tmp_path / "not-made")

    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode != 0
    assert "ImproperlyConfigured: PROMETHEUS_MULTIPROC_DIR" in done.stderr
    assert "not a directory" in done.stderr
