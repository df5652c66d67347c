"""Recommendation serving latency over a generated catalogue.

    python bench/recommend.py [--db sqlite|postgres|both] [--products 100000] [--rounds 3]

Bulk-inserts published products (bench/search.py's generator) into a throw-away
database, writes a synthetic taste-cluster behaviour log over them
(recommendations.synthetic: clusters of products of one category, 20,000
shoppers), runs the production recompute (timed), then serves, in-process and
through the calls the pages and the API make: bought together, similar, the
cart's add-ons and the home feed of shoppers with and without history, for
random products and shoppers, cache warm as in production (the id lists are
cached for 10 minutes; the visible-product and cover queries run every time).
Prints one line of figures: wall-clock p50/p95 of every call, and the CPU
time of the calls (which, unlike wall-clock time, does not count the time
spent waiting for a core when other processes load the machine).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, manage  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def behaviour(shoppers: int, seed: int = 5) -> tuple[int, float]:
    """A taste-cluster log over the generated products, bulk-inserted. Returns (events, seconds)."""
    from datetime import datetime, timedelta

    from django.utils import timezone

    from shopyard.analytics.models import BehaviourEvent
    from shopyard.catalog.models import Product
    from shopyard.recommendations import synthetic

    started = time.perf_counter()
    clusters = {}
    for pk, category_id in Product.objects.order_by("pk").values_list("pk", "category_id"):
        clusters.setdefault(category_id, []).append(pk)
    now = timezone.now()
    log = synthetic.taste_log(clusters, shoppers=shoppers, seed=seed, days=30,
                              start=(now - timedelta(days=30)).timestamp())
    tz = timezone.get_current_timezone()
    BehaviourEvent.objects.bulk_create(
        [BehaviourEvent(kind=e.kind, visitor=f"{int(e.actor[1:]):032x}", product_id=e.item,
                        created_at=datetime.fromtimestamp(e.at, tz)) for e in log], batch_size=5000)
    return len(log), time.perf_counter() - started


def inner(count: int, rounds: int, shoppers: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from search import generate

    from shopyard.catalog.models import Product
    from shopyard.recommendations import queries, services

    gen = generate(count)
    events, log_s = behaviour(shoppers)
    started = time.perf_counter()
    summary = services.recompute()
    recompute_s = time.perf_counter() - started
    # planner statistics, as a live database has them (autovacuum) after bulk loads
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    services.bump_version()
    rng = random.Random(3)
    product_ids = list(Product.objects.values_list("pk", flat=True))
    products = {p.pk: p for p in Product.objects.filter(pk__in=rng.sample(product_ids, 300)).only("pk", "category_id")}
    sample = list(products.values())
    visitors = [f"{n:032x}" for n in rng.sample(range(shoppers), 100)] + ["f" * 32] * 20  # 20 with no history
    calls = [
        ("bought_together", lambda p, v: queries.bought_together(p, limit=10)),
        ("similar", lambda p, v: queries.similar(p, limit=10)),
        ("product_page_blocks", lambda p, v: queries.product_blocks(p, limit=6)),
        ("cart_addons", lambda p, v: queries.cart_addons([p.pk, rng.choice(product_ids)], limit=10)),
        ("for_you", lambda p, v: queries.for_you(visitor=v, limit=10)),
    ]
    for p in sample:  # warm: the id caches, as a running site has them
        for _name, call in calls:
            call(p, rng.choice(visitors))
    times, cpu, shown, per_call = [], [], 0, {name: [] for name, _call in calls}
    for _round in range(rounds):
        for p in sample:
            for name, call in calls:
                t, c = time.perf_counter(), time.process_time()
                result = call(p, rng.choice(visitors))
                ms = (time.perf_counter() - t) * 1000
                cpu.append((time.process_time() - c) * 1000)
                times.append(ms)
                per_call[name].append(ms)
                shown += bool(result)
    return {"db": connection.vendor, "products": count, "events": events, "generate_s": round(gen + log_s, 1),
            "recompute_s": round(recompute_s, 1), "neighbour_rows": summary["neighbours"], "calls": len(times),
            "non_empty_share": round(shown / len(times), 2),
            "p50_ms": round(statistics.median(times), 2), "p95_ms": round(pct(times, 95), 2),
            "max_ms": round(max(times), 1),
            # this process's CPU time per call: the wall-clock figures above include waiting for a core
            # on a shared machine (the database runs in-process for SQLite, so its work is counted here)
            "cpu_p50_ms": round(statistics.median(cpu), 2), "cpu_p95_ms": round(pct(cpu, 95), 2),
            "p95_ms_by_call": {name: round(pct(v, 95), 2) for name, v in per_call.items()}}


def run(db: str, count: int, rounds: int, shoppers: int) -> dict:
    with environment(db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, __file__, "--inner", "--products", str(count), "--rounds", str(rounds),
                              "--shoppers", str(shoppers)],
                             env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shoppers", type=int, default=20_000)
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        print(json.dumps(inner(args.products, args.rounds, args.shoppers), separators=(",", ":")))
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(json.dumps({"bench": "recommend", "runs": [run(db, args.products, args.rounds, args.shoppers) for db in dbs]},
                     separators=(",", ":")))


if __name__ == "__main__":
    main()
