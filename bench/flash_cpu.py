"""CPU per flash-sale purchase attempt, measured in-process, split by answer.

    python bench/flash_cpu.py [--db postgres|sqlite] [--attempts 300] [--rounds 3] [--parts]
                              [--profile hold|limit|sold_out|sold_out_django]

`bench/flash_sale.py` measures the whole deployment with wrk; on a shared
2-core machine its figures move with whatever else runs. The CPU one process
spends per attempt (time.process_time) barely does, so this is the figure to
decide a change with. Attempts go to `shopyard.wsgi.application` exactly as
gunicorn calls it (the WSGI gate included), with Redis (the Lua gate) and a
task broker (RabbitMQ: holds are answered 202, the task is published to a
queue of this run's own, deleted afterwards), against the same item and
buyers as bench/flash_sale.py. Four answers, each timed on its own:

- hold: a buyer's first attempt, 202 with a hold token;
- limit: the same buyer again, 409 flash_limit_reached;
- sold_out: any attempt once the units are gone (409 sold_out);
- sold_out_django: the same attempt through Django's full stack, bypassing
  every gate (what a sold-out answer would cost without one).

With PostgreSQL the server's own CPU is not in the figure (it is in wall_ms).
`--parts` times each step of a hold alone instead (token check on first use
and again, address check, Lua hold, task publish).
`--profile` prints the top of a cProfile of that answer instead of the line.
Prints one line: ms of CPU and of wall clock per attempt, the best of `--rounds`.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))


def inner(args):
    import django

    django.setup()
    from flash_sale import SETUP

    from shopyard.wsgi import application

    n, extra = args.attempts, 10
    out = io.StringIO()
    saved, sys.stdout = sys.stdout, out
    try:
        sys.argv = ["setup", str(n * args.rounds + extra), str(n * args.rounds + extra)]
        exec(compile(SETUP.replace("django.setup()", ""), "setup", "exec"), {"__name__": "setup"})
    finally:
        sys.stdout = saved
    data = json.loads(out.getvalue().strip().splitlines()[-1])
    clients, path = data["clients"], f"/api/v1/flash/items/{data['item']}/buy"
    django_app = getattr(application, "django_app", None)
    if django_app is None:  # main before the slim path: the gate wraps Django's handler
        from django.core.handlers.wsgi import WSGIHandler

        django_app = WSGIHandler()

    def call(client, app=application, expect=None):
        body = json.dumps({"address_id": client["address"], "quantity": 1}).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {client['token']}",
            "HTTP_ACCEPT_LANGUAGE": "en", "SERVER_PROTOCOL": "HTTP/1.1",
        }
        statuses = []
        response = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        chunks = b"".join(response)
        if hasattr(response, "close"):
            response.close()
        if expect and not statuses[0].startswith(expect):
            raise SystemExit(f"expected {expect}, got {statuses[0]}: {chunks[:300]!r}")

    def timed(batch, **kwargs):
        cpu, wall = time.process_time(), time.perf_counter()
        for client in batch:
            call(client, **kwargs)
        return ((time.process_time() - cpu) * 1000 / len(batch), (time.perf_counter() - wall) * 1000 / len(batch))

    cases = {"hold": ("202", {}), "limit": ("409", {}), "sold_out": ("409", {}),
             "sold_out_django": ("409", {"app": django_app})}
    best = {name: (float("inf"), float("inf")) for name in cases}
    rounds = [clients[extra + r * n: extra + (r + 1) * n] for r in range(args.rounds)]
    for c in clients[:extra // 2]:  # warm: imports, the URL resolver, the API schema, connections
        call(c, expect="202")
    for c in clients[:extra // 2]:
        call(c, expect="409")

    if args.parts:
        return parts(clients[extra + n * args.rounds - n:], data["item"])
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
    for batch in rounds:
        for name in ("hold", "limit"):
            if profiler and args.profile == name:
                profiler.enable()
            best[name] = min(best[name], timed(batch, expect=cases[name][0]))
            if profiler and args.profile == name:
                profiler.disable()
    for c in clients[extra // 2: extra]:  # the last units: the item is sold out from here on
        call(c, expect="202")
    for _r in range(args.rounds):
        for name in ("sold_out", "sold_out_django"):
            expect, kwargs = cases[name]
            if profiler and args.profile == name:
                profiler.enable()
            best[name] = min(best[name], timed(rounds[0], expect=expect, **kwargs))
            if profiler and args.profile == name:
                profiler.disable()
    if profiler:
        import pstats

        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    print(json.dumps({"bench": "flash_cpu", "db": args.db, "attempts": n, "rounds": args.rounds,
                      **{f"{name}_cpu_ms": round(cpu, 3) for name, (cpu, _wall) in best.items()},
                      **{f"{name}_wall_ms": round(wall, 3) for name, (_cpu, wall) in best.items()}},
                     separators=(",", ":")), flush=True)


def parts(clients, item_id):
    """CPU per step of a hold, each step timed alone over fresh buyers (the --parts line)."""
    import secrets

    from django.conf import settings
    from django.utils.module_loading import import_string

    from shopyard.accounts.models import Address, User
    from shopyard.accounts.queries import has_address
    from shopyard.checkout.flash import _enqueue
    from shopyard.promotions import flash

    authenticate = import_string(settings.API_TOKEN_AUTHENTICATOR)
    users = {a.pk: a.user for a in Address.objects.select_related("user").filter(pk__in=[c["address"] for c in clients])}
    User.objects.filter(pk__in=[u.pk for u in users.values()]).count()

    def each(fn):
        cpu = time.process_time()
        for c in clients:
            fn(c)
        return round((time.process_time() - cpu) * 1000 / len(clients), 3)

    out = {
        "token_first_use_ms": each(lambda c: authenticate(c["token"])),
        "token_again_ms": each(lambda c: authenticate(c["token"])),
        "has_address_ms": each(lambda c: has_address(users[c["address"]], c["address"])),
        "lua_hold_ms": each(lambda c: flash.hold(actor=users[c["address"]], item_id=item_id, quantity=1,
                                                 token=secrets.token_hex(16), entry={"address": c["address"]})),
        "publish_ms": each(lambda c: _enqueue(secrets.token_hex(16))),
    }
    print(json.dumps({"bench": "flash_cpu_parts", "buyers": len(clients), **out}, separators=(",", ":")), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--attempts", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    ap.add_argument("--broker-url", default=os.environ.get("BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//")
    ap.add_argument("--profile", choices=["hold", "limit", "sold_out", "sold_out_django"])
    ap.add_argument("--parts", action="store_true", help="time each step of a hold alone instead")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args)
    from _harness import PY, ROOT, environment, manage

    with environment(args.db) as env:
        queue = f"bench-flash-cpu-{os.getpid()}"
        env.update(REDIS_URL=args.redis_url, REDIS_KEY_PREFIX=f"shopyard-bench-flash-cpu-{os.getpid()}",
                   BROKER_URL=args.broker_url, CELERY_QUEUE=queue)
        manage(env, "migrate", "--noinput")
        try:
            subprocess.run([PY, __file__, "--inner", "--db", args.db, "--attempts", str(args.attempts),
                            "--rounds", str(args.rounds), *(["--parts"] if args.parts else []), *(["--profile", args.profile] if args.profile else [])],
                           env=env, cwd=ROOT, check=True, stderr=None if args.profile else subprocess.DEVNULL)
        finally:
            import redis
            from kombu import Connection

            client = redis.Redis.from_url(args.redis_url)
            keys = list(client.scan_iter(match=env["REDIS_KEY_PREFIX"] + ":*", count=1000))
            if keys:
                client.delete(*keys)
            with Connection(args.broker_url, connect_timeout=10) as conn:
                conn.default_channel.queue_delete(queue)
                conn.default_channel.exchange_delete(queue)


if __name__ == "__main__":
    main()
