"""Pricing a big cart through the pipeline: 50 lines from 5 shops with 20 live
promotions (per shop: two limited-time discounts, one on the whole range and
one on chosen SKUs, and two spend-and-save tiers; for the platform: two
limited-time discounts and two cross-shop tiers), the promotions loaded from
the database on every call, as the cart page and checkout do.

    python bench/pricing.py [--db sqlite|postgres] [--runs 300]

Prints one line: p50/p99/mean milliseconds per `price_lines` call, the
queries per call, and the discount it found (to show the promotions applied).
Aim (issue 7): under 20 ms.
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
from datetime import timedelta
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from shopyard.accounts.models import User
from shopyard.catalog.models import Category, Sku
from shopyard.catalog.services import create_product
from shopyard.checkout.pricing import price_lines
from shopyard.promotions.services import create_promotion, publish_promotion
from shopyard.shops.models import Shop, ShopMember

runs = int(sys.argv[1])
now = timezone.now()
window = {"starts_at": now - timedelta(minutes=1), "ends_at": now + timedelta(days=1)}
operator = User.objects.create_user("bench-operator", password="x", is_staff=True)
category = Category.objects.create(name="压测", name_en="Bench", slug="bench")
sku_ids = []
for s in range(5):
    seller = User.objects.create_user(f"bench-seller-{s}", password="x")
    shop = Shop.objects.create(name=f"压测店{s}", name_en=f"Bench shop {s}", slug=f"bench-shop-{s}",
                               shipping_fee="10", free_shipping_over="199")
    ShopMember.objects.create(shop=shop, user=seller, role="owner")
    mine = []
    for i in range(10):
        p = create_product(actor=seller, shop=shop, data={"category_id": category.pk, "title": f"压测商品{s}-{i}",
            "publish": True, "skus": [{"code": f"B-{s}-{i}", "price": f"{19 + i}.90", "stock": 1000, "options": []}]})
        mine.append(p.skus.get().pk)
    sku_ids += mine
    promos = [
        ("time_discount", {"percent_off": "5"}, "all", None),
        ("time_discount", {"percent_off": "15"}, "skus", mine[:3]),
        ("spend_tiers", {"tiers": [{"threshold": "100", "amount_off": "10"}, {"threshold": "200", "amount_off": "25"}]},
         "all", None),
        ("spend_tiers", {"tiers": [{"threshold": "150", "percent_off": "8"}]}, "all", None),
    ]
    for kind, rules, scope, targets in promos:
        p = create_promotion(actor=seller, shop=shop, kind=kind, name=kind, rules=rules, scope=scope,
                             target_ids=targets, **window)
        publish_promotion(actor=seller, shop=shop, promotion_id=p.pk)
for kind, rules in [("time_discount", {"percent_off": "3"}), ("time_discount", {"percent_off": "4"}),
                    ("cross_shop_tiers", {"tiers": [{"threshold": "500", "amount_off": "50"}]}),
                    ("cross_shop_tiers", {"tiers": [{"threshold": "300", "amount_off": "20"}], "repeat": True})]:
    p = create_promotion(actor=operator, shop=None, kind=kind, name=kind, rules=rules, **window)
    publish_promotion(actor=operator, shop=None, promotion_id=p.pk)

skus = list(Sku.objects.select_related("product__shop").filter(pk__in=sku_ids).order_by("pk"))
entries = [(sku, 1 + i % 3, i) for i, sku in enumerate(skus)]
assert len(entries) == 50
price_lines(entries)  # warm
times = []
for _ in range(runs):
    started = time.perf_counter()
    pricing = price_lines(entries)
    times.append((time.perf_counter() - started) * 1000)
with CaptureQueriesContext(connection) as queries:
    pricing = price_lines(entries)
times.sort()
print(json.dumps({"p50": round(statistics.median(times), 2), "p99": round(times[int(len(times) * 0.99) - 1], 2),
                  "mean": round(statistics.fmean(times), 2), "queries": len(queries),
                  "discount": str(pricing.discount.amount), "total": str(pricing.total.amount),
                  "promotions_applied": len(pricing.offers)}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()
    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, "-c", MEASURE, str(args.runs)], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()[-1]
    figures = json.loads(out)
    print(json.dumps({"bench": "pricing", "db": args.db, "lines": 50, "shops": 5, "live_promotions": 20,
                      "runs": args.runs, "p50_ms": figures["p50"], "p99_ms": figures["p99"],
                      "mean_ms": figures["mean"], "queries": figures["queries"],
                      "promotions_applied": figures["promotions_applied"], "discount": figures["discount"],
                      "total": figures["total"]}, separators=(",", ":")))


if __name__ == "__main__":
    main()
