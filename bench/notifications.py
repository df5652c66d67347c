"""Notifications: the header's unread-message count for a user with 2,000
messages among 100,000 (the one query every signed-in storefront page adds),
and webhook throughput to a local HTTP receiver on loopback (signed POSTs,
one endpoint, in order).

    python bench/notifications.py [--db sqlite|postgres] [--runs 500] [--deliveries 300]

Prints one line: p50/p99 milliseconds of the unread count, and deliveries per
second with the p50 milliseconds per delivery (HTTP attempt plus bookkeeping).
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, environment, manage  # noqa: E402

MEASURE = r"""
import json, statistics, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import django
django.setup()
from django.utils import timezone
from shopyard.accounts.models import User
from shopyard.core.models import OutboxEvent
from shopyard.notifications import queries, webhooks
from shopyard.notifications.models import Message, WebhookAttempt, WebhookDelivery

runs, count = int(sys.argv[1]), int(sys.argv[2])
users = User.objects.bulk_create([User(username=f"u{i}") for i in range(50)])
rows = [Message(user=users[i % 50], kind="order_paid", language="en", title="t", body="b",
                read_at=None if i % 3 else timezone.now()) for i in range(100_000)]
Message.objects.bulk_create(rows, batch_size=5000)
target = users[0]
times = []
for _n in range(runs):
    started = time.perf_counter()
    n = queries.unread_count(target)
    times.append((time.perf_counter() - started) * 1000)
times.sort()
unread = {"p50": round(times[len(times) // 2], 3), "p99": round(times[int(len(times) * 0.99)], 3), "unread": n}

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
from django.conf import settings
settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
operator = User.objects.create(username="operator", is_staff=True)
endpoint, _secret = webhooks.register_endpoint(actor=operator, shop=None,
                                               url=f"http://127.0.0.1:{server.server_address[1]}/h",
                                               event_types=["order.paid"])
rows = []
for i in range(count):
    event = OutboxEvent.objects.create(name="order.paid", payload={"order_id": i, "total": "129.80", "currency": "CNY"})
    rows.append(WebhookDelivery(endpoint=endpoint, event_id=event.pk, event_name=event.name,
                                body=webhooks.body_for(event, event.payload), next_attempt_at=timezone.now()))
WebhookDelivery.objects.bulk_create(rows)
started = time.perf_counter()
sent = webhooks.send_endpoint(endpoint_id=endpoint.pk)
elapsed = time.perf_counter() - started
durations = sorted(WebhookAttempt.objects.values_list("duration_ms", flat=True))
assert sent == count == WebhookDelivery.objects.filter(status="delivered").count(), sent
print(json.dumps({"unread": unread, "per_s": round(count / elapsed, 1),
                  "http_p50_ms": durations[len(durations) // 2]}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--deliveries", type=int, default=300)
    args = ap.parse_args()
    with environment(args.db) as env:
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, "-c", MEASURE, str(args.runs), str(args.deliveries)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({"bench": "notifications", "db": args.db, "messages": 100_000, "user_messages": 2000,
                      "unread": figures["unread"]["unread"], "unread_p50_ms": figures["unread"]["p50"],
                      "unread_p99_ms": figures["unread"]["p99"], "webhooks": args.deliveries,
                      "webhooks_per_s": figures["per_s"], "webhook_http_p50_ms": figures["http_p50_ms"]},
                     separators=(",", ":")))


if __name__ == "__main__":
    main()
