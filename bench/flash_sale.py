"""A flash sale at the stroke of the hour: 20,000 purchase attempts from 2,000
simulated buyers for 500 units (per-user limit 1), POST
/api/v1/flash/items/<id>/buy over loopback, against gunicorn (2 workers),
with Redis (the Lua gate) and without it (the database path).

With Redis the deployment also has a task broker (RabbitMQ, --broker-url) and
one Celery worker (--celery-workers, niced so the web processes come first):
a buyer who gets a unit is answered 202 with a hold at once, and the worker
makes the orders from the holds (checkout/flash.py). The figures then also
say when the last order existed (`orders_done_after_s`, from the first
attempt). `--broker off` runs the Redis path with orders made in the request.

    python bench/flash_sale.py [--redis on|off|both] [--db postgres|sqlite] [--attempts 20000]
                               [--users 2000] [--units 500] [--connections 64] [--workers 2] [--threads 4]
                               [--broker on|off] [--celery-workers 1]

The client is asyncio on keep-alive connections (wrk cannot give each request
its own buyer without a script as long as the buyer list). Prints one line (both
runs in it): attempts/s, p50/p99 latency (ms), status counts, units sold (201s), and
what the database holds afterwards: orders, flash units left, oversold (orders
beyond the units, must be 0), buyers with two orders (must be 0), and the
normal stock (must be what it was after the units were set aside).
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, gunicorn, manage  # noqa: E402

SETUP = r"""
import django, json, sys
django.setup()
from datetime import timedelta
from django.utils import timezone
from shopyard.accounts.models import Address, User
from shopyard.accounts.services import create_address, issue_token
from shopyard.catalog.models import Category
from shopyard.catalog.services import create_product
from shopyard.promotions import flash
from shopyard.shops.models import Shop, ShopMember
users, units = int(sys.argv[1]), int(sys.argv[2])
seller = User.objects.create_user("bench-seller", password="x")
shop = Shop.objects.create(name="秒杀店", name_en="Flash shop", slug="flash-shop")
ShopMember.objects.create(shop=shop, user=seller, role="owner")
cat = Category.objects.create(name="压测", name_en="Bench", slug="bench")
p = create_product(actor=seller, shop=shop, data={"category_id": cat.pk, "title": "秒杀商品", "publish": True,
    "skus": [{"code": "FLASH-1", "price": "199.00", "stock": units * 2, "options": []}]})
sku = p.skus.get()
now = timezone.now()
sale = flash.create_sale(actor=seller, shop=shop, data={"name": "整点秒杀", "starts_at": now - timedelta(seconds=1),
                                                        "ends_at": now + timedelta(hours=1)})
item = flash.add_item(actor=seller, sale=sale, data={"sku_id": sku.pk, "flash_price": "9.90", "flash_stock": units,
                                                     "per_user_limit": 1})
flash.publish(actor=seller, sale=sale)
User.objects.bulk_create([User(username=f"buyer{i}") for i in range(users)])
buyers = list(User.objects.filter(username__startswith="buyer").order_by("id"))
first = create_address(actor=buyers[0], data={"recipient": "张三", "phone": "13800138000", "province": "上海市",
    "city": "上海市", "district": "浦东新区", "detail": "世纪大道 1 号"})
fields = {name: getattr(first, name) for name in ("recipient", "phone", "province", "city", "district", "detail")}
Address.objects.bulk_create([Address(user=u, **fields) for u in buyers[1:]])
addresses = dict(Address.objects.values_list("user_id", "id"))
clients = [{"token": issue_token(user=u), "address": addresses[u.pk]} for u in buyers]
print(json.dumps({"clients": clients, "item": item.pk, "sku": sku.pk}))
"""

CHECK = r"""
import django, json, sys
django.setup()
from django.db.models import Count, Sum
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.promotions.models import FlashReservation, FlashSaleItem
item = FlashSaleItem.objects.get(pk=int(sys.argv[1]))
held = FlashReservation.objects.filter(item=item).exclude(status="released")
doubles = held.values("user_id").annotate(n=Sum("quantity")).filter(n__gt=1).count()
orders = Order.objects.count()
print(json.dumps({"orders": orders, "units_left": item.available, "units_ordered": held.aggregate(s=Sum("quantity"))["s"] or 0,
                  "buyers_with_two": doubles, "normal_stock": StockLevel.objects.get(sku_id=item.sku_id).quantity}))
