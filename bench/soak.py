"""Soak test: a realistic mix of shoppers (locust, headless) for a bounded
time against gunicorn + PostgreSQL + Redis + a Celery worker, all on
loopback, to find what only shows after minutes: leaks, errors under a
mixed load, a worker that falls behind.

    python bench/soak.py [--minutes 10] [--users 20] [--think 0.5 2.0] [--products 10000] [--shoppers 200]

Needs `pip install -e '.[bench]'` (locust), PostgreSQL on 127.0.0.1:5432,
Redis on 127.0.0.1:6379 and RabbitMQ (guest/guest) on 127.0.0.1:5672. The run
gets a fresh database, its own Redis key prefix and its own broker queue,
and removes all three afterwards.

Mix (bench/_soak_locustfile.py): browsing 80 % (home, category listings,
product pages, search), cart 15 % (add, view, change, the cart page),
checkout and pay 5 % (order over the API, pay on the simulated gateway's
page; the Celery worker delivers the signed notification).

Prints one line: throughput, p95, error rate (limit 0.1 %), orders placed and
paid, and the RSS of each gunicorn worker and of the Celery worker after the
warm-up and at the end, with growth % (limit 10 %).
"""

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _harness import BIN, PY, ROOT, environment, gunicorn, manage  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/0"
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

SETUP = r"""
import django, json, random, sys
django.setup()
from django.test import Client
from shopyard.accounts.models import User
from shopyard.accounts.services import create_address, issue_token
from shopyard.catalog.models import Category, Product, Sku
from shopyard.demo import data
from shopyard.inventory.models import StockLevel
shoppers, pool = int(sys.argv[1]), int(sys.argv[2])
random.seed(11)
users = []
for i in range(shoppers):
    u = User.objects.create_user(f"soak{i}")  # signed in by session: no password to hash
    a = create_address(actor=u, data={"recipient": "张三", "phone": "13800138000", "province": "上海市",
        "city": "上海市", "district": "浦东新区", "detail": "世纪大道 1 号"})
    c = Client()
    c.force_login(u)
    users.append({"token": issue_token(user=u), "address": a.pk, "session": c.cookies["sessionid"].value})
ids = list(Product.objects.filter(status="published").values_list("id", flat=True))
# what shoppers buy: a pool of SKUs with ample stock, so a sold-out answer stays the rare business case
skus = random.sample(list(Sku.objects.filter(product_id__in=ids).values_list("id", flat=True)), pool)
StockLevel.objects.filter(sku_id__in=skus).update(quantity=10**7)
slugs = list(Category.objects.filter(parent__isnull=False).values_list("slug", flat=True))
listings = [f"/c/{s}/?sort={o}&page={p}" for s in slugs for o in ("newest", "price_asc", "sales") for p in (1, 2, 3)]
listings += [f"/c/{s}/" for s in Category.objects.values_list("slug", flat=True)]
queries = sorted({w for p in data.PRODUCTS for w in (p["title"].split()[0], p["title_en"].split()[0].lower())})
print(json.dumps({"users": users, "skus": skus, "products": random.sample(ids, min(3000, len(ids))),
                  "listings": listings, "queries": queries}))
"""


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return sorted(kids)


