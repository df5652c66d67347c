"""This machine's yardstick: what bare Django views serve here, in the same run
as the figures they scale.

Issues 7 and 12 state their aims beside bare-view figures measured on the
machine they were written on ("a bare Django JSON view serves about 1,400
requests/s here", "a bare Django view doing one query serves about 870 req/s",
"a bare Django view that takes stock and inserts an order in one transaction
does about 490/s"). Sessions run on machines of different speed, so a product
figure means little without the bare figure of the same machine and hour:
divide one by the other to compare runs. The bare project is bench/bare/ (no
middleware, no templates, 10,000 items), served by gunicorn like the other
benchmarks (2 workers; the order view with 4 threads each, as bench/orders.py)
and loaded by wrk with 16 connections on loopback.

    python bench/baseline.py [--db sqlite|postgres] [--seconds 10]

Prints one line: req/s and p50/p99 (ms) of the JSON view, the one-query view and
the order view, and each issue's figure for comparison (machine_factor: this
machine's one-query figure over the issue's 870).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, environment, gunicorn, wrk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = r"""
import django, random
django.setup()
from bare.models import Item
Item.objects.bulk_create([Item(title=f"商品 {i}", price=random.randint(100, 99999) / 100, stock=10**9)
                          for i in range(10_000)], batch_size=2000)
"""
ISSUE = {"json": 1400, "one_query": 870, "order": 490}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    with environment(args.db) as env, tempfile.TemporaryDirectory() as tmp:
        env.update(DJANGO_SETTINGS_MODULE="bare.settings", PYTHONPATH=HERE,
                   BARE_SQLITE_PATH=os.path.join(tmp, "bare.sqlite3"))
        subprocess.run([PY, "-m", "django", "migrate", "--run-syncdb", "-v", "0"], env=env, cwd=HERE, check=True)
        subprocess.run([PY, "-c", SEED], env=env, cwd=HERE, check=True)
        figures = {}
        with gunicorn(env, workers=2, extra=["--chdir", HERE], probe="/json", app="bare.wsgi") as base:
            figures["json"] = wrk(base + "/json", seconds=args.seconds, connections=args.connections)
            figures["one_query"] = wrk(base + "/one", seconds=args.seconds, connections=args.connections)
        with gunicorn(env, workers=2, threads=4, extra=["--chdir", HERE], probe="/json", app="bare.wsgi") as base:
            figures["order"] = wrk(base + "/order", seconds=args.seconds, connections=args.connections)
    print(json.dumps({
        "bench": "baseline", "db": args.db, "workers": 2, "connections": args.connections, **figures,
        "issue_rps": ISSUE, "machine_factor": round(figures["one_query"]["rps"] / ISSUE["one_query"], 2),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
