"""Production refuses unsafe defaults: with SHOPYARD_DEBUG=0 and no SHOPYARD_DEMO,
the built-in SECRET_KEY (and the payment simulator's secret while the simulated
gateway is on) are system-check errors and stop the WSGI app and `shopyard
serve`; the simulated gateway is off unless enabled; `check --deploy` can be clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from shopyard.core import checks
from shopyard.payments.models import Payment, PaymentNotification

ROOT = Path(__file__).resolve().parent.parent
PROD_SECRET = "7Qm2v9-Lr4x_Tn8bWc1Ze5Ks0Hy3Pu6Jd2Fa9Gx4Vb7Nq1Rt8Ye5Wi3Oc6Ml0Ap"


def _env(tmp_path, **extra):
    """A machine configured by nothing but what the test says (no inherited SHOPYARD_*, no database URL)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPYARD_") and k not in {"DATABASE_URL", "REDIS_URL", "BROKER_URL",
                                                          "DJANGO_SETTINGS_MODULE"}}
    env.update(SHOPYARD_HOME=str(tmp_path), PYTHONUNBUFFERED="1", **extra)
    return env


def _run(args, env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PRODUCTION = {
    "SHOPYARD_DEBUG": "0", "SHOPYARD_SECRET_KEY": PROD_SECRET, "SHOPYARD_ALLOWED_HOSTS": "shop.example.com",
    "SHOPYARD_HTTPS": "1", "SHOPYARD_TRUSTED_PROXY_COUNT": "1", "SHOPYARD_SSL_REDIRECT": "1", "SHOPYARD_HSTS_SECONDS": "31536000",
    "SHOPYARD_HSTS_INCLUDE_SUBDOMAINS": "1", "SHOPYARD_HSTS_PRELOAD": "1",
    # a cache the workers share (the check does not connect to it)
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.mark.cli
def test_check_deploy_is_clean_in_a_production_environment(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _env(tmp_path, **PRODUCTION))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.cli
def test_check_deploy_reports_the_development_secrets_as_errors(tmp_path):
    env = _env(tmp_path, **{**PRODUCTION, "SHOPYARD_SIMULATED_GATEWAY": "1"})
    del env["SHOPYARD_SECRET_KEY"]
    result = _run(["manage.py", "check", "--deploy"], env)
    assert result.returncode == 1
    assert "shopyard.E001" in result.stderr and "shopyard.E002" in result.stderr
    assert "shopyard.W003" in result.stderr  # the simulated gateway itself is flagged in production


@pytest.mark.cli
def test_the_wsgi_app_and_shopyard_serve_refuse_to_start_on_the_development_secret(tmp_path):
    env = _env(tmp_path, SHOPYARD_DEBUG="0")
    wsgi = _run(["-c", "import shopyard.wsgi"], env)
    assert wsgi.returncode != 0
    assert "refuses to start with unsafe defaults" in wsgi.stderr and "shopyard.E001" in wsgi.stderr

    serve = _run(["-m", "shopyard.cli", "serve", "--port", "1"], env)
    assert serve.returncode != 0
    assert "SHOPYARD_SECRET_KEY is the built-in development key" in serve.stderr

    # a real secret, a demo or debug mode may start
    for extra in ({"SHOPYARD_SECRET_KEY": PROD_SECRET}, {"SHOPYARD_DEMO": "1"}, {"SHOPYARD_DEBUG": "1"}):
        assert _run(["-c", "import shopyard.wsgi"], {**env, **extra}).returncode == 0, extra


def test_the_checks_name_each_unsafe_default(settings):
    settings.DEBUG, settings.DEMO_MODE, settings.SIMULATED_GATEWAY = False, False, True
    settings.SECRET_KEY, settings.PAYMENT_SIM_SECRET = settings.DEV_SECRET_KEY, settings.DEV_PAYMENT_SIM_SECRET
    assert [e.id for e in checks.check_secrets()] == ["shopyard.E001", "shopyard.E002"]
    with pytest.raises(Exception, match="shopyard.E001"):
        checks.refuse_unsafe_defaults()

    settings.SIMULATED_GATEWAY = False  # the simulator's secret only matters while it is on
    assert [e.id for e in checks.check_secrets()] == ["shopyard.E001"]
    settings.DEMO_MODE = True
    assert checks.check_secrets() == []


@pytest.mark.cli
def test_check_deploy_warns_that_a_cache_of_each_workers_own_splits_the_shop(tmp_path):
    env = _env(tmp_path, **PRODUCTION)
    del env["REDIS_URL"]
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 1
    assert "shopyard.W004" in result.stderr and "REDIS_URL is unset" in result.stderr


def test_the_shared_cache_check_names_the_longest_stale_time(settings):
    settings.DEBUG, settings.DEMO_MODE = False, False
    settings.CACHES = {"default": {"BACKEND": "shopyard.core.cache.CountedLocMemCache"}}
    settings.PAGE_CACHE_SECONDS, settings.FRAGMENT_CACHE_SECONDS, settings.API_CACHE_SECONDS = 30, 45, 10
    [warning] = checks.check_shared_cache()
    assert warning.id == "shopyard.W004" and "up to 45 s" in warning.msg
    settings.CACHES = {"default": {"BACKEND": "shopyard.core.cache.ResilientRedisCache", "LOCATION": "redis://x"}}
    assert checks.check_shared_cache() == []
    settings.CACHES = {"default": {"BACKEND": "shopyard.core.cache.CountedLocMemCache"}}
    settings.DEMO_MODE = True  # the demo runs one process
    assert checks.check_shared_cache() == []


# --- the simulated gateway is off unless enabled ------------------------------------------


@pytest.fixture
def pending_payment(client, shopper, address, sku):
    from shopyard.checkout.services import place_order

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    client.force_login(shopper)
    return Payment.objects.get(pk=placed.payment_id)


def test_with_the_simulated_gateway_off_its_page_and_callback_are_404(client, pending_payment, settings):
    from shopyard.payments.gateways.simulated import build_notification

    settings.SIMULATED_GATEWAY = False
    url = reverse("payments:simulated", args=[pending_payment.reference])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "approve"}).status_code == 404
    raw, headers = build_notification(payment=pending_payment, status="success")
    callback = client.post("/api/v1/payments/callback/simulated", data=raw, content_type="application/json",
                           **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    assert callback.status_code == 404
    pending_payment.refresh_from_db()
    assert pending_payment.status == Payment.Status.PENDING
    assert not PaymentNotification.objects.exists()


def test_the_simulated_gateway_is_off_by_default(tmp_path):
    code = "from django.conf import settings; print(settings.SIMULATED_GATEWAY)"
    env = _env(tmp_path, DJANGO_SETTINGS_MODULE="shopyard.settings")
    result = _run(["-c", f"import django; django.setup(); {code}"], env)
    assert result.stdout.strip() == "False", result.stderr


def test_the_demo_turns_it_on(monkeypatch):
    from shopyard import cli

    seen = {}
    # a private copy of the environment: what the demo sets must not leak into other tests
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("SHOPYARD_")})
    monkeypatch.setattr(cli, "_setup", lambda: seen.update(
        demo=os.environ.get("SHOPYARD_DEMO"), gateway=os.environ.get("SHOPYARD_SIMULATED_GATEWAY")))
    monkeypatch.setattr(cli, "_ensure_home", lambda: None)
    monkeypatch.setattr("django.core.management.call_command", lambda *a, **k: None)
    cli.main(["demo", "--no-serve"])
    assert seen == {"demo": "1", "gateway": "1"}
