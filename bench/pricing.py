"""Pricing a cart: 50 lines from 5 shops with 20 live promotions (per shop a
limited-time discount, 满减 tiers, 第二件半价 and a gift or an N 元任选 set, or an
add-on deal), priced by checkout.pricing.price_lines in one process, many times.

    python bench/pricing.py [--db sqlite|postgres] [--runs 200]

Prints one line: p50/p99/mean ms per pricing, the queries one pricing costs,
and the discount it found (the same every run).
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, manage  # noqa: E402

RUN = r"""
import django, json, statistics, sys, time
django.setup()
from datetime import timedelta
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
cat = Category.objects.create(name="压测", name_en="Bench", slug="bench")
now = timezone.now()
skus, promotions = [], 0
for s in range(5):
    seller = User.objects.create_user(f"bench-seller-{s}", password="x")
    shop = Shop.objects.create(name=f"压测店{s}", name_en=f"Bench {s}", slug=f"bench-{s}", shipping_fee=10)
    ShopMember.objects.create(shop=shop, user=seller, role="owner")
    own = []
    for i in range(12):
        p = create_product(actor=seller, shop=shop, data={"category_id": cat.pk, "title": f"商品{s}-{i}", "publish": True,
            "skus": [{"code": f"B-{s}-{i}", "price": f"{19 + i * 7}.90", "stock": 1000, "options": []}]})
        own.append(p.skus.get())
    skus += own[:10]
    rules = [("time_discount", {"percent_off": "15"}, "skus", [own[0].pk, own[1].pk]),
             ("spend_tiers", {"tiers": [{"threshold": "200", "amount_off": "20"}, {"threshold": "500", "amount_off": "60"}]}, "all", None),
             ("multi_buy", {"nth": 2, "percent_off": "50"}, "skus", [own[2].pk, own[3].pk, own[4].pk]),
             ("gift", {"threshold": "199", "gift_sku_id": own[11].pk}, "all", None) if s % 2 else
             ("bundle_price", {"count": 3, "price": "99.00"}, "skus", [own[5].pk, own[6].pk, own[7].pk]),
             ("add_on", {"threshold": "100", "sku_id": own[9].pk, "price": "5.00"}, "all", None)]
    for kind, rule, scope, targets in rules[:4] if s < 4 else rules[:3] + rules[4:]:
        p = create_promotion(actor=seller, shop=shop, kind=kind, name=kind, starts_at=now - timedelta(minutes=1),
                             ends_at=now + timedelta(days=1), rules=rule, scope=scope, target_ids=targets)
        publish_promotion(actor=seller, shop=shop, promotion_id=p.pk)
        promotions += 1
entries = lambda: [(sku, 2, i) for i, sku in enumerate(
    Sku.objects.select_related("product__shop").filter(pk__in=[s.pk for s in skus]).order_by("pk"))]
lines = entries()
price_lines(lines)  # warm
times = []
for _ in range(runs):
    t = time.perf_counter()
    pricing = price_lines(lines)
    times.append((time.perf_counter() - t) * 1000)
with CaptureQueriesContext(connection) as q:
    pricing = price_lines(lines)
times.sort()
print(json.dumps({"lines": len(lines), "shops": len(pricing.shops), "promotions": promotions,
                  "p50_ms": round(statistics.median(times), 2), "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
                  "mean_ms": round(statistics.mean(times), 2), "queries": len(q.captured_queries),
                  "gift_lines": sum(1 for l in pricing.lines if l.is_gift), "discount": str(pricing.discount.amount)}))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, "-c", RUN, str(args.runs)], env=env, cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
    print(f"pricing ({args.db}): {figures['lines']} lines, {figures['shops']} shops, {figures['promotions']} promotions: "
          f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, mean {figures['mean_ms']} ms, "
          f"{figures['queries']} queries, {figures['gift_lines']} gift lines, discount {figures['discount']}")


if __name__ == "__main__":
    main()
