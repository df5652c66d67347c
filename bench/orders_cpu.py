"""CPU per order placed over the API, measured in-process.

    python bench/orders_cpu.py [--db postgres|sqlite] [--orders 400] [--clients 16] [--skus 200]
                               [--products 0]
                               [--profile] [--profile-out FILE] [--sort cumulative] [--top 60]
                               [--instructions]

bench/orders.py's wall-clock orders/s moves with whatever else the shared
machine runs; the CPU one process spends per order (time.process_time)
barely does, so this is the figure to decide a change with. The request is
bench/orders.py's exactly: POST /api/v1/orders with a buy-now line (one of
`--skus` SKUs with ample stock), a shopper's bearer token and a fresh
Idempotency-Key, through the deployed WSGI application (shopyard.wsgi, its
fronts and Django's handler), as gunicorn calls it (response closers
included). With PostgreSQL the
server's own CPU is not in cpu_ms (it is in wall_ms; db_cpu_ms_per_order gives it). Every answer must be a
201, and the database must hold one order per answer afterwards.

`--profile` prints the top of a cProfile of the orders instead of the line.
`--instructions` runs the app under valgrind's callgrind and prints the
instructions it ran per order (the measured orders only): a count that does
not move with the machine's hour, to decide a small change with (the database
server's CPU is not in it; use the timed run for that).
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))


def inner(args):
    import django

    # one server connection for the whole run, so the server's CPU is read off one backend
    # (with the default 60 s a slow run read another backend's counters)
    os.environ.setdefault("DB_CONN_MAX_AGE", "86400")
    django.setup()

    # the same shop, SKUs, shoppers and addresses as the wall-clock benchmark
    from orders import run_setup

    from shopyard.orders.models import Order

    data = run_setup(args.clients, args.skus)
    # what gunicorn serves (bench/orders.py): the deployed application with its fronts
    from shopyard.wsgi import application as handler
    rng = random.Random(7)
    counter = iter(range(10**9))

    def order():
        c = rng.choice(data["clients"])
        body = json.dumps({"address_id": c["address"], "lines": [{"sku_id": rng.choice(data["skus"]), "quantity": 1}]})
        raw = body.encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/orders", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(raw),
            "wsgi.errors": sys.stderr, "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)),
            "HTTP_AUTHORIZATION": f"Bearer {c['token']}", "HTTP_IDEMPOTENCY_KEY": f"cpu-{next(counter)}",
        }
        statuses = []
        response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        chunks = b"".join(response)
        response.close()
        if not statuses[0].startswith("201"):
            raise SystemExit(f"answered {statuses[0]}: {chunks[:300]!r}")

    for _ in range(20):  # warm: imports, connections, compiled statements, caches
        order()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile(time.process_time)  # CPU, not waits on the database
        prof.enable()
        for _ in range(args.orders):
            order()
        prof.disable()
        if args.profile_out:  # for pstats' callers/callees afterwards
            prof.dump_stats(args.profile_out)
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
        return
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        order()
    statements = len(queries.captured_queries)
    if os.environ.get("BENCH_SHOW_SQL"):
        for q in queries.captured_queries:
            print(q["sql"][:int(os.environ.get("BENCH_SHOW_SQL_CHARS", "220"))], file=sys.stderr)
    from _harness import server_cpu_seconds

    server = server_cpu_seconds()
    if args.instructions:  # count only the measured orders (started with --instr-atstart=no)
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.orders):
        order()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if args.instructions:
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    server = None if server is None else server_cpu_seconds() - server
    held = Order.objects.count()
    if args.instructions:  # the caller reads the count from callgrind's file when this process ends
        print(json.dumps({"orders": args.orders, "statements_per_order": statements,
                          "orders_in_db": held, "answers_201": args.orders + 21}))
        return
    print(json.dumps({
        "bench": "orders_cpu", "db": args.db, "products": args.products, "orders": args.orders,
        "cpu_ms_per_order": round(cpu * 1000 / args.orders, 3), "wall_ms_per_order": round(wall * 1000 / args.orders, 3),
        # PostgreSQL's own CPU for the orders (its backend process): it shares the cores with the app
        **({} if server is None else {"db_cpu_ms_per_order": round(server * 1000 / args.orders, 3)}),
        "statements_per_order": statements, "orders_in_db": held, "answers_201": args.orders + 21,
    }, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--skus", type=int, default=200)
    ap.add_argument("--products", type=int, default=0,
                    help="bench catalogue loaded beside the order SKUs first (load_bench_catalog); 0: none")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--profile-out", default="", help="with --profile: also write the cProfile stats to this file")
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--top", type=int, default=60)
    ap.add_argument("--instructions", action="store_true",
                    help="count the app's instructions per order under valgrind's callgrind instead of timing")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args)
    from _harness import PY, ROOT, analyze, environment, manage

    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        if args.products:  # orders placed in a shop beside a catalogue of that size (issue 12)
            manage(env, "load_bench_catalog", "--products", str(args.products))
            analyze(env)
        if args.instructions:
            return count_instructions(args, env)
        subprocess.run([PY, __file__, "--inner", *sys.argv[1:]], env=env, cwd=ROOT, check=True)


def count_instructions(args, env):
    """The app's instructions per order, counted by callgrind over the measured orders
    only: the same count for the same code and data whatever else the machine runs,
    where CPU seconds on the shared machine moved 15-50 % within an hour. The
    database server's work is not in it."""
    from _harness import PY, ROOT

    out = os.path.join(env["SHOPYARD_HOME"], "callgrind.out")
    # held events delivered SHOPYARD_EVENT_DISPATCH_BATCH at a time, as under load: 50 times
    # slower under callgrind, the 0.5 s timer delivered them in batches of one or two, and
    # the count moved by 10 % with how many it caught
    env = {"SHOPYARD_EVENT_DISPATCH_SECONDS": "3600", **env}
    done = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                           PY, __file__, "--inner", *sys.argv[1:]], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True)
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    with open(out) as f:
        totals = [line for line in f if line.startswith(("summary:", "totals:"))]
    instructions = int(totals[-1].split()[1])
    print(json.dumps({
        "bench": "orders_cpu", "db": args.db, "products": args.products, "orders": args.orders,
        "instructions_per_order": round(instructions / args.orders), **inner,
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
