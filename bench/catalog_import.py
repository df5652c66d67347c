"""Bulk catalogue import: a 10,000-row CSV (2,500 products × 4 SKUs, with
options, weights, Chinese titles) checked and imported by one seller through
`shopyard.catalog.bulk` — the call the console and the API make — first as new
products, then again as updates of every SKU; the after-commit work the
embedded setup runs in-process (search indexing of the products) is inside the
timing. Also times the dry run alone and the XLSX export of the result.

    python bench/catalog_import.py [--db sqlite|postgres|both] [--rows 10000]

With --db postgres a throw-away database is created (createdb) and dropped;
to use an existing one, run with DATABASE_URL set and --inner. Prints one
line of JSON: rows, seconds and rows/s per phase and database.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, manage  # noqa: E402

HEADER = "product_key,title,title_en,category,brand,description,status,sku_code,options,price,stock,weight\n"
NOUNS = [("手机", "phone"), ("耳机", "earphones"), ("保温杯", "flask"), ("T恤", "T-shirt"), ("台灯", "lamp")]
COLOURS = ["红", "黑", "白", "蓝"]


def make_file(rows: int, *, price_shift=0) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        p, s = divmod(i, 4)
        zh, en = NOUNS[p % len(NOUNS)]
        lines.append(f"P{p},星河{zh}{p},Galaxy {en} {p},bench-phones,,<p>{zh}的描述</p>,published,"
                     f"B-{p}-{s},颜色={COLOURS[s]},{59 + s + price_shift}.90,{(p * 7 + s) % 500},0.{s + 1}\n")
    return ("\ufeff" + "".join(lines)).encode("utf-8")


def inner(rows: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from shopyard.accounts.models import User
    from shopyard.catalog import bulk
    from shopyard.catalog.models import Category, Sku
    from shopyard.shops.models import Shop, ShopMember

    seller = User.objects.create_user("bench-seller", password="x")
    shop = Shop.objects.create(name="导入压测店", name_en="Import bench", slug="import-bench")
    ShopMember.objects.create(shop=shop, user=seller, role=ShopMember.Role.OWNER)
    root = Category.objects.create(name="数码", name_en="Digital", slug="bench-digital")
    Category.objects.create(name="手机", name_en="Phones", slug="bench-phones", parent=root)
    first, second = make_file(rows), make_file(rows, price_shift=1)

    started = time.perf_counter()
    plan = bulk.check_file(shop=shop, data=first, filename="bench.csv")
    dry = time.perf_counter() - started
    assert plan.ok, plan.errors[:5]
    started = time.perf_counter()
    created = bulk.import_file(actor=seller, shop=shop, data=first, filename="bench.csv")
    create_s = time.perf_counter() - started
    started = time.perf_counter()
    updated = bulk.import_file(actor=seller, shop=shop, data=second, filename="bench.csv")
    update_s = time.perf_counter() - started
    started = time.perf_counter()
    exported, _type, _name = bulk.export_file(shop=shop, fmt="xlsx")
    export_s = time.perf_counter() - started
    assert created["skus_created"] == rows and updated["skus_updated"] == rows
    assert Sku.objects.filter(product__shop=shop).count() == rows
    return {"db": connection.vendor, "rows": rows, "file_kb": len(first) // 1024,
            "dry_run_s": round(dry, 2), "create_s": round(create_s, 2),
            "create_rows_per_s": round(rows / create_s), "update_s": round(update_s, 2),
            "update_rows_per_s": round(rows / update_s), "export_xlsx_s": round(export_s, 2),
            "export_kb": len(exported) // 1024}


def run(db: str, rows: int) -> dict:
    with environment(db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, __file__, "--inner", "--rows", str(rows)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--inner", action="store_true", help="run in this process on the configured database")
    args = ap.parse_args()
    if args.inner:
        print(json.dumps(inner(args.rows), separators=(",", ":")))
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(json.dumps({"bench": "catalog_import", "runs": [run(db, args.rows) for db in dbs]},
                     separators=(",", ":")))


if __name__ == "__main__":
    main()
