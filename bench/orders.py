"""Order placement over the REST API: POST /api/v1/orders (buy-now lines,
a fresh Idempotency-Key per request) from 16 concurrent clients, against
gunicorn on PostgreSQL (default) or SQLite.

    python bench/orders.py [--db postgres|sqlite] [--seconds 10] [--clients 16] [--workers 2] [--threads 1]
                           [--products 0]

`--threads 1` (the default) runs gunicorn's sync workers, as the deployment does
(deploy/systemd/shopyard-web.service, docs/operations.md). On the 2-core
machine of 2026-11-27, four threads per worker placed 25.5 orders/s (p50
629 ms) where sync workers placed 57.0 (p50 275 ms): with threads, an open
transaction (holding its shopper's and its SKUs' row locks) also waits for
the interpreter lock behind the worker's other requests (the likely reason;
not traced further).

Prints one line: orders/s, p50/p95/p99 (ms), non-2xx count, and the number
of orders the database holds afterwards (must equal the 2xx responses).

What it measures: the embedded setup (no BROKER_URL, Celery tasks eager), so
each gunicorn worker also delivers every `order.placed` to its subscribers
(notifications, webhooks, channel attribution, counters, analytics): after
the response is sent, in the same worker thread, before that thread takes its
next request. All of an order's work is in the figure; none is left to a
worker outside the run.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, analyze, environment, gunicorn, manage, wrk  # noqa: E402

SETUP = r"""
import django, json, sys
django.setup()
from shopyard.accounts.models import User
from shopyard.accounts.services import create_address, issue_token
from shopyard.catalog.models import Category
from shopyard.catalog.services import create_product
from shopyard.shops.models import Shop, ShopMember
users, skus = int(sys.argv[1]), int(sys.argv[2])
seller = User.objects.create_user("bench-seller", password="x")
shop = Shop.objects.create(name="压测店", name_en="Bench shop", slug="bench-orders")  # not the bench catalogue's shop
ShopMember.objects.create(shop=shop, user=seller, role="owner")
cat = Category.objects.create(name="压测", name_en="Bench", slug="bench")
sku_ids = []
for i in range(skus):
    p = create_product(actor=seller, shop=shop, data={"category_id": cat.pk, "title": f"压测商品{i}", "publish": True,
        "skus": [{"code": f"B-{i}", "price": "19.90", "stock": 1000000, "options": []}]})
    sku_ids.append(p.skus.get().pk)
clients = []
for i in range(users):
    u = User.objects.create_user(f"bench{i}", password="x")
    a = create_address(actor=u, data={"recipient": "张三", "phone": "13800138000", "province": "上海市",
        "city": "上海市", "district": "浦东新区", "detail": "世纪大道 1 号"})
    clients.append({"token": issue_token(user=u), "address": a.pk})
print(json.dumps({"clients": clients, "skus": sku_ids}))
"""

LUA = """
local clients = %(clients)s
local nonce = "%(nonce)s"
local skus = %(skus)s
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local n = 0
request = function()
  n = n + 1
  local c = clients[math.random(#clients)]
  local sku = skus[math.random(#skus)]
  local body = string.format('{"address_id":%%d,"lines":[{"sku_id":%%d,"quantity":1}]}', c.address, sku)
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. c.token,
                   ["Idempotency-Key"] = string.format("bench-%%s-%%d-%%d", nonce, tid, n)}
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
"""


def run_setup(clients: int, skus: int) -> dict:
    """SETUP run in this (django.setup()) process, for the in-process benches: the same
    shop, SKUs, shoppers and addresses as the wall-clock benchmark. Returns its data."""
    import io

    namespace = {"__name__": "setup"}
    out = io.StringIO()
    stdout, sys.stdout = sys.stdout, out
    argv, sys.argv = sys.argv, ["setup", str(clients), str(skus)]
    try:
        exec(SETUP, namespace)  # noqa: S102 - our own setup script
    finally:
        sys.stdout, sys.argv = stdout, argv
    return json.loads(out.getvalue().strip().splitlines()[-1])


def lua_table(items, keys=None):
    if keys:
        return "{" + ",".join("{" + ",".join(f'{k}="{v}"' if isinstance(v, str) else f"{k}={v}" for k, v in i.items()) + "}" for i in items) + "}"
    return "{" + ",".join(str(i) for i in items) + "}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="per worker; 1: sync workers, as deployed")
    ap.add_argument("--skus", type=int, default=200)
    ap.add_argument("--products", type=int, default=0,
                    help="bench catalogue loaded beside the order SKUs first (load_bench_catalog); 0: none")
    args = ap.parse_args()
    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        if args.products:  # orders placed in a shop beside a catalogue of that size (issue 12)
            manage(env, "load_bench_catalog", "--products", str(args.products))
            analyze(env)
        data = json.loads(subprocess.run([PY, "-c", SETUP, str(args.clients), str(args.skus)], env=env, cwd=ROOT,
                                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        def script(run):  # a nonce per wrk run: its keys never repeat another run's
            return LUA % {"clients": lua_table(data["clients"], keys=True), "skus": lua_table(data["skus"]),
                          "nonce": f"{run}{os.getpid()}"}
        with gunicorn(env, workers=args.workers, threads=args.threads) as base:
            warm = wrk(base + "/api/v1/orders", seconds=2, connections=4, script_body=script("w"))
            result = wrk(base + "/api/v1/orders", seconds=args.seconds, connections=args.clients, script_body=script("m"))
        count = subprocess.run([PY, "-c", "import django;django.setup();from shopyard.orders.models import Order;print(Order.objects.count())"],
                               env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    print(json.dumps({
        "bench": "orders", "db": args.db, "products": args.products, "clients": args.clients, "workers": args.workers, "threads": args.threads,
        "orders_per_s": result["rps"], "p50_ms": result["p50_ms"], "p95_ms": result["p95_ms"], "p99_ms": result["p99_ms"],
        "non2xx": result["non2xx"], "errors": result["errors"], "orders_in_db": int(count),
        # every 2xx made exactly one order: warm-up + measured responses that were not errors
        "responses_2xx": warm["requests"] - warm["non2xx"] + result["requests"] - result["non2xx"],
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
