"""Coupons: (1) pricing a cart of 50 lines from 5 shops for a shopper holding 20
usable coupons (4 per shop, AUTO choice), median of 30 runs, and its query count;
(2) a claim rush: N threads claim one template of `--total` coupons at once, in
process, against SQLite (default) or PostgreSQL.

    python bench/coupons.py [--db sqlite|postgres] [--claimers 80] [--total 50]

Prints one line: price_ms (median), price_queries, claims/s, claimed (must equal
min(total, claimers)), over_issued (must be 0).
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, manage  # noqa: E402

RUN = r"""
import json, statistics, sys, threading, time
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from shopyard.accounts.models import User
from shopyard.checkout.pricing import price_lines
from shopyard.core.errors import DomainError
from shopyard.promotions.coupon_services import claim_coupon
from shopyard.promotions.models import CouponTemplate, UserCoupon
from tests import factories as f

claimers, total = int(sys.argv[1]), int(sys.argv[2])
shopper = User.objects.create_user(username="bench-shopper", password=None)
entries = []
for s in range(5):
    shop = f.make_shop(owner=f.make_user(f"bench-seller{s}"), shipping_fee="10.00")
    for p in range(10):
        sku = f.make_product(shop, price=f"{20 + p}.00", stock=100).skus.select_related("product__shop").get()
        entries.append((sku, 2, len(entries)))
    for c in range(4):
        t = f.make_coupon_template(shop, threshold=str(50 + 50 * c), amount_off=str(5 + 5 * c), per_user_limit=1)
        f.give_coupon(shopper, t)
price_lines(entries, user=shopper)  # warm
runs = []
for _ in range(30):
    started = time.perf_counter()
    pricing = price_lines(entries, user=shopper)
    runs.append((time.perf_counter() - started) * 1000)
with CaptureQueriesContext(connection) as queries:
    price_lines(entries, user=shopper)
applied = sum(1 for o in pricing.offers if o.source == "coupon")

hot = f.make_coupon_template(None, total_quantity=total, per_user_limit=1)
users = [User.objects.create_user(username=f"rush{i}", password=None) for i in range(claimers)]
barrier = threading.Barrier(claimers)
errors = []
def claim(user):
    try:
        barrier.wait()
        claim_coupon(actor=user, template_id=hot.pk)
    except DomainError:
        pass  # sold out: the answer most of a rush gets
    except Exception as exc:  # anything else (a lost connection) is counted, not hidden
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=claim, args=(u,)) for u in users]
started = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
seconds = time.perf_counter() - started
hot.refresh_from_db()
held = UserCoupon.objects.filter(template=hot).count()
print(json.dumps({"price_ms": round(statistics.median(runs), 2), "price_queries": len(queries),
                  "coupons_applied": applied, "claims_per_s": round(claimers / seconds, 1),
                  "claimed": held, "issued_counter": hot.issued, "over_issued": max(0, held - total),
                  "errors": len(errors)}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--claimers", type=int, default=80, help="threads, one connection each (PostgreSQL allows 100)")
    ap.add_argument("--total", type=int, default=50)
    args = ap.parse_args()
    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, "-c", RUN, str(args.claimers), str(args.total)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    print(json.dumps({"bench": "coupons", "db": args.db, "claimers": args.claimers, "total": args.total,
                      **json.loads(out)}, separators=(",", ":")))


if __name__ == "__main__":
    main()