"""


DRAIN = r"""
import django, json, sys, time
django.setup()
from django.db import connection
from shopyard.orders.models import Order
from shopyard.promotions import flash_store
target, deadline = int(sys.argv[1]), time.time() + float(sys.argv[2])
while time.time() < deadline:
    made = Order.objects.count()
    waiting = [t for t, e in flash_store.all_held().items() if not e.get("failed")]
    if made >= target or not waiting:
        break
    connection.close()
    time.sleep(0.05)
print(json.dumps({"orders": Order.objects.count(), "at": time.time(), "holds_failed": sum(
    1 for e in flash_store.all_held().values() if e.get("failed"))}))
"""

PING = r"""
import django, sys
django.setup()
from shopyard.core.tasks import ping
print(ping.delay("bench").get(timeout=float(sys.argv[1])))
"""


@contextmanager
def celery_worker(env, concurrency):
    """A niced Celery worker on this run's own queue (deleted afterwards), answering ping."""
    cmd = ["nice", "-n", "10", PY, "-m", "celery", "-A", "shopyard", "worker", "-Q", env["CELERY_QUEUE"],
           f"--concurrency={concurrency}", "-l", "warning", "--without-gossip", "--without-mingle",
           "--without-heartbeat", "-n", f"{env['CELERY_QUEUE']}@%h"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        subprocess.run([PY, "-c", PING, "90"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker busy with a long task: stop it hard
            proc.kill()
            proc.wait(timeout=30)
        from kombu import Connection

        with Connection(env["BROKER_URL"], connect_timeout=10) as conn:
            conn.default_channel.queue_delete(env["CELERY_QUEUE"])
            conn.default_channel.exchange_delete(env["CELERY_QUEUE"])


async def _attempts(host, port, path, clients, attempts, connections):
    """Send `attempts` POSTs over `connections` keep-alive connections; returns [(status, seconds)]."""
    queue = list(range(attempts))
    results = []

    async def worker():
        reader = writer = None
        while queue:
            queue.pop()
            c = random.choice(clients)
            body = json.dumps({"address_id": c["address"], "quantity": 1}).encode()
            request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                       f"Authorization: Bearer {c['token']}\r\nAccept-Language: en\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            for _try in range(3):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    started = time.perf_counter()
                    writer.write(request)
                    await writer.drain()
                    head = await reader.readuntil(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    status = int(lines[0].split()[1])
                    length, close = 0, False
                    for line in lines[1:]:
                        name, _sep, value = line.partition(":")
                        if name.lower() == "content-length":
                            length = int(value)
                        elif name.lower() == "connection" and value.strip().lower() == "close":
                            close = True
                    await reader.readexactly(length)
                    done = time.perf_counter()
                    results.append((status, done - started, done))
                    if close:
                        writer.close()
                        reader = writer = None
                    break
                except (ConnectionError, asyncio.IncompleteReadError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
            else:
                results.append((0, 0.0, time.perf_counter()))
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return results


WRK_LUA = """
local clients = %(clients)s
local path = "%(path)s"
local quota = %(quota)d
local marker = "%(marker)s"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args)
  -- each thread draws its own buyers: LuaJIT's generator starts from the same seed in every
  -- thread, which sent every buyer twice in lockstep, once per thread
  math.randomseed(id)
  s201, s202, s409, other, answered = 0, 0, 0, 0, 0
end
request = function()
  local c = clients[math.random(#clients)]
  local body = string.format('{"address_id":%%d,"quantity":1}', c.address)
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Accept-Language"] = "en",
                                   ["Authorization"] = "Bearer " .. c.token}, body)
end
response = function(status, headers, body)
  if status == 201 then s201 = s201 + 1 elseif status == 202 then s202 = s202 + 1
  elseif status == 409 then s409 = s409 + 1 else other = other + 1 end
  answered = answered + 1
  if answered == quota then  -- this thread's share is done: tell the driver, which stops wrk
    local f = io.open(marker .. id, "w")
    f:close()
    wrk.thread:stop()
  end
end
done = function(summary, latency, requests)
  local a, b, c, d = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s201"); b = b + t:get("s409"); c = c + t:get("other"); d = d + t:get("s202")
  end
  io.write(string.format("JSON{\\"requests\\":%%d,\\"duration_us\\":%%d,\\"s201\\":%%d,\\"s202\\":%%d,\\"s409\\":%%d,\\"other\\":%%d,\\"errors\\":%%d,\\"p50\\":%%d,\\"p99\\":%%d}\\n",
    summary.requests, summary.duration, a, d, b, c,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk(base, path, clients, attempts, connections, threads=2):
    """wrk (C, so the client costs little CPU), each thread stopping after its share of attempts."""
    import tempfile

    table = "{" + ",".join(f'{{token="{c["token"]}",address={c["address"]}}}' for c in clients) + "}"
    import signal

    folder = tempfile.mkdtemp(prefix="flash-wrk-")
    marker = os.path.join(folder, "done-")
    script = os.path.join(folder, "flash.lua")
    with open(script, "w") as fh:
        fh.write(WRK_LUA % {"clients": table, "path": path, "quota": attempts // threads, "marker": marker})
    try:
        # wrk runs for a duration; SIGINT makes it stop and report once every thread has sent its share
        proc = subprocess.Popen([shutil.which("wrk"), "-t", str(threads), "-c", str(connections), "-d", "300s",
                                 "--timeout", "10s", "-s", script, base + path], stdout=subprocess.PIPE, text=True)
        while proc.poll() is None and not all(os.path.exists(f"{marker}{i}") for i in range(1, threads + 1)):
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    data = json.loads(next(ln for ln in out.splitlines() if ln.startswith("JSON{"))[4:])
    return data


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


def run(args, redis_on):
    with environment(args.db) as env:
        if redis_on:
            env["REDIS_URL"] = args.redis_url
            env["REDIS_KEY_PREFIX"] = f"shopyard-bench-flash-{os.getpid()}"
        else:
            env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput")
        data = json.loads(subprocess.run([PY, "-c", SETUP, str(args.users), str(args.units)], env=env, cwd=ROOT,
                                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        path = f"/api/v1/flash/items/{data['item']}/buy"
        wrk_result = drained = None
        workers = redis_on and args.broker == "on"
        try:
            with ExitStack() as stack:
                if workers:
                    env.update(BROKER_URL=args.broker_url, CELERY_QUEUE=f"bench-flash-{os.getpid()}",
                               CELERY_RESULT_BACKEND=args.redis_url)
                    stack.enter_context(celery_worker(env, args.celery_workers))
                base = stack.enter_context(gunicorn(env, workers=args.workers, threads=args.threads))
                host, port = base.removeprefix("http://").split(":")
                # warm every gunicorn thread up (imports, URL resolver, API schema) on an unknown item
                asyncio.run(_attempts(host, int(port), "/api/v1/flash/items/0/buy", data["clients"], 100, 16))
                if args.client == "wrk":
                    started, wall = time.perf_counter(), time.time()
                    wrk_result = _wrk(base, path, data["clients"], args.attempts, args.connections)
                    elapsed = time.perf_counter() - started
                    results = []
                else:
                    started, wall = time.perf_counter(), time.time()
                    results = asyncio.run(_attempts(host, int(port), path, data["clients"], args.attempts,
                                                    args.connections))
                    elapsed = time.perf_counter() - started
                if workers:  # the orders of the holds: wait for the worker to make them all
                    drained = json.loads(subprocess.run([PY, "-c", DRAIN, str(args.units), "600"], env=env, cwd=ROOT,
                                                        capture_output=True, text=True, check=True).stdout.strip()
                                         .splitlines()[-1])
            check = json.loads(subprocess.run([PY, "-c", CHECK, str(data["item"])], env=env, cwd=ROOT,
                                              capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        finally:
            if redis_on:
                import redis

                client = redis.Redis.from_url(args.redis_url)
                keys = list(client.scan_iter(match=env["REDIS_KEY_PREFIX"] + ":*", count=1000))
                if keys:
                    client.delete(*keys)
    common = {"bench": "flash_sale", "client": args.client, "redis": redis_on, "broker": bool(drained is not None), "db": args.db, "workers": args.workers,
              "threads": args.threads, "connections": args.connections, "users": args.users, "units": args.units}
    if drained is not None:
        common.update(celery_workers=args.celery_workers, orders_done_after_s=round(drained["at"] - wall, 2),
                      holds_failed=drained["holds_failed"])
    db_check = {"orders_in_db": check["orders"], "units_left": check["units_left"],
                "oversold": max(0, check["units_ordered"] - args.units), "buyers_with_two": check["buyers_with_two"],
                "normal_stock": check["normal_stock"]}
    if wrk_result is not None:
        secs = wrk_result["duration_us"] / 1e6
        return {**common, "attempts": wrk_result["requests"], "attempts_per_s": round(wrk_result["requests"] / secs, 1),
                "p50_ms": round(wrk_result["p50"] / 1000, 1), "p99_ms": round(wrk_result["p99"] / 1000, 1),
                "statuses": {"201": wrk_result["s201"], "202": wrk_result["s202"], "409": wrk_result["s409"],
                             "other": wrk_result["other"]},
                "socket_errors": wrk_result["errors"], "units_sold": wrk_result["s201"] + wrk_result["s202"], **db_check}
    statuses = {}
    for status, _secs, _at in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    latencies = [secs * 1000 for _status, secs, _at in results]
    sold = statuses.get("201", 0) + statuses.get("202", 0)
    # the two phases: buying while units last, then the crowd told "sold out"
    last_sale = max((at for status, _secs, at in results if status in (201, 202)), default=started)
    after = [(secs, at) for status, secs, at in results if at > last_sale]
    finished = max(at for _status, _secs, at in results)
    return {
        **common, "attempts": len(results), "attempts_per_s": round(len(results) / elapsed, 1), "p50_ms": round(_percentile(latencies, 50), 1),
        "p99_ms": round(_percentile(latencies, 99), 1), "statuses": statuses, "units_sold": sold,
        "sold_out_after_s": round(last_sale - started, 2),
        "sold_out_phase_per_s": round(len(after) / (finished - last_sale), 1) if finished > last_sale else None,
        "sold_out_phase_p99_ms": round(_percentile([secs * 1000 for secs, _at in after], 99), 1),
        **db_check,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis", choices=["on", "off", "both"], default="both")
    ap.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--attempts", type=int, default=20000)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--broker", choices=["on", "off"], default="on",
                    help="with Redis: a task broker and Celery worker make the orders (202 answers); off: in the request")
    ap.add_argument("--broker-url", default=os.environ.get("BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//")
    ap.add_argument("--celery-workers", type=int, default=1)
    ap.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
                    help="wrk (Debian's package; default when installed) or the asyncio client (reports the two phases)")
    args = ap.parse_args()
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.redis]
    runs = [run(args, redis_on) for redis_on in modes]
    print(json.dumps(runs[0] if len(runs) == 1 else {"bench": "flash_sale", "with_redis": runs[0], "database_only": runs[1]},
                     separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
