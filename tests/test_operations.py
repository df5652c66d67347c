"""Production operations: health endpoints, structured logs, metrics, Sentry
scrubbing, and what a shopper sees while Redis, the broker or the database is down."""

import asyncio
import json
import logging
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.test import Client

from shopyard.core import logs
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
CLOSED = "127.0.0.1:1"  # nothing listens on port 1: connections are refused at once
DOWN_REDIS = {"default": {
    "BACKEND": "shopyard.core.cache.ResilientRedisCache", "LOCATION": f"redis://{CLOSED}/0",
    "KEY_PREFIX": "ops-test", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}}


def run_python(code: str, **env_vars) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter with Django set up under `env_vars` (for
    settings read at import: DATABASE_URL, the log format)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "BROKER_URL", "SHOPYARD_DEBUG",
                                                           "SHOPYARD_DEMO", "SHOPYARD_LOG_FORMAT"}}
    env.update(env_vars)
    prelude = "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shopyard.settings')\ndjango.setup()\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


# --- health -------------------------------------------------------------------

def test_liveness_answers_without_touching_any_service():
    # no database access is allowed in this test: liveness must not need one
    r = Client().get("/health/live")
    assert r.status_code == 200
    assert r.content == b"ok\n"
    assert "no-cache" in r["Cache-Control"]


