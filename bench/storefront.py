"""Storefront throughput: a category listing page (24 products) and a product
page over a 10,000-product catalogue, served by gunicorn with 2 workers and
loaded by wrk from another process on loopback.

    python bench/storefront.py [--db sqlite|postgres] [--products 10000] [--seconds 10]

Prints one line: rps and p50/p95/p99 (ms) for each page.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, gunicorn, manage, wrk  # noqa: E402


def pick_urls(env):
    code = (
        "import django;django.setup();"
        "from shopyard.catalog.models import Category, Product;"
        "from django.db.models import Count;"
        "c=Category.objects.filter(parent__isnull=False).annotate(n=Count('products')).order_by('-n').first();"
        "p=Product.objects.filter(status='published').order_by('id')[500];"
        "print(c.slug, p.pk, c.n)"
    )
    out = subprocess.run([PY, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return f"/c/{out[0]}/?sort=newest", f"/p/{out[1]}/", int(out[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        manage(env, "load_bench_catalog", "--products", str(args.products))
        listing, product, in_cat = pick_urls(env)
        with gunicorn(env, workers=2) as base:
            wrk(base + listing, seconds=2, connections=4)  # warm caches and connections
            wrk(base + product, seconds=2, connections=4)
            lst = wrk(base + listing, seconds=args.seconds, connections=args.connections)
            prd = wrk(base + product, seconds=args.seconds, connections=args.connections)
    print(json.dumps({
        "bench": "storefront", "db": args.db, "products": args.products, "category_products": in_cat,
        "workers": 2, "connections": args.connections,
        "listing": lst, "product": prd,
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
