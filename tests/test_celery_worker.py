"""Celery with a real worker, a real broker and a real result backend.

`.ci/run` runs these with CELERY_TEST_BROKER=1, BROKER_URL (RabbitMQ),
REDIS_URL (results), a unique CELERY_QUEUE and REDIS_KEY_PREFIX, and
DATABASE_URL (PostgreSQL). Each test places real orders in this process,
commits them (transactional tests), and a `celery worker` subprocess reading
the same test database does the work: the tasks travel through the broker,
results come back through Redis.

Without CELERY_TEST_BROKER they skip; the beat-schedule check runs everywhere.
"""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from shopyard.checkout.services import place_order
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.payments.models import Payment, PaymentNotification
from shopyard.payments.services import simulate_provider_decision

NEEDS_BROKER = (
    "needs a real Celery broker and worker: set CELERY_TEST_BROKER=1 with BROKER_URL (RabbitMQ or Redis), "
    "REDIS_URL (result backend) and a unique CELERY_QUEUE, as .ci/run does"
)
WORKER_START_TIMEOUT = 90
PAYMENT_TIMEOUT = 20



def needs_worker(test):
    """Mark a test `celery_worker` and skip it, with the reason, when no broker is set up."""
    test = pytest.mark.celery_worker(test)
    return pytest.mark.skipif(not os.environ.get("CELERY_TEST_BROKER"), reason=NEEDS_BROKER)(test)


# --- runs everywhere -------------------------------------------------------


def test_beat_schedule_runs_the_periodic_jobs_every_minute():
    from celery.beat import Scheduler

    from shopyard.celery import app

    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["run-periodic"]
    assert entry["task"] == "shopyard.core.tasks.run_periodic"
    assert entry["task"] in app.tasks

    scheduler = Scheduler(app=app, lazy=False)
    loaded = scheduler.schedule["run-periodic"]
    assert loaded.task == "shopyard.core.tasks.run_periodic"
    assert loaded.schedule.run_every == timedelta(seconds=60)


def test_tasks_run_eagerly_exactly_when_no_broker_is_configured():
    from shopyard.celery import app

    assert app.conf.task_always_eager is (not settings.BROKER_URL)
    assert app.conf.task_default_queue == settings.CELERY_TASK_DEFAULT_QUEUE


# --- the real worker -------------------------------------------------------


