"""Cost of the operations layer, in process: the request-log and Prometheus
middlewares per request (GET /health/live through the whole stack, with and
without them), and one readiness check (database SELECT 1 on SQLite and a
local-memory cache set/get). Run alone: .venv/bin/python bench/operations.py"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["SHOPYARD_HOME"] = tempfile.mkdtemp(prefix="shopyard-bench-ops-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopyard.settings")
os.environ["SHOPYARD_LOG_REQUESTS"] = "1"
os.environ["SHOPYARD_LOG_FORMAT"] = "json"

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

logging.getLogger().handlers[0].stream = open(os.devnull, "w")  # format every line, print none
N = 2000
OURS = {"shopyard.core.middleware.RequestLogMiddleware", "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "django_prometheus.middleware.PrometheusAfterMiddleware"}


def per_request_us(path: str, n: int) -> float:
    client = Client()
    client.get(path)
    started = time.perf_counter()
    for _ in range(n):
        client.get(path)
    return (time.perf_counter() - started) / n * 1e6


with_ops = per_request_us("/health/live", N)
with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in OURS]):
    without = per_request_us("/health/live", N)
ready = per_request_us("/health/ready", 200)
print(f"operations: /health/live {with_ops:.0f} us/request with the log+metrics middlewares, {without:.0f} us without "
      f"(+{with_ops - without:.0f} us); /health/ready {ready / 1000:.1f} ms (SQLite + local-memory cache); n={N}")
