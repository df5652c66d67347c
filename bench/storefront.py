"""Storefront throughput: a category listing page (24 products) and a product
page over a 10,000-product catalogue, served by gunicorn with 2 workers and
loaded by wrk from another process on loopback.

    python bench/storefront.py [--db sqlite|postgres] [--products 10000] [--seconds 10]
                               [--page-cache SECONDS] [--fragment-cache SECONDS]

Prints one line: rps and p50/p95/p99 (ms) for each page.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, analyze, environment, gunicorn, manage, wrk  # noqa: E402


def pick_urls(env, n_products):
    """Many distinct URLs, so the page cache sees a realistic spread of pages:
    every sub-category x pages 1-5 x 4 sorts, and `n_products` random products."""
    code = (
        "import django, json, random;django.setup();"
        "from shopyard.catalog.models import Category, Product;"
        "slugs=list(Category.objects.filter(parent__isnull=False).values_list('slug', flat=True));"
        "ids=list(Product.objects.filter(status='published').values_list('id', flat=True));"
        f"random.seed(7);print(json.dumps({{'slugs': slugs, 'ids': random.sample(ids, min({n_products}, len(ids)))}}))"
    )
    out = json.loads(subprocess.run([PY, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    listings = [f"/c/{s}/?sort={o}&page={p}" for s in out["slugs"] for o in ("newest", "price_asc", "price_desc", "sales")
                for p in range(1, 6)]
    return listings, [f"/p/{i}/" for i in out["ids"]]


def rotate(paths):
    table = "{" + ",".join(f'"{p}"' for p in paths) + "}"
    return f"local paths = {table}\nrequest = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--product-urls", type=int, default=2000, help="distinct product pages requested at random")
    ap.add_argument("--listing-urls", type=int, default=240, help="distinct listing pages (category x sort x page)")
    ap.add_argument("--page-cache", type=int, default=30, help="SHOPYARD_PAGE_CACHE_SECONDS; 0 renders every request")
    ap.add_argument("--fragment-cache", type=int, help="SHOPYARD_FRAGMENT_CACHE_SECONDS (default 30); 0 keeps nothing")
    args = ap.parse_args()
    with environment(args.db) as env:
        env["SHOPYARD_PAGE_CACHE_SECONDS"] = str(args.page_cache)
        if args.fragment_cache is not None:
            env["SHOPYARD_FRAGMENT_CACHE_SECONDS"] = str(args.fragment_cache)
        manage(env, "migrate", "--noinput")
        manage(env, "load_bench_catalog", "--products", str(args.products))
        analyze(env)
        listings, products = pick_urls(env, args.product_urls)
        listings = listings[: args.listing_urls]
        with gunicorn(env, workers=2) as base:
            wrk(base + listings[0], seconds=1, connections=4)  # start workers and connections
            lst = wrk(base + "/", seconds=args.seconds, connections=args.connections, script_body=rotate(listings))
            prd = wrk(base + "/", seconds=args.seconds, connections=args.connections, script_body=rotate(products))
    print(json.dumps({
        "bench": "storefront", "db": args.db, "products": args.products, "page_cache_s": args.page_cache,
        "fragment_cache_s": args.fragment_cache,
        "listing_urls": len(listings), "product_urls": len(products), "workers": 2, "connections": args.connections,
        "listing": lst, "product": prd,
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