def _database_url_for_worker() -> str:
    """The URL of the database this test session really uses (test_<name>)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgresql://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}"
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    pytest.skip(f"the worker test does not know how to share a {connection.vendor} database")


def _log_tail(path, lines=40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no worker log)"


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, tmp_path_factory):
    """A real `celery worker` subprocess on this run's queue, answering ping."""
    from shopyard.celery import app
    from shopyard.core.tasks import ping

    if app.conf.task_always_eager:
        pytest.fail("CELERY_TEST_BROKER is set but BROKER_URL is not: tasks would run eagerly, not on a worker")
    if not app.conf.result_backend:
        pytest.fail("CELERY_TEST_BROKER is set but there is no result backend: set REDIS_URL")

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": _database_url_for_worker(),
        "DB_CONN_MAX_AGE": "0",  # no idle connection left when the test database is dropped
        "CELERY_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": "shopyard.settings",
        "PYTHONUNBUFFERED": "1",
    })
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    # as the worker unit runs it: its metric values in a directory the web's metrics page adds up
    metrics_dir = tmp_path_factory.mktemp("celery-metrics")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    command = [
        sys.executable, "-m", "celery", "-A", "shopyard", "worker", "-Q", queue,
        "--concurrency=1", "--pool=solo", "-l", "warning", "-n", f"test-{uuid.uuid4().hex[:10]}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                cwd=Path(__file__).resolve().parent.parent)
    try:
        token = uuid.uuid4().hex
        result = ping.delay(token)
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not result.ready():
            if proc.poll() is not None:
                pytest.fail(f"the Celery worker exited with {proc.returncode}:\n{_log_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not answer ping in {WORKER_START_TIMEOUT} s:\n{_log_tail(log_path)}")
            time.sleep(0.25)
        assert result.get(timeout=5) == {"pong": token}
        proc.log_path = log_path
        proc.metrics_dir = metrics_dir
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _stock(sku) -> int:
    return StockLevel.objects.get(sku=sku).quantity


@needs_worker
def test_worker_answers_ping_through_the_broker_and_redis(celery_worker):
    from shopyard.core.tasks import ping

    result = ping.delay("shopyard")
    assert result.get(timeout=30) == {"pong": "shopyard"}
    # the answer came back from the result backend, not from an eager call
    assert result.backend.__class__.__name__ == "RedisBackend"
    assert celery_worker.poll() is None


@needs_worker
def test_the_worker_logs_the_task_once_with_the_request_id_that_queued_it(celery_worker):
    import json

    import structlog

    from shopyard.core.tasks import ping

    request_id = f"worker-req-{uuid.uuid4().hex[:12]}"
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        result = ping.delay("traced")
    finally:
        structlog.contextvars.clear_contextvars()
    assert result.get(timeout=30) == {"pong": "traced"}
    deadline = time.monotonic() + 10
    lines = []
    while time.monotonic() < deadline and not lines:
        text = celery_worker.log_path.read_text(encoding="utf-8", errors="replace")
        lines = [json.loads(x) for x in text.splitlines() if x.startswith("{") and request_id in x]
        time.sleep(0.2)
    assert [(x["logger"], x["task"], x["outcome"], x["request_id"]) for x in lines] == [
        ("shopyard.tasks", "shopyard.core.tasks.ping", "success", request_id)]


def _pings_on_the_metrics_page(settings) -> float:
    from django.test import Client
    from prometheus_client.parser import text_string_to_metric_families

    page = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}").content.decode()
    return sum(sample.value for family in text_string_to_metric_families(page) for sample in family.samples
               if sample.name == "shopyard_celery_tasks_total"
               and sample.labels == {"task": "shopyard.core.tasks.ping", "outcome": "success"})


@needs_worker
def test_the_web_metrics_page_counts_the_tasks_the_worker_ran(celery_worker, db, settings, monkeypatch):
    """The web and worker units share PROMETHEUS_MULTIPROC_DIR (docs/operations.md, Metrics):
    a task's outcome is counted in the worker's process and shows on the web's page."""
    from shopyard.core.tasks import ping

    settings.METRICS_TOKEN = "celery-metrics-token"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(celery_worker.metrics_dir))
    before = _pings_on_the_metrics_page(settings)
    assert before >= 1  # the fixture's own ping, run by the worker

    for n in range(3):
        assert ping.delay(f"counted-{n}").get(timeout=30) == {"pong": f"counted-{n}"}
    deadline = time.monotonic() + 10  # counted as the task ends, next to storing its result
    while _pings_on_the_metrics_page(settings) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.1)

    assert _pings_on_the_metrics_page(settings) == before + 3


