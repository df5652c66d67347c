"""Per-request CPU cost of the storefront's hot pages, measured in-process.

    python bench/storefront_cpu.py [--db sqlite|postgres] [--products 10000] [--requests 1000]
                                   [--product-urls 2000] [--page-cache 0] [--fragment-cache SECONDS]
                                   [--profile listing|listing_deep|product]

wrk's req/s on a shared 2-core machine moves with whatever else runs; the CPU
time one process spends per request (time.process_time) barely does, so this
is the figure to decide a change with. Requests go through Django's WSGI
handler with the whole middleware stack, exactly as gunicorn calls it (no
test client: its template-rendered signal copies every context and would
dominate), response closers included (the product view's behaviour event is
written there). The same spread of URLs as bench/storefront.py: listings over
every sub-category x 4 sorts x pages 1-5, and 2,000 product pages, drawn at
random (what the fragment cache keeps depends on how often a page comes back:
`--fragment-cache 0` gives the cost with nothing kept). listing_deep: the
middle and the last page of every category (top-level ones too) x 4 sorts,
where OFFSET and COUNT cost what the catalogue's size makes them cost
(`--products 100000` against the default 10,000: issue 12). Each figure
carries the SQL statements per request (queries) and, on
PostgreSQL, db_cpu_ms: the server backend's own CPU per request, which
cpu_ms does not hold.

`--inner` measures against the configured database as it is (SHOPYARD_HOME,
DATABASE_URL), so a catalogue loaded once can be measured many times.

`--profile` prints the top of a cProfile of that page instead of the line.
Prints one line: ms of CPU (and of wall clock) per request, for a bare
liveness request (Django and the middleware alone), a listing and a product page.
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))


def inner(args):
    import django

    # one server connection for the whole run, so the server's CPU is read off one backend
    os.environ.setdefault("DB_CONN_MAX_AGE", "86400")
    django.setup()
    from _harness import cpu_per_request
    from django.core.handlers.wsgi import WSGIHandler

    from shopyard.catalog.models import Category, Product
    from shopyard.catalog.queries import published_products
    from shopyard.storefront.catalog_views import PER_PAGE

    handler = WSGIHandler()
    cats = list(Category.objects.order_by("id"))
    slugs = [c.slug for c in cats if c.parent_id is not None]
    ids = list(Product.objects.filter(status="published").values_list("id", flat=True))
    rng = random.Random(7)
    sorts = ("newest", "price_asc", "price_desc", "sales")
    listings = [f"/c/{s}/?sort={o}&page={p}" for s in slugs for o in sorts for p in range(1, 6)]
    # deep pages (the middle and the last of every category, top-level ones included, which list
    # their children's products too): what OFFSET and COUNT cost grows with the catalogue
    last = {c.slug: max(1, -(-published_products(category=c).count() // PER_PAGE)) for c in cats}
    deep = [f"/c/{s}/?sort={o}&page={p}" for s, n in last.items() for o in sorts for p in {max(1, n // 2), n}]
    products = [f"/p/{i}/" for i in rng.sample(ids, min(args.product_urls, len(ids)))]

    def call(url):
        path, _sep, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr, "HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9",
        }
        statuses = []
        response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        for _chunk in response:
            pass
        response.close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{url} answered {statuses[0]}")

    def measure(urls, n):
        for url in urls[:20]:  # warm: imports, compiled templates, the category tree, connections
            call(url)
        picks = [rng.choice(urls) for _ in range(n)]  # as bench/storefront.py's wrk script draws them
        return cpu_per_request(picks, call)

    if args.profile:
        import cProfile
        import pstats

        urls = {"listing": listings, "listing_deep": deep}.get(args.profile, products)
        for url in urls[:20]:
            call(url)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.requests):
            call(rng.choice(urls))
        prof.disable()
        if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats callers/callees afterwards
            prof.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
        return
    result = {
        "bench": "storefront_cpu", "db": args.db, "products": args.products, "page_cache_s": args.page_cache,
        "fragment_cache_s": int(os.environ.get("SHOPYARD_FRAGMENT_CACHE_SECONDS", "30")),
        "requests": args.requests, "listing_urls": len(listings), "deep_urls": len(deep), "product_urls": len(products),
        "bare": measure(["/health/live"], args.requests),
        "listing": measure(listings, args.requests),
        "product": measure(products, args.requests),
        "listing_deep": measure(deep, args.requests),  # last: the other kinds draw the URLs they always drew
    }
    print(json.dumps(result, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=1000, help="per page type")
    ap.add_argument("--product-urls", type=int, default=2000, help="distinct product pages drawn at random")
    ap.add_argument("--page-cache", type=int, default=0, help="SHOPYARD_PAGE_CACHE_SECONDS; 0 renders every request")
    ap.add_argument("--fragment-cache", type=int, help="SHOPYARD_FRAGMENT_CACHE_SECONDS; 0: nothing kept between requests")
    ap.add_argument("--profile", choices=["listing", "listing_deep", "product"])
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--top", type=int, default=60)
    ap.add_argument("--inner", action="store_true", help="measure against the configured database as it is")
    args = ap.parse_args()
    if args.inner:
        return inner(args)
    from _harness import PY, ROOT, analyze, environment, manage

    with environment(args.db) as env:
        env["SHOPYARD_PAGE_CACHE_SECONDS"] = str(args.page_cache)
        if args.fragment_cache is not None:
            env["SHOPYARD_FRAGMENT_CACHE_SECONDS"] = str(args.fragment_cache)
        manage(env, "migrate", "--noinput")
        manage(env, "load_bench_catalog", "--products", str(args.products))
        analyze(env)
        subprocess.run([PY, __file__, "--inner", *sys.argv[1:]], env=env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
