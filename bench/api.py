"""Catalogue API throughput: GET /api/v1/products/{id} and GET /api/v1/products
(24 per page), served by gunicorn with 2 workers and loaded by wrk from another
process on loopback, as an anonymous client.

    python bench/api.py [--db sqlite|postgres] [--products 10000] [--seconds 10] [--redis on|off]
                        [--api-cache-seconds 30]

Four runs, each req/s and p50/p95/p99 (ms):
- detail_200 / list_200: full responses, spread at random over `--product-urls`
  products and over pages 1..`--pages` x the four sorts;
- detail_304 / list_304: conditional requests (If-None-Match with the ETag each
  URL was first answered with) over `--conditional-urls` of those URLs.
`--api-cache-seconds 0` assembles every body afresh (no kept bodies or counts).
Prints one JSON line, with the load average before and after.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, analyze, environment, gunicorn, manage, wrk  # noqa: E402

SORTS = ("newest", "price_asc", "price_desc", "sales")


def loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def product_ids(env, n):
    code = (
        "import django, json, random;django.setup();"
        "from shopyard.catalog.models import Product;"
        "ids=list(Product.objects.filter(status='published').values_list('id', flat=True));"
        f"random.seed(7);print(json.dumps(random.sample(ids, min({n}, len(ids)))))"
    )
    return json.loads(subprocess.run([PY, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                                     check=True).stdout)


def rotate(paths, etags=None):
    if etags is None:
        table = "{" + ",".join(f'"{p}"' for p in paths) + "}"
        return f"local paths = {table}\nrequest = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"
    table = "{" + ",".join("{" + f'"{p}", {json.dumps(etags[p])}' + "}" for p in paths) + "}"
    return (f"local items = {table}\n"
            "request = function()\n  local it = items[math.random(#items)]\n"
            "  return wrk.format('GET', it[1], {['If-None-Match'] = it[2]})\nend\n")


def etags_of(base, paths):
    tags = {}
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            tags[path] = resp.headers["ETag"]
    return tags


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--redis", choices=["on", "off"], default="off", help="the cache in Redis (127.0.0.1:6379) or local memory")
    ap.add_argument("--api-cache-seconds", type=int, default=30, help="SHOPYARD_API_CACHE_SECONDS; 0 assembles every body")
    ap.add_argument("--product-urls", type=int, default=2000, help="distinct products requested at random")
    ap.add_argument("--pages", type=int, default=50, help="listing pages 1..N of each sort")
    ap.add_argument("--conditional-urls", type=int, default=200, help="distinct URLs of the 304 runs")
    args = ap.parse_args()
    with environment(args.db) as env:
        env["SHOPYARD_API_CACHE_SECONDS"] = str(args.api_cache_seconds)
        # on a busy machine a worker's first request (importing the app) can pass gunicorn's 30 s
        env.setdefault("GUNICORN_CMD_ARGS", "--timeout 120")
        if args.redis == "on":
            env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
            env["REDIS_KEY_PREFIX"] = f"api-bench-{uuid.uuid4().hex[:8]}"
        else:
            env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput")
        manage(env, "load_bench_catalog", "--products", str(args.products))
        analyze(env)
        details = [f"/api/v1/products/{i}" for i in product_ids(env, args.product_urls)]
        lists = [f"/api/v1/products?sort={s}&page={p}" for s in SORTS for p in range(1, args.pages + 1)]
        rng = random.Random(7)
        load_before = loadavg()
        with gunicorn(env, workers=2) as base:
            wrk(base + details[0], seconds=1, connections=4)  # start workers and connections
            detail_200 = wrk(base + "/", seconds=args.seconds, connections=args.connections, script_body=rotate(details))
            list_200 = wrk(base + "/", seconds=args.seconds, connections=args.connections, script_body=rotate(lists))
            some = rng.sample(details, min(args.conditional_urls, len(details)))
            detail_304 = wrk(base + "/", seconds=args.seconds, connections=args.connections,
                             script_body=rotate(some, etags_of(base, some)))
            some = rng.sample(lists, min(args.conditional_urls, len(lists)))
            list_304 = wrk(base + "/", seconds=args.seconds, connections=args.connections,
                           script_body=rotate(some, etags_of(base, some)))
    print(json.dumps({
        "bench": "api", "db": args.db, "products": args.products, "redis": args.redis,
        "api_cache_s": args.api_cache_seconds, "workers": 2, "connections": args.connections,
        "product_urls": len(details), "list_urls": len(lists), "conditional_urls": args.conditional_urls,
        "loadavg_before": load_before, "loadavg_after": loadavg(),
        "detail_200": detail_200, "list_200": list_200, "detail_304": detail_304, "list_304": list_304,
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
