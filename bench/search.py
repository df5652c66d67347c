"""Search latency and index build time over a generated catalogue.

    python bench/search.py [--db sqlite|postgres|both] [--products 100000] [--rounds 5]

Generates products with Chinese and English names (brand, adjective, product
word, model number) straight into a throw-away database with bulk inserts (not
through the catalogue services, which would take an hour), builds the search
index with the same code `rebuild_search_index` runs (timed), then runs a mixed
query set (Chinese, pinyin, initials, English, brand, typos, filters and sorts)
through `shopyard.search.queries.search` — the call the page and the API make,
facets included — and suggestions (12 prefixes, 6 of them one or two characters, reported apart as
suggest_short, and for comparison the same short prefixes through the text index,
as before the prefix table: short_via_text_index), in-process. Prints one line of figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, manage  # noqa: E402

BRANDS = [("华为", "Huawei"), ("小米", "Xiaomi"), ("苹果", "Apple"), ("索尼", "Sony"), ("美的", "Midea"),
          ("格力", "Gree"), ("李宁", "Li-Ning"), ("安踏", "Anta"), ("海尔", "Haier"), ("联想", "Lenovo"),
          ("星河", "Galaxy"), ("青柠", "Lime"), ("声悦", "SoundJoy"), ("木棉", "Kapok"), ("云眠", "Yunmian"),
          ("茶源", "Chayuan"), ("小食光", "Snack Time"), ("匠心", "Jiangxin"), ("朱颜", "Zhuyan"), ("山茶", "Camellia")]
NOUNS = [("手机", "mobile phone"), ("耳机", "earphones"), ("蓝牙耳机", "Bluetooth earbuds"), ("笔记本电脑", "laptop"),
         ("智能手表", "smart watch"), ("电饭煲", "rice cooker"), ("电热水壶", "electric kettle"), ("空气炸锅", "air fryer"),
         ("跑步鞋", "running shoes"), ("羽绒服", "down jacket"), ("连衣裙", "dress"), ("T恤", "T-shirt"),
         ("保温杯", "vacuum flask"), ("绿茶", "green tea"), ("咖啡", "coffee"), ("坚果", "mixed nuts"),
         ("四件套", "bedding set"), ("枕头", "pillow"), ("口红", "lipstick"), ("面霜", "face cream"),
         ("平板电脑", "tablet"), ("音箱", "speaker"), ("充电宝", "power bank"), ("手机壳", "phone case"),
         ("背包", "backpack"), ("台灯", "desk lamp"), ("吸尘器", "vacuum cleaner"), ("电动牙刷", "electric toothbrush")]
ADJECTIVES = [("轻薄", "slim"), ("无线", "wireless"), ("智能", "smart"), ("加厚", "thick"), ("便携", "portable"),
              ("降噪", "noise cancelling"), ("纯棉", "cotton"), ("大容量", "large capacity"), ("静音", "quiet"),
              ("旗舰", "flagship"), ("经典", "classic"), ("新款", "new"), ("防水", "waterproof"), ("儿童", "kids")]
COLOURS = [("黑色", "black"), ("白色", "white"), ("红色", "red"), ("蓝色", "blue"), ("灰色", "grey"), ("粉色", "pink")]

QUERIES = [
    {"q": "手机"}, {"q": "耳机"}, {"q": "蓝牙耳机"}, {"q": "电饭煲"}, {"q": "羽绒服", "sort": "price_asc"},
    {"q": "shouji"}, {"q": "erji"}, {"q": "dianfanbao"}, {"q": "sj"}, {"q": "ej"},
    {"q": "phone"}, {"q": "headphones"}, {"q": "kettle", "sort": "sales"}, {"q": "running shoes"},
    {"q": "华为 手机"}, {"q": "xiaomi"}, {"q": "小米 空气炸锅"}, {"q": "apple laptop", "in_stock": True},
    {"q": "headpohnes"}, {"q": "kettel"}, {"q": "耳鸡"}, {"q": "无线 降噪 耳机"}, {"q": "黑色 T恤"},
    {"q": "power bank", "sort": "newest"}, {"q": "手机", "page": 3}, {"q": "手机", "price": 3},
    {"q": "zzzqqq"}, {"q": "\"手机\" OR *"}, {"q": "M1234"}, {"q": "绿茶 茶源"},
]
SUGGEST = ["sh", "shou", "手", "耳机", "xiao", "hea", "dianf", "lap", "s", "x", "耳", "la"]


def generate(count: int, seed: int = 11) -> float:
    """Bulk-insert `count` published products (one SKU each, stock for most). Returns seconds."""
    import random
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from shopyard.catalog.models import Brand, Category, Product, Sku
    from shopyard.demo.loader import ensure_categories
    from shopyard.inventory.models import StockLevel
    from shopyard.shops.models import Shop

    started = time.perf_counter()
    rng = random.Random(seed)
    with transaction.atomic():
        ensure_categories()
        leaves = list(Category.objects.filter(parent__isnull=False).order_by("id"))
        shops = [Shop.objects.create(name=f"基准店{n}", name_en=f"Bench shop {n}", slug=f"bench-{n}") for n in range(20)]
        brands = [Brand.objects.get_or_create(name=zh, defaults={"name_en": en})[0] for zh, en in BRANDS]
        now = timezone.now()
        batch = 5000
        for start in range(0, count, batch):
            products, prices = [], []
            for i in range(start, min(count, start + batch)):
                b = rng.randrange(len(BRANDS))
                noun, adj, colour = rng.choice(NOUNS), rng.choice(ADJECTIVES), rng.choice(COLOURS)
                model = f"{rng.choice('ABCDMXS')}{rng.randint(1, 9999)}"
                price = Decimal(rng.choice([9, 19, 59, 99, 199, 299, 499, 999, 1999, 4999, 7999])) + Decimal("0.9")
                prices.append(price)
                products.append(Product(
                    shop=shops[i % len(shops)], category=leaves[(b * 7 + NOUNS.index(noun)) % len(leaves)],
                    brand=brands[b], title=f"{BRANDS[b][0]} {adj[0]}{noun[0]} {model} {colour[0]}",
                    title_en=f"{BRANDS[b][1]} {adj[1]} {noun[1]} {model} {colour[1]}",
                    status=Product.Status.PUBLISHED, min_price=price, max_price=price,
                    sales_count=int(rng.paretovariate(1.2) * 5), published_at=now,
                ))
            products = Product.objects.bulk_create(products, batch_size=1000)
            skus = Sku.objects.bulk_create([Sku(product=p, code=f"SB-{p.pk}", price=pr)
                                            for p, pr in zip(products, prices, strict=True)], batch_size=1000)
            StockLevel.objects.bulk_create([StockLevel(sku=s, quantity=rng.choice([0, 5, 50, 500]))
                                            for s in skus], batch_size=1000)
    return time.perf_counter() - started


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def inner(count: int, rounds: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from shopyard.search import queries, services

    gen = generate(count)
    started = time.perf_counter()
    indexed = services.rebuild_index()
    build = time.perf_counter() - started
    times, suggest_times, short_times, live_times, found = [], [], [], [], 0
    for spec in QUERIES:  # warm: jieba's dictionary, the database's caches
        queries.search(spec["q"])
    for _round in range(rounds):
        for spec in QUERIES:
            filters = queries.Filters(price=spec.get("price"), in_stock=spec.get("in_stock", False))
            t = time.perf_counter()
            result = queries.search(spec["q"], filters=filters, sort=spec.get("sort", "relevance"),
                                    page=spec.get("page", 1))
            times.append((time.perf_counter() - t) * 1000)
            found += result.total > 0
        for q in SUGGEST:
            t = time.perf_counter()
            queries.suggest(q)
            elapsed = (time.perf_counter() - t) * 1000
            suggest_times.append(elapsed)
            if len(q) <= 2:
                short_times.append(elapsed)
                # the same prefix through the text index, as suggest did before the prefix table
                t = time.perf_counter()
                queries.live_suggestion_ids(queries.parse(q), limit=8)
                live_times.append((time.perf_counter() - t) * 1000)
    return {"db": connection.vendor, "products": count, "generate_s": round(gen, 1), "index_docs": indexed,
            "index_build_s": round(build, 1), "queries": len(times),
            "found_share": round(found / len(times), 2),
            "search_p50_ms": round(statistics.median(times), 1), "search_p95_ms": round(pct(times, 95), 1),
            "search_max_ms": round(max(times), 1),
            "suggest_p50_ms": round(statistics.median(suggest_times), 1),
            "suggest_p95_ms": round(pct(suggest_times, 95), 1),
            "suggest_short_p50_ms": round(statistics.median(short_times), 1),
            "suggest_short_p95_ms": round(pct(short_times, 95), 1),
            "short_via_text_index_p50_ms": round(statistics.median(live_times), 1),
            "short_via_text_index_p95_ms": round(pct(live_times, 95), 1)}


def run(db: str, count: int, rounds: int) -> dict:
    with environment(db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, __file__, "--inner", "--products", str(count), "--rounds", str(rounds)],
                             env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        print(json.dumps(inner(args.products, args.rounds), separators=(",", ":")))
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(json.dumps({"bench": "search", "runs": [run(db, args.products, args.rounds) for db in dbs]},
                     separators=(",", ":")))


if __name__ == "__main__":
    main()