def wait_for_worker(env, name, proc, log, timeout=90):
    """Until the worker answers a remote-control ping over the broker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {proc.returncode}:\n{Path(log).read_text()[-3000:]}")
        out = subprocess.run([PY, "-m", "celery", "-A", "shopyard", "inspect", "ping", "-d", name, "--timeout", "2"],
                             env=env, cwd=ROOT, capture_output=True, text=True)
        if out.returncode == 0 and "pong" in out.stdout:
            return
        time.sleep(1)
    raise RuntimeError(f"the Celery worker did not answer in {timeout} s:\n{Path(log).read_text()[-3000:]}")


def cleanup_redis_and_queue(env, prefix, queue):
    """Delete this run's Redis keys (cache, results) and its broker queue and exchange."""
    code = (
        "import sys, redis\nfrom kombu import Connection\n"
        "r = redis.Redis.from_url(sys.argv[1], socket_timeout=10)\n"
        "keys = list(r.scan_iter(match=sys.argv[2] + ':*', count=1000))\n"
        "[r.delete(*keys[i:i + 1000]) for i in range(0, len(keys), 1000)]\n"
        "with Connection(sys.argv[3], connect_timeout=10) as conn:\n"
        "    ch = conn.default_channel\n"
        "    ch.queue_delete(sys.argv[4]); ch.exchange_delete(sys.argv[4])\n"
        "print(len(keys))\n"
    )
    out = subprocess.run([PY, "-c", code, REDIS_URL, prefix, BROKER_URL, queue], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else f"cleanup failed: {out.stderr[-500:]}"


def count_orders(env):
    code = ("import django, json;django.setup();from shopyard.orders.models import Order;"
            "print(json.dumps({'placed': Order.objects.count(), 'paid': Order.objects.filter(paid_at__isnull=False).count()}))")
    return json.loads(subprocess.run([PY, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                                     check=True).stdout.strip().splitlines()[-1])


def aggregated(stats_csv: Path) -> dict:
    with stats_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    per = {r["Name"]: r for r in rows}
    agg = per["Aggregated"]
    return {
        "requests": int(agg["Request Count"]), "failures": int(agg["Failure Count"]),
        "rps": round(float(agg["Requests/s"]), 1), "p50_ms": float(agg["50%"]), "p95_ms": float(agg["95%"]),
        "p99_ms": float(agg["99%"]),
        "by_name": {n: {"n": int(r["Request Count"]), "fail": int(r["Failure Count"]), "p95_ms": float(r["95%"])}
                    for n, r in per.items() if n != "Aggregated"},
    }


def growth(start: dict, end: dict) -> dict:
    return {k: round(100.0 * (end[k] - start[k]) / start[k], 1) for k in start if k in end and start[k]}


def _stop(signum, _frame):
    raise SystemExit(128 + signum)  # run the clean-up (finally blocks) on SIGTERM too


def main():
    signal.signal(signal.SIGTERM, _stop)
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--users", type=int, default=20, help="concurrent simulated shoppers")
    ap.add_argument("--think", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"),
                    help="seconds a shopper waits between two actions")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--shoppers", type=int, default=200, help="accounts the simulated shoppers sign in as")
    ap.add_argument("--warmup", type=float, default=60, help="seconds before the first memory reading")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("locust", path=str(BIN)) and not shutil.which("locust"):
        raise SystemExit("locust is not installed: pip install -e '.[bench]'")
    run_id = uuid.uuid4().hex[:8]
    prefix, queue = f"soak-{run_id}", f"soak-{run_id}"
    work = Path(tempfile.mkdtemp(prefix="shopyard-soak-"))
    run_seconds = int(args.minutes * 60)
    with environment("postgres") as env:
        env.update({"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix, "BROKER_URL": BROKER_URL,
                    "CELERY_QUEUE": queue, "SHOPYARD_SIMULATED_GATEWAY": "1", "PYTHONUNBUFFERED": "1"})
        worker = locust = None
        try:
            manage(env, "migrate", "--noinput")
            manage(env, "load_bench_catalog", "--products", str(args.products))
            out = subprocess.run([PY, "-c", SETUP, str(args.shoppers), "500"], env=env, cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout.strip().splitlines()[-1]
            (work / "data.json").write_text(out, encoding="utf-8")
            name = f"soak-{run_id}@%h"
            log = work / "worker.log"
            with log.open("wb") as fh:
                worker = subprocess.Popen([PY, "-m", "celery", "-A", "shopyard", "worker", "-Q", queue,
                                           "--pool=solo", "-l", "warning", "-n", name,
                                           "--without-gossip", "--without-mingle", "--without-heartbeat"],
                                          env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
            wait_for_worker(env, name.replace("%h", os.uname().nodename), worker, log)
            pidfile = work / "gunicorn.pid"
            with gunicorn(env, workers=args.workers, extra=["--pid", str(pidfile),
                          # a worker that takes over 30 s to start on a loaded machine is not a leak
                          "--timeout", "120"]) as base:
                master = int(pidfile.read_text().strip())
                loc_env = dict(env, SOAK_DATA=str(work / "data.json"), SOAK_BUSINESS_OUT=str(work / "business.json"),
                               SOAK_WAIT_MIN=str(args.think[0]), SOAK_WAIT_MAX=str(args.think[1]))
                locust = subprocess.Popen(
                    [shutil.which("locust", path=str(BIN)) or "locust", "-f", str(ROOT / "bench" / "_soak_locustfile.py"),
                     "--headless", "-u", str(args.users), "-r", str(args.users), "--run-time", f"{run_seconds}s",
                     "--host", base, "--csv", str(work / "soak"), "--only-summary", "--loglevel", "WARNING",
                     "--stop-timeout", "10"],
                    env=loc_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(work / "locust.log", "wb"))
                started = time.monotonic()
                time.sleep(min(args.warmup, run_seconds / 3))
                pids = {f"gunicorn_{i}": p for i, p in enumerate(children(master))} | {"celery": worker.pid}
                rss_start = {k: rss_kib(p) for k, p in pids.items()}
                load_start = Path("/proc/loadavg").read_text().split()[:3]
                rss_end = rss_start
                while locust.poll() is None:
                    time.sleep(5)
                    if time.monotonic() - started < run_seconds - 2:  # the last reading while the load still runs
                        rss_end = {k: rss_kib(p) for k, p in pids.items()}
                load_end = Path("/proc/loadavg").read_text().split()[:3]
                if children(master) != sorted(v for k, v in pids.items() if k.startswith("gunicorn")):
                    rss_end = dict(rss_end, note="a gunicorn worker was replaced during the run")
            stats = aggregated(work / "soak_stats.csv")
            time.sleep(5)  # the worker delivers the last notifications
            orders = count_orders(env)
        finally:
            if locust and locust.poll() is None:
                locust.terminate()
                locust.wait(timeout=30)
            if worker:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
            cleaned = cleanup_redis_and_queue(env, prefix, queue)
    business = json.loads((work / "business.json").read_text()) if (work / "business.json").exists() else {}
    shutil.rmtree(work, ignore_errors=True)
    error_rate = 100.0 * stats["failures"] / max(stats["requests"], 1)
    grow = growth({k: v for k, v in rss_start.items() if isinstance(v, int)},
                  {k: v for k, v in rss_end.items() if isinstance(v, int)})
    print(json.dumps({
        "bench": "soak", "minutes": args.minutes, "users": args.users, "think_s": args.think, "products": args.products,
        "gunicorn_workers": args.workers, "requests": stats["requests"], "rps": stats["rps"],
        "p50_ms": stats["p50_ms"], "p95_ms": stats["p95_ms"], "p99_ms": stats["p99_ms"],
        "failures": stats["failures"], "error_rate_pct": round(error_rate, 3), "error_ok": error_rate < 0.1,
        "business_4xx": business.get("business_4xx"), "orders": orders,
        "rss_kib_start": rss_start, "rss_kib_end": rss_end, "rss_growth_pct": grow,
        "rss_ok": bool(grow) and all(g < 10 for g in grow.values()),
        "loadavg_start": load_start, "loadavg_end": load_end, "redis_keys_deleted": cleaned,
        "by_name": stats["by_name"],
    }, separators=(",", ":"), ensure_ascii=False))


if __name__ == "__main__":
    main()
