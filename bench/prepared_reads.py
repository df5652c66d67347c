"""CPU per call of each read kept compiled (core.prepared): built by the ORM on every
call, as it was before, against the kept SQL.

    python bench/prepared_reads.py [--db sqlite|postgres] [--calls 300] [--rounds 4]

Both spellings are the same PreparedRead: `list(read.build(*values))` is what the ORM
does on every call (build, compile, run, turn rows into objects), `read.objects(...)`
(or `rows`) runs the SQL compiled once. The rows they give are compared before timing.
The two are timed in one process, alternated round by round, each inside a
transaction, and the best round of each is kept, so a loaded machine moves both alike.
Data: bench/orders.py's shop, SKUs, shoppers and addresses, with one order placed.

Prints one line: {read: [orm ms, kept ms]} per call.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))


def inner(args):
    import django

    django.setup()
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone
    from orders import run_setup

    from shopyard.accounts.models import User
    from shopyard.catalog.models import Category, Sku
    from shopyard.notifications.kinds import Kind
    from shopyard.orders.models import Order

    data = run_setup(4, 20)

    from shopyard.checkout.services import place_order

    user = User.objects.get(username="bench0")
    address_id = data["clients"][0]["address"]
    place_order(actor=user, address_id=address_id, lines=[{"sku_id": data["skus"][0], "quantity": 1}])
    order = Order.objects.get()
    sku = Sku.objects.select_related("product").get(pk=data["skus"][0])
    product_id, shop_id = sku.product_id, sku.product.shop_id
    category = Category.objects.get(slug="bench")
    now = timezone.now()
    from shopyard.core.models import OutboxDelivery, OutboxEvent

    event = OutboxEvent.objects.create(name="bench.read", payload={})
    OutboxDelivery.objects.create(event=event, subscriber="bench", next_attempt_at=now)

    from shopyard.accounts import queries as accounts
    from shopyard.catalog import queries as catalog
    from shopyard.channels import services as channels
    from shopyard.checkout import services as checkout
    from shopyard.core import events
    from shopyard.notifications import queries as notifications
    from shopyard.notifications import webhooks
    from shopyard.operations import counters
    from shopyard.promotions import coupons, flash_queries, group_queries
    from shopyard.promotions import queries as promotions
    from shopyard.storefront import queries as storefront

    reads = {  # name: (read, values, "objects" or "rows")
        "buyable_sku": (catalog._BUYABLE_SKU, (sku.pk,), "objects"),
        "product_row": (catalog._PRODUCT_ROW_WITH_CATEGORY, (product_id,), "objects"),
        "category_with_children": (catalog._CATEGORY_WITH_CHILDREN, (category.slug,), "objects"),
        "own_address": (accounts._OWN_ADDRESS, (address_id, user.pk), "objects"),
        "promotions_of_one_shop": (promotions._CURRENT_AND_COMING_OF_ONE, (shop_id, now), "objects"),
        "usable_coupons_of_one_shop": (coupons._USABLE_OF_ONE_SHOP, (user.pk, now, shop_id), "objects"),
        "flash_of_product": (flash_queries._FLASH_OF_PRODUCT, (product_id, now, flash_queries.horizon(now)), "objects"),
        "group_items_of_product": (group_queries._GROUP_ITEMS_OF_PRODUCT, (product_id, now), "objects"),
        "recipient": (notifications._one_recipient(Kind.ORDER_PLACED), (user.pk,), "objects"),
        "stock_outs": (counters._taken_read(), (order.pk,), "rows"),
        "last_touch": (channels._LAST_TOUCH, (order.pk, user.pk, now - timedelta(days=7), now), "objects"),
        "webhook_endpoints": (webhooks._ACTIVE_ENDPOINTS, (), "objects"),
        "product_page_row": (storefront._PRODUCT_PAGE_ROW, (product_id, now, flash_queries.horizon(now)), "objects"),
        "unpaid_count": (checkout._UNPAID_COUNT, (user.pk,), "rows"),
        "lock_user": (checkout._LOCK_USER, (user.pk,), "rows"),
        "due_of_event": (events._DUE_OF_EVENT, (event.pk, now), "objects"),
    }

    def orm(read, values, kind):
        qs = read.build(*values)
        return [tuple(r) for r in qs] if kind == "rows" else list(qs)

    def kept(read, values, kind):
        return getattr(read, kind)(*values)

    def same(a, b, kind):
        return a == b if kind == "rows" else [o.pk for o in a] == [o.pk for o in b]

    best = {}
    for name, (read, values, kind) in reads.items():
        if not same(orm(read, values, kind), kept(read, values, kind), kind):
            raise SystemExit(f"{name}: the kept SQL and the ORM read different rows")
        best[name] = [float("inf"), float("inf")]
    for rnd in range(args.rounds):
        for name, (read, values, kind) in reads.items():
            sides = [(0, orm), (1, kept)] if rnd % 2 == 0 else [(1, kept), (0, orm)]
            for side, call in sides:
                with transaction.atomic():
                    start = time.process_time()
                    for _ in range(args.calls):
                        call(read, values, kind)
                    ms = (time.process_time() - start) * 1000 / args.calls
                best[name][side] = min(best[name][side], ms)
    print(json.dumps({"bench": "prepared_reads", "db": args.db, "calls": args.calls, "rounds": args.rounds,
                      "orm_vs_kept_ms": {k: [round(a, 3), round(b, 3)] for k, (a, b) in best.items()}},
                     separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args)
    from _harness import PY, ROOT, environment, manage

    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        subprocess.run([PY, __file__, "--inner", *sys.argv[1:]], env=env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
