"""Do two trees render the same storefront pages? Renders a sample of product pages,
category listings (two sorts, two pages), the home, shop, search and recently viewed
pages, in Chinese and English, with this tree and with another (say a worktree of main),
on one bench catalogue, and diffs the HTML (CSRF tokens aside).

    python bench/storefront_html_diff.py /path/to/other/tree [--products 2000] [--fragment-cache 0]

A template change (Django to Jinja2, a context built another way) must give 0 differing
pages. Prints one line: pages compared, pages differing (and the first differing URL).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))

TOKEN = re.compile(r'(csrfmiddlewaretoken" value=")[^"]+|("X-CSRFToken": ")[^"]+')


def inner(out):
    import django

    django.setup()
    from django.test import Client

    from shopyard.catalog.models import Category, Product
    from shopyard.shops.models import Shop

    ids = list(Product.objects.filter(status="published").order_by("id").values_list("id", flat=True))[::97][:60]
    urls = [f"/p/{i}/" for i in ids]
    urls += [f"/c/{s}/?sort={o}&page={p}" for s in Category.objects.values_list("slug", flat=True)
             for o in ("newest", "price_asc") for p in (1, 3)]
    urls += ["/", "/recent/", "/search/?q=a"] + [f"/s/{s}/" for s in Shop.objects.values_list("slug", flat=True)[:3]]
    pages = {}
    for lang in ("zh-CN", "en"):
        client = Client(HTTP_ACCEPT_LANGUAGE=lang)
        client.cookies["recently_viewed"] = ",".join(map(str, ids[:5]))
        for url in urls:
            r = client.get(url, follow=True)
            pages[f"{lang} {url}"] = f"{r.status_code}\n" + TOKEN.sub(r"\1\2TOKEN", r.content.decode())
    with open(out, "w") as fh:
        json.dump(pages, fh)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("other", help="the other tree (its shopyard package is imported instead of this one's)")
    ap.add_argument("--products", type=int, default=2000)
    ap.add_argument("--fragment-cache", type=int, default=30)
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args.inner)
    from _harness import PY, ROOT, environment, manage

    with environment("sqlite") as env, tempfile.TemporaryDirectory() as tmp:
        env.update(SHOPYARD_PAGE_CACHE_SECONDS="0", SHOPYARD_FRAGMENT_CACHE_SECONDS=str(args.fragment_cache))
        manage(env, "migrate", "--noinput")
        manage(env, "load_bench_catalog", "--products", str(args.products))
        found = []
        for n, tree in enumerate((str(ROOT), os.path.abspath(args.other))):
            out = os.path.join(tmp, f"{n}.json")
            subprocess.run([PY, __file__, args.other, "--inner", out], env={**env, "PYTHONPATH": tree}, cwd=tree,
                           check=True)
            with open(out) as fh:
                found.append(json.load(fh))
        differing = [k for k in found[0] if found[0][k] != found[1].get(k)]
        print(json.dumps({"bench": "storefront_html_diff", "pages": len(found[0]), "differing": len(differing),
                          "first": differing[0] if differing else None}))


if __name__ == "__main__":
    main()