@pytest.mark.django_db(transaction=True)
@needs_worker
def test_worker_cancels_an_expired_unpaid_order_and_releases_its_stock(celery_worker, shopper, address, sku):
    from shopyard.core.tasks import run_periodic

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 3}])
    (order_id,) = placed.order_ids
    assert _stock(sku) == 7
    long_ago = timezone.now() - timedelta(minutes=settings.UNPAID_ORDER_TIMEOUT_MINUTES + 5)
    Order.objects.filter(pk=order_id).update(placed_at=long_ago)

    outcome = run_periodic.delay().get(timeout=60)

    assert outcome["cancelled_unpaid_orders"] == 1
    order = Order.objects.get(pk=order_id)
    assert order.status == Order.Status.CANCELLED
    assert order.cancelled_at is not None
    assert _stock(sku) == 10
    last = order.history.order_by("id").last()
    assert (last.from_status, last.to_status, last.action, last.actor_label) == (
        "pending_payment", "cancelled", "expire", "system",
    )
    assert Payment.objects.get(pk=placed.payment_id).status == Payment.Status.CANCELLED

    # a second run finds nothing left to do (the job is idempotent)
    again = run_periodic.delay().get(timeout=60)
    assert again["cancelled_unpaid_orders"] == 0
    assert _stock(sku) == 10


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.django_db(transaction=True)
@needs_worker
def test_worker_delivers_the_signed_gateway_notification_and_the_order_becomes_paid(
    celery_worker, shopper, address, sku
):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 2}])
    (order_id,) = placed.order_ids
    payment = Payment.objects.get(pk=placed.payment_id)

    simulate_provider_decision(reference=payment.reference, approve=True, actor=shopper)

    def paid():
        return Order.objects.get(pk=order_id).status == Order.Status.PAID

    assert _wait_for(paid, PAYMENT_TIMEOUT), (
        f"order not paid within {PAYMENT_TIMEOUT} s; worker log:\n{_log_tail(celery_worker.log_path)}"
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    applied = PaymentNotification.objects.filter(payment=payment)
    assert [n.outcome for n in applied] == ["applied"]
    order = Order.objects.get(pk=order_id)
    assert order.paid_at is not None
    assert _stock(sku) == 8


@pytest.mark.django_db(transaction=True)
@needs_worker
def test_worker_delivers_a_decline_and_the_order_stays_unpaid(celery_worker, shopper, address, sku):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    (order_id,) = placed.order_ids
    payment = Payment.objects.get(pk=placed.payment_id)

    simulate_provider_decision(reference=payment.reference, approve=False, actor=shopper)

    def failed():
        return Payment.objects.get(pk=payment.pk).status == Payment.Status.FAILED

    assert _wait_for(failed, PAYMENT_TIMEOUT), (
        f"payment not failed within {PAYMENT_TIMEOUT} s; worker log:\n{_log_tail(celery_worker.log_path)}"
    )
    assert Order.objects.get(pk=order_id).status == Order.Status.PENDING_PAYMENT
    assert _stock(sku) == 9


@pytest.mark.django_db(transaction=True)
@needs_worker
def test_a_flash_buyer_is_answered_with_a_hold_and_the_worker_makes_the_order(celery_worker, shopper, address,
                                                                               shop, sku):
    from shopyard.checkout.flash import HeldPurchase, buy_flash, held_purchase
    from shopyard.promotions import flash_store
    from shopyard.promotions.models import FlashSaleItem
    from tests import factories

    item = factories.make_flash_sale(shop, [(sku, "19.90", 2, 1)]).items.get()
    try:
        # when the shopper buys, the answer is a hold: the order is the worker's to make
        held = buy_flash(actor=shopper, item_id=item.pk, quantity=1, address_id=address.pk)
        assert isinstance(held, HeldPurchase)
        assert flash_store.left(item.pk) == 1

        def ordered():
            return held_purchase(actor=shopper, token=held.token)["status"] == "ordered"

        assert _wait_for(ordered, PAYMENT_TIMEOUT), (
            f"no order within {PAYMENT_TIMEOUT} s; worker log:\n{_log_tail(celery_worker.log_path)}"
        )
        # then the worker made it at the flash price, from the flash units alone
        placed = held_purchase(actor=shopper, token=held.token)["placed"]
        order = Order.objects.get(pk=placed.order_ids[0])
        assert order.user == shopper and order.lines.get().net_total == Decimal("19.90")
        assert FlashSaleItem.objects.get(pk=item.pk).available == 1
        assert Payment.objects.get(pk=placed.payment_id).orders.get() == order
        assert flash_store.held(held.token) is None
    finally:
        flash_store.forget(item.pk)
