"""Per-request CPU cost of the catalogue API, measured in-process.

    python bench/api_cpu.py [--db sqlite|postgres] [--products 10000] [--requests 1000]
                            [--product-urls 2000] [--pages 50] [--redis on|off]
                            [--api-cache-seconds 30] [--profile detail|detail_cold|list|list_deep]

The same URLs as bench/api.py (2,000 random products, pages 1-50 of each sort),
through `shopyard.wsgi.application` as gunicorn calls it (the fronts in wsgi.py,
then Django), as an anonymous client without a cookie. On a shared machine wrk's req/s moves with the load;
the CPU one process spends per request (time.process_time) barely does. With
PostgreSQL and Redis the servers' own CPU is not in the figure (it is in wall_ms).

Figures, ms per request:
- detail_cold: every product asked for once (no kept body: what a miss costs);
- detail_warm: the same products again, drawn at random (kept bodies);
- detail: drawn at random from the start, as bench/api.py's wrk script does;
- list: listings drawn at random;
- list_deep: the last 20 pages of each sort (OFFSET grows with the catalogue:
  compare `--products 100000` with the default 10,000, issue 12);
- detail_304: conditional requests with the tag each product was answered with.
Each figure carries the SQL statements per request (queries) and, on
PostgreSQL, db_cpu_ms: the server backend's own CPU per request.
`--profile` prints the top of a cProfile of that kind instead of the line.
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))

SORTS = ("newest", "price_asc", "price_desc", "sales")


def inner(args):
    import django

    # one server connection for the whole run, so the server's CPU is read off one backend
    os.environ.setdefault("DB_CONN_MAX_AGE", "86400")
    django.setup()
    from _harness import cpu_per_request

    from shopyard.catalog import api_cache
    from shopyard.catalog.models import Product
    from shopyard.wsgi import application as handler
    ids = list(Product.objects.filter(status="published").values_list("id", flat=True))
    rng = random.Random(7)
    details = [f"/api/v1/products/{i}" for i in rng.sample(ids, min(args.product_urls, len(ids)))]
    lists = [f"/api/v1/products?sort={s}&page={p}" for s in SORTS for p in range(1, args.pages + 1)]
    # the last 20 pages of each sort, where OFFSET costs what the catalogue's size makes it cost
    last = max(1, -(-len(ids) // 24))
    deep = [f"/api/v1/products?sort={s}&page={p}" for s in SORTS for p in range(max(1, last - 19), last + 1)]

    def call(url, etag=None):
        path, _sep, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        if etag:
            environ["HTTP_IF_NONE_MATCH"] = etag
        out = {}
        response = handler(environ, lambda status, headers, exc_info=None: out.update(status=status, headers=headers))
        for _chunk in response:
            pass
        response.close()
        if out["status"][:3] not in ("200", "304"):
            raise SystemExit(f"{url} answered {out['status']}")
        return dict(out["headers"]).get("ETag")

    def timed(picks, etags=None):
        return cpu_per_request(picks, lambda url: call(url, etags and etags[url]))

    call(details[0])
    call(lists[0])
    n = args.requests
    if args.profile:
        import cProfile
        import pstats

        api_cache.bump()  # nothing kept (never cache.clear(): on Redis that empties the shared database)
        urls = {"list": lists, "list_deep": deep}.get(args.profile, details)
        picks = urls[:n] if args.profile == "detail_cold" else [rng.choice(urls) for _ in range(n)]
        if args.profile == "detail":
            for url in picks:
                call(url)
        prof = cProfile.Profile(time.process_time)  # CPU, as the figures are
        prof.enable()
        for url in picks:
            call(url)
        prof.disable()
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
        return
    result = {"bench": "api_cpu", "db": args.db, "products": len(ids), "redis": args.redis, "api_cache_s": args.api_cache_seconds,
              "requests": n, "product_urls": len(details), "list_urls": len(lists)}
    api_cache.bump()
    result["detail"] = timed([rng.choice(details) for _ in range(n)])
    api_cache.bump()
    result["detail_cold"] = timed(details[:n])
    result["detail_warm"] = timed([rng.choice(details[:n]) for _ in range(n)])
    result["list"] = timed([rng.choice(lists) for _ in range(n)])
    some = details[:200]
    etags = {u: call(u) for u in some}
    result["detail_304"] = timed([rng.choice(some) for _ in range(n)], etags)
    result["list_deep"] = timed([rng.choice(deep) for _ in range(n)])  # last: the others draw what they always drew
    print(json.dumps(result, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=1000, help="per kind of request")
    ap.add_argument("--product-urls", type=int, default=2000, help="distinct products drawn at random")
    ap.add_argument("--pages", type=int, default=50, help="listing pages 1..N of each sort")
    ap.add_argument("--redis", choices=["on", "off"], default="off")
    ap.add_argument("--api-cache-seconds", type=int, default=30)
    ap.add_argument("--profile", choices=["detail", "detail_cold", "list", "list_deep"])
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--top", type=int, default=50)
    ap.add_argument("--inner", action="store_true", help="measure against the configured database as it is")
    args = ap.parse_args()
    if args.inner:
        return inner(args)
    from _harness import PY, ROOT, analyze, environment, manage

    with environment(args.db) as env:
        env["SHOPYARD_API_CACHE_SECONDS"] = str(args.api_cache_seconds)
        if args.redis == "on":
            env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
            env["REDIS_KEY_PREFIX"] = f"api-cpu-{uuid.uuid4().hex[:8]}"
        else:
            env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput")
        manage(env, "load_bench_catalog", "--products", str(args.products))
        analyze(env)
        subprocess.run([PY, __file__, "--inner", *sys.argv[1:]], env=env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
