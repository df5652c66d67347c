"""Shipping fees through the pipeline: 50 lines from 5 shops, every product on
one of its shop's 4 freight templates (by piece, by weight, by volume, by piece
with a free-shipping threshold; each with 3 regional rules and 2 undeliverable
provinces), priced for an address in a regional-rule province, as checkout does.

    python bench/shipping.py [--db sqlite|postgres] [--runs 300]

Prints one line: p50/p99/mean milliseconds per `price_lines` call with
templates, the same figures for the same cart with no template (the shops'
flat fees), and the queries per call of each.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, manage  # noqa: E402

MEASURE = r"""
import json, statistics, sys, time
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from shopyard.accounts.models import Address, User
from shopyard.catalog.models import Category, Product, Sku
from shopyard.catalog.services import create_product
from shopyard.checkout.pricing import price_lines
from shopyard.shipping.services import assign_template, create_template
from shopyard.shops.models import Shop, ShopMember

runs = int(sys.argv[1])
category = Category.objects.create(name="压测", name_en="Bench", slug="bench")
regions = [{"provinces": p, "first_units": "1", "first_fee": "20", "additional_units": "1", "additional_fee": "8"}
           for p in (["650000", "150000"], ["460000"], ["630000", "640000"])]
kinds = [("piece", {}), ("weight", {}), ("volume", {}), ("piece", {"free_rules": [{"kind": "amount", "threshold": "60"}]})]
sku_ids, templated = [], []
for s in range(5):
    seller = User.objects.create_user(f"bench-seller-{s}", password="x")
    shop = Shop.objects.create(name=f"压测店{s}", name_en=f"Bench shop {s}", slug=f"bench-shop-{s}",
                               shipping_fee="10", free_shipping_over="199")
    ShopMember.objects.create(shop=shop, user=seller, role="owner")
    templates = [create_template(actor=seller, shop=shop, data={
        "name": f"T{k}", "basis": basis, "first_units": "1", "first_fee": "10", "additional_units": "1",
        "additional_fee": "5", "region_rules": regions, "undeliverable": ["540000", "620000"], **extra})
        for k, (basis, extra) in enumerate(kinds)]
    for i in range(10):
        p = create_product(actor=seller, shop=shop, data={"category_id": category.pk, "title": f"压测商品{s}-{i}",
            "publish": True, "skus": [{"code": f"B-{s}-{i}", "price": f"{19 + i}.90", "stock": 1000, "options": [],
                                       "weight": "0.7", "volume": "0.002"}]})
        sku_ids.append(p.skus.get().pk)
        assign_template(actor=seller, shop=shop, template_id=templates[i % 4].pk, product_ids=[p.pk])
buyer = User.objects.create_user("bench-buyer", password="x")
address = Address.objects.create(user=buyer, recipient="压测", phone="13800138000", province="新疆维吾尔自治区",
                                 city="乌鲁木齐市", district="天山区", province_code="650000", city_code="650100",
                                 district_code="650102", detail="1 号", is_default=True)


def measure():
    skus = list(Sku.objects.select_related("product__shop").filter(pk__in=sku_ids).order_by("pk"))
    entries = [(sku, 1 + i % 3, i) for i, sku in enumerate(skus)]
    price_lines(entries, user=buyer, address=address, promotions=False)  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        price_lines(entries, user=buyer, address=address, promotions=False)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        pricing = price_lines(entries, user=buyer, address=address, promotions=False)
    times.sort()
    fee = sum(g.shipping_fee.amount for g in pricing.shops)
    return {"p50": round(statistics.median(times), 2), "p99": round(times[int(len(times) * 0.99) - 1], 2),
            "mean": round(statistics.fmean(times), 2), "queries": len(queries), "fee": str(fee)}


with_templates = measure()
Product.objects.update(freight_template=None)
flat = measure()
print(json.dumps({"templates": with_templates, "flat": flat}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()
    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, "-c", MEASURE, str(args.runs)], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=False)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    out = out.stdout.strip().splitlines()[-1]
    figures = json.loads(out)
    t, flat = figures["templates"], figures["flat"]
    print(json.dumps({"bench": "shipping", "db": args.db, "lines": 50, "shops": 5, "templates": 20, "runs": args.runs,
                      "p50_ms": t["p50"], "p99_ms": t["p99"], "mean_ms": t["mean"], "queries": t["queries"],
                      "fee": t["fee"], "flat_p50_ms": flat["p50"], "flat_p99_ms": flat["p99"],
                      "flat_queries": flat["queries"], "flat_fee": flat["fee"]}, separators=(",", ":")))


if __name__ == "__main__":
    main()