def test_readiness_is_200_when_database_and_cache_answer(db):
    r = Client().get("/health/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "failing": [], "checks": {"database": "ok", "cache": "ok"}}


def test_readiness_names_the_cache_when_redis_is_down(db, settings):
    settings.CACHES = DOWN_REDIS
    r = Client().get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable" and body["failing"] == ["cache"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("Unavailable")


def test_readiness_names_the_broker_when_it_is_down(db, settings):
    settings.BROKER_URL = f"amqp://guest:guest@{CLOSED}//"
    r = Client().get("/health/ready")
    assert r.status_code == 503
    assert r.json()["failing"] == ["broker"]
    assert r.json()["checks"]["broker"] == "Unavailable: the broker cannot be reached"
    assert r.json()["checks"]["database"] == "ok" and r.json()["checks"]["cache"] == "ok"


def test_readiness_gives_up_on_a_check_that_hangs(db, settings, monkeypatch):
    # given a cache that never answers and a time limit of 0.2 s
    from health_check.checks import Cache

    async def hang(self):
        await asyncio.sleep(30)

    monkeypatch.setattr(Cache, "run", hang)
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.2
    r = Client().get("/health/ready")
    # then readiness answers 503 naming the cache as timed out (not after 30 s: the test would hang)
    assert r.status_code == 503
    assert r.json()["failing"] == ["cache"]
    assert r.json()["checks"]["cache"] == "Unavailable: Timed out after 0.2 seconds"


# --- database down: one fresh process whose DATABASE_URL points at a closed port -----

@pytest.fixture(scope="module")
def database_down():
    result = run_python("""
        import json
        from django.test import Client
        c = Client(raise_request_exception=False)
        out = {}
        for path in ["/health/ready", "/", "/accounts/login/", "/api/v1/categories", "/health/live"]:
            r = c.get(path)
            out[path] = {"status": r.status_code, "body": r.content.decode(), "retry": r.get("Retry-After")}
        r = c.post("/accounts/login/", {"username": "shopper", "password": "shopper-password-1"})
        out["POST /accounts/login/"] = {"status": r.status_code, "body": r.content.decode(), "retry": r.get("Retry-After")}
        print("RESULT" + json.dumps(out))
    """, DATABASE_URL=f"postgresql://shopyard:secret-db-password@{CLOSED}/shopyard", SHOPYARD_LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT"):]), result.stderr


def test_readiness_names_the_database_when_it_is_down(database_down):
    answers, _log = database_down
    ready = answers["/health/ready"]
    assert ready["status"] == 503
    body = json.loads(ready["body"])
    assert body["failing"] == ["database"]
    assert body["checks"]["cache"] == "ok"
    assert "secret-db-password" not in ready["body"]


def test_pages_answer_a_plain_503_when_the_database_is_down(database_down):
    answers, log_text = database_down
    for path in ["/", "POST /accounts/login/"]:
        page = answers[path]
        assert page["status"] == 503, path
        assert page["retry"] == "30"
        assert "Back in a moment" in page["body"] and "请稍后再试" in page["body"]
        assert "Traceback" not in page["body"] and "OperationalError" not in page["body"]
    api = answers["/api/v1/categories"]
    assert api["status"] == 503
    assert json.loads(api["body"])["code"] == "service_unavailable"
    # the process itself is alive: the load balancer must not restart it
    assert answers["/health/live"]["status"] == 200
    assert "secret-db-password" not in log_text and "shopper-password-1" not in log_text
    # a page that needs no data (the login form) still renders: only readiness tells the load balancer
    assert answers["/accounts/login/"]["status"] == 200


# --- logs ---------------------------------------------------------------------

def test_one_request_line_with_its_fields_and_the_request_id_round_trip(log_lines):
    r = Client().get("/health/live", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert r["X-Request-ID"] == "lb-7f3a9c21-0001"
    lines = [x for x in log_lines() if x["logger"] == "shopyard.requests"]
    assert len(lines) == 1
    line = lines[0]
    assert {k: line[k] for k in ("event", "method", "path", "status", "user_id", "request_id", "level")} == {
        "event": "request", "method": "GET", "path": "/health/live", "status": 200, "user_id": None,
        "request_id": "lb-7f3a9c21-0001", "level": "info",
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    # the time carries its offset
    assert line["timestamp"][-6] in "+-" and line["timestamp"][-3] == ":"


@pytest.mark.django_db
def test_routine_answers_log_at_info_and_refusals_at_warning(log_lines, shopper, sku, address):
    """A sold-out or already-paid conflict (409) and a missing page (404) are normal trading;
    a refused input (422) or credentials (401) are what an operator watches for."""
    token = f.token_for(shopper)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    Client().get("/no-such-page/")
    Client().post("/api/v1/orders", data=json.dumps({"address_id": address.pk, "lines": [
        {"sku_id": sku.pk, "quantity": 11}]}), content_type="application/json", **auth)  # 10 in stock
    Client().post("/api/v1/orders", data=json.dumps({"address_id": "x"}), content_type="application/json", **auth)
    Client().get("/api/v1/orders", HTTP_AUTHORIZATION="Bearer wrong")
    lines = [x for x in log_lines() if x["logger"] == "shopyard.requests"]
    assert [(x["status"], x["level"]) for x in lines] == [
        (404, "info"), (409, "info"), (422, "warning"), (401, "warning")]


def test_a_request_id_that_is_not_a_plain_id_is_replaced():
    r = Client().get("/health/live", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert r["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(r["X-Request-ID"]) == 32 and r["X-Request-ID"].isalnum()
    fresh = Client().get("/health/live")
    assert len(fresh["X-Request-ID"]) == 32 and fresh["X-Request-ID"] != r["X-Request-ID"]


def test_the_request_id_reaches_the_task_the_request_queues(transactional_db, shopper, sku, address, log_lines):
    # placing an order emits order.placed; its delivery task runs (eagerly) after commit
    r = Client().post("/api/v1/orders", data=json.dumps({"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}),
                      content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {f.token_for(shopper)}",
                      HTTP_X_REQUEST_ID="checkout-req-42")
    assert r.status_code == 201
    tasks = [x for x in log_lines() if x["logger"] == "shopyard.tasks"]
    assert tasks, "no task line"
    dispatch = [x for x in tasks if x["task"] == "shopyard.core.tasks.dispatch_event"]
    assert dispatch and all(x["request_id"] == "checkout-req-42" for x in dispatch)
    assert all(x["outcome"] == "success" for x in dispatch)
    request_line = [x for x in log_lines() if x["logger"] == "shopyard.requests"]
    assert [(x["method"], x["path"], x["status"], x["user_id"]) for x in request_line] == [
        ("POST", "/api/v1/orders", 201, shopper.pk)]


def test_the_request_id_travels_in_the_task_message_to_a_worker(settings):
    # what a worker gets: the id in the message headers, bound before the task's first line
    from celery import Celery

    from shopyard.core.logs import TASK_HEADER, task_headers, task_started

    headers = {}
    import structlog

    structlog.contextvars.bind_contextvars(request_id="from-request-77")
    task_headers(headers=headers)
    structlog.contextvars.clear_contextvars()
    assert headers == {TASK_HEADER: "from-request-77"}

    app = Celery("t")

    @app.task(bind=True)
    def probe(self):
        return logs.current_request_id()

    probe.push_request(is_eager=False, headers=headers, id="t-1")
    try:
        task_started(task_id="t-1", task=probe)
        assert logs.current_request_id() == "from-request-77"
    finally:
        probe.pop_request()
        structlog.contextvars.clear_contextvars()


def test_login_and_checkout_leave_no_password_token_or_address_in_the_log(db, shopper, sku, address, log_lines):
    from django.contrib.auth.hashers import make_password

    shopper.password = make_password("Correct-Horse-9")
    shopper.save(update_fields=["password"])
    browser = Client()
    r = browser.post("/accounts/login/", {"username": shopper.username, "password": "Correct-Horse-9"})
    assert r.status_code == 302
    wrong = Client().post("/accounts/login/", {"username": shopper.username, "password": "Wrong-Guess-1"})
    assert wrong.status_code == 422
    token = f.token_for(shopper)
    r = Client().post("/api/v1/orders", data=json.dumps({"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}),
                      content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 201
    Client().get("/accounts/password/reset/MQ/abc-0123456789abcdef0123456789abcdef/")
    text = log_lines.text()
    lines = log_lines()
    assert [x["status"] for x in lines if x["logger"] == "shopyard.requests"][:3] == [302, wrong.status_code, 201]
    for secret in ["Correct-Horse-9", "Wrong-Guess-1", token, browser.cookies["sessionid"].value,
                   address.detail, address.phone, "文三路", "13800138000", "127.0.0.1",
                   "abc-0123456789abcdef0123456789abcdef"]:
        assert secret not in text, secret
    # the reset link is logged as its route, without the token
    assert [x["path"] for x in lines if x["logger"] == "shopyard.requests"][-1] == \
        "/accounts/password/reset/<str:uid>/<str:token>/"


def test_phone_numbers_in_log_messages_are_masked_but_dates_and_order_numbers_stay(log_lines):
    """The demo's console SMS provider logs each text it would send; the number it goes to
    must not reach the log whole, whoever logs it, while the rest of the line stays useful."""

    from shopyard.notifications.sms import ConsoleProvider

    ConsoleProvider().send(phone="13800138000", text="【Shopyard】验证码 481516，5 分钟内有效")
    logging.getLogger("shopyard.payments").warning(
        "order 202611261234567890 on 2026-11-26 for +86 139 1234 5678 / 021-62345678 / 13912345678")
    text = log_lines.text()
    for whole in ["13800138000", "13912345678", "+86 139 1234 5678", "021-62345678"]:
        assert whole not in text, whole
    assert "138****8000" in text and "481516" in text  # the developer still sees who gets which code
    assert "202611261234567890" in text and "2026-11-26" in text


def test_production_logs_are_json_and_printed_once_under_celery():
    result = run_python("""
        import logging
        from django.test import Client
        from shopyard.celery import app
        app.log.setup(loglevel="INFO")  # what `celery worker` does at start
        Client().get("/health/live", HTTP_X_REQUEST_ID="prod-line-0001")
        logging.getLogger("shopyard.payments").warning("one line only")
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(x) for x in result.stderr.splitlines() if x.startswith("{")]
    assert len(lines) == len([x for x in result.stderr.splitlines() if x.strip()]), result.stderr
    requests = [x for x in lines if x["logger"] == "shopyard.requests"]
    assert [(x["path"], x["status"], x["request_id"]) for x in requests] == [("/health/live", 200, "prod-line-0001")]
    assert [x["event"] for x in lines if x["logger"] == "shopyard.payments"] == ["one line only"]


def test_the_demo_logs_readable_text_and_no_request_lines():
    result = run_python("""
        import logging
        from django.test import Client
        Client().get("/health/live")
        logging.getLogger("shopyard.payments").warning("demo warning")
    """, SHOPYARD_DEMO="1")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert "demo warning" in lines[0] and not lines[0].startswith("{")


def test_a_task_queued_without_a_broker_logs_no_warning():
    # without BROKER_URL tasks run eagerly, but Celery still opens its in-memory connection:
    # one without a host printed kombu's "No hostname was supplied" at every demo's start
    result = run_python("""
        from shopyard.core.tasks import dispatch_events
        dispatch_events.delay([])
        print("queued")
    """, SHOPYARD_DEMO="1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "queued"
    assert [x for x in result.stderr.splitlines() if x.strip()] == [], result.stderr


# --- metrics ------------------------------------------------------------------

def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{") and line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_are_refused_to_the_public(db, settings):
    settings.METRICS_TOKEN = "metrics-token-0123456789"
    settings.METRICS_ALLOW = ["10.0.0.0/8"]
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    # a forged X-Forwarded-For is not read with no trusted proxy
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 404
    # with neither setting, nobody at all
    settings.METRICS_TOKEN, settings.METRICS_ALLOW = "", []
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_metrics_are_served_to_the_allowed_address_behind_the_proxy(db, settings):
    settings.METRICS_ALLOW = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = 1
    r = Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3", REMOTE_ADDR="127.0.0.1")
    assert r.status_code == 200
    assert b"django_http_requests_latency_seconds_by_view_method" in r.content


def test_business_counters_move_after_an_order_and_its_payment(transactional_db, settings, shopper, shop, address):
    settings.METRICS_TOKEN = "metrics-token-0123456789"
    scrape = Client(HTTP_AUTHORIZATION="Bearer metrics-token-0123456789")
    before = scrape.get("/metrics").content.decode()
    last = f.make_product(shop, stock=1).skus.get()
    order = f.make_paid_order(shopper, address, [(last, 1)])
    assert order.status == "paid"
    after = scrape.get("/metrics")
    assert after.status_code == 200
    text = after.content.decode()
    assert _metric(text, "shopyard_orders_placed_total") - _metric(before, "shopyard_orders_placed_total") == 1
    assert _metric(text, "shopyard_stock_outs_total") - _metric(before, "shopyard_stock_outs_total") == 1
    assert "django_db_execute_total" in text
    assert "django_cache_get_total" in text
    assert 'shopyard_celery_tasks_total{outcome="success",task="shopyard.core.tasks.dispatch_event"}' in text


def test_payment_counters_follow_payment_events(db, django_capture_on_commit_callbacks):
    from shopyard.core import metrics
    from shopyard.core.events import subscribers

    assert "shopyard.operations.counters.payment_succeeded" in subscribers("payment.succeeded")
    assert "shopyard.operations.counters.payment_failed" in subscribers("payment.failed")
    from shopyard.operations import counters

    ok = metrics.PAYMENTS.labels(outcome="succeeded")._value.get()
    failed = metrics.PAYMENTS.labels(outcome="failed")._value.get()
    with django_capture_on_commit_callbacks(execute=True):  # counted when the deliveries commit
        counters.payment_succeeded({"payment_id": 1})
        counters.payment_failed({"payment_id": 2})
        counters.payment_failed({"payment_id": 3})
    assert metrics.PAYMENTS.labels(outcome="succeeded")._value.get() - ok == 1
    assert metrics.PAYMENTS.labels(outcome="failed")._value.get() - failed == 2


def test_an_order_that_leaves_stock_counts_no_stock_out(db, shopper, shop, address):
    from shopyard.operations.counters import stock_outs_of

    plenty = f.make_product(shop, stock=5).skus.get()
    last = f.make_product(shop, stock=2).skus.get()
    order = f.make_paid_order(shopper, address, [(plenty, 1), (last, 2)])
    assert stock_outs_of(order.pk) == 1
    # restocked later: the order is still the one that emptied the shelf then
    from shopyard.inventory.services import set_stock

    set_stock(sku=last, quantity=9)
    assert stock_outs_of(order.pk) == 1


# --- Sentry -------------------------------------------------------------------

def test_sentry_reports_carry_no_cookies_credentials_or_personal_data():
    import sentry_sdk
    from sentry_sdk.transport import Transport

    sent = []

    class FakeTransport(Transport):
        def capture_envelope(self, envelope):
            sent.append(envelope)

    from shopyard.core.sentry import init

    init("https://public@sentry.example.invalid/1", transport=FakeTransport)
    assert not sentry_sdk.get_client().options["send_default_pii"]
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_user({"id": 7, "email": "buyer@example.com", "ip_address": "203.0.113.9"})
            scope.set_extra("shipping", {"address": "浙江省杭州市西湖区文三路 100 号", "phone": "13800138000"})

            def add_request(event, hint):
                event["request"] = {
                    "url": "https://shop.example.com/checkout/", "method": "POST",
                    "query_string": "token=abc", "cookies": {"sessionid": "s3ss10n"},
                    "headers": {"Authorization": "Bearer tok-123", "Cookie": "sessionid=s3ss10n", "User-Agent": "t"},
                    "data": {"password": "hunter2", "detail": "文三路 100 号"},
                }
                return event

            scope.add_event_processor(add_request)
            try:
                password = "".join(["hun", "ter2"])  # noqa: F841 - a frame variable the report must not carry
                raise RuntimeError("order failed for 13800138000")
            except RuntimeError as exc:
                sentry_sdk.capture_exception(exc)
        sentry_sdk.flush()
    finally:
        sentry_sdk.init()  # no DSN: reporting off again
    assert len(sent) == 1
    payload = sent[0].items[0].payload.json
    text = json.dumps(payload, ensure_ascii=False)
    for secret in ["s3ss10n", "tok-123", "hunter2", "文三路", "13800138000", "buyer@example.com", "203.0.113.9",
                   "token=abc"]:
        assert secret not in text, secret
    assert payload["user"] == {"id": 7}
    assert payload["request"]["headers"] == {"User-Agent": "t"}
    assert payload["exception"]["values"][0]["type"] == "RuntimeError"


# --- degradation ------------------------------------------------------------------

def test_with_redis_down_pages_render_uncached_and_login_works(db, settings, shopper, product, log_lines, monkeypatch):
    from shopyard.core import cache as resilient

    monkeypatch.setattr(resilient, "WARN_EVERY_SECONDS", 0)
    from django.contrib.auth.hashers import make_password

    shopper.password = make_password("Correct-Horse-9")
    shopper.save(update_fields=["password"])
    settings.CACHES = DOWN_REDIS
    settings.REDIS_URL = f"redis://{CLOSED}/0"  # flash sales read Redis directly
    c = Client()
    assert c.get("/").status_code == 200
    assert c.get("/flash/").status_code == 200
    assert c.get("/").status_code == 200
    assert c.get(f.product_url(product)).status_code == 200
    r = c.post("/accounts/login/", {"username": shopper.username, "password": "Correct-Horse-9"})
    assert r.status_code == 302
    assert c.get("/accounts/me/").status_code == 200
    # the throttle fails open, and says so
    warnings = [x for x in log_lines() if x["logger"] == "shopyard.cache"]
    assert warnings and warnings[0]["level"] == "warning" and "Redis is unreachable" in warnings[0]["event"]


def test_with_the_broker_down_an_order_is_placed_and_its_event_waits_in_the_outbox(
        db, settings, shopper, sku, address, django_capture_on_commit_callbacks, monkeypatch):
    from shopyard.celery import app
    from shopyard.core.models import OutboxEvent

    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "broker_url", f"amqp://guest:guest@{CLOSED}//")
    monkeypatch.setattr(app.conf, "broker_connection_retry", False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    with django_capture_on_commit_callbacks(execute=True):
        r = Client(raise_request_exception=False).post(
            "/api/v1/orders", data=json.dumps({"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}),
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {f.token_for(shopper)}")
    assert r.status_code == 201
    event = OutboxEvent.objects.get(name="order.placed")
    assert event.payload["order_id"] == r.json()["orders"][0]["id"]
    assert (event.status, event.dispatched_at) == ("new", None)
    # once the broker is back, the periodic sweep delivers it
    monkeypatch.undo()
    from shopyard.core.events import dispatch_pending

    dispatch_pending()
    event.refresh_from_db()
    assert event.dispatched_at is not None and event.status == "delivered"


@pytest.mark.services  # the configured cache: Redis in CI's PostgreSQL stage
def test_the_counted_cache_returns_cached_empty_values_and_counts_hits_and_misses():
    """A cached [] or 0 is a hit that reads back as itself (a cache that turned falsy
    values into misses sent every search to the database for its synonyms)."""
    from django.core.cache import caches
    from django_prometheus.cache.metrics import django_cache_hits_total, django_cache_misses_total

    cache = caches["default"]
    backend = "redis" if "Redis" in type(cache).__name__ else "locmem"
    hits = django_cache_hits_total.labels(backend=backend)._value.get()
    misses = django_cache_misses_total.labels(backend=backend)._value.get()
    cache.set("ops-test-empty", [], 60)
    cache.set("ops-test-zero", 0, 60)
    assert cache.get("ops-test-empty") == [] and cache.get("ops-test-zero") == 0
    assert cache.get("ops-test-missing", "fallback") == "fallback"
    assert django_cache_hits_total.labels(backend=backend)._value.get() - hits == 2
    assert django_cache_misses_total.labels(backend=backend)._value.get() - misses == 1


def _redis_cache_or_skip(prefix):
    """Our Redis cache class on the machine's Redis (REDIS_URL's, else 127.0.0.1:6379) under `prefix`."""
    from shopyard.core.cache import ResilientRedisCache
    from tests.servers import redis_cache_or_skip

    return redis_cache_or_skip(ResilientRedisCache, os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0", prefix)


@pytest.mark.services
def test_clearing_the_redis_cache_deletes_its_own_entries_only():
    """Django's RedisCache.clear() flushed the whole Redis database: another deployment's
    cache (or a parallel test process's, which turned its query counts red mid-test) and
    this deployment's own flash-sale stock and task results went with it."""
    run = uuid.uuid4().hex[:12]
    ours = _redis_cache_or_skip(f"ops-clear-{run}*[x]")  # glob characters in a prefix match literally
    neighbour = _redis_cache_or_skip(f"ops-clear-{run}")  # a prefix that starts like ours
    client = ours._cache.get_client(write=True)
    for n in range(2500):  # more than one SCAN batch
        ours.set(f"page-{n}", n, 300)
    ours.set("old-version", "kept under version 7", 300, version=7)
    neighbour.set("page-1", "the neighbour's", 300)
    flash_key = f"ops-clear-{run}*[x]:flash:42"  # same prefix, outside the cache
    client.set(flash_key, "5")
    try:
        ours.clear()

        assert ours.get("page-1") is None and ours.get("page-2499") is None
        assert ours.get("old-version", version=7) is None
        assert neighbour.get("page-1") == "the neighbour's"
        assert client.get(flash_key) == b"5"
        assert list(client.scan_iter(match=f"ops-clear-{run}\\*\\[x\\]:[0-9]*", count=1000)) == []
    finally:
        client.delete(flash_key)
        neighbour.clear()


def test_clearing_the_redis_cache_while_redis_is_down_is_skipped_with_a_warning(log_lines, monkeypatch):
    from shopyard.core import cache as resilient

    monkeypatch.setattr(resilient, "WARN_EVERY_SECONDS", 0)
    down = resilient.ResilientRedisCache(f"redis://{CLOSED}/0", DOWN_REDIS["default"] | {"OPTIONS": {}})
    down.clear()  # no exception: what it would delete is unreachable anyway
    warnings = [x for x in log_lines() if x["logger"] == "shopyard.cache"]
    assert warnings and "cache clear skipped" in warnings[0]["event"]
