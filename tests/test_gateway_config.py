"""Gateway configuration: read from environment variables, a gateway offered
only when fully configured, production refuses unsafe modes, and the
operator's status page shows modes and ids but never a key."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from shopyard.core import checks
from shopyard.payments import services as payments
from shopyard.payments.gateways import available

ROOT = Path(__file__).resolve().parent.parent
APIV3_KEY = "0123456789abcdefABCDEF0123456789"


@pytest.fixture
def configured(settings, rsa_key_file, tmp_path):
    """Alipay (sandbox) and WeChat Pay (platform public key) both configured."""
    _key, private, public = rsa_key_file("merchant")
    settings.ALIPAY_APP_ID = "2021000000000001"
    settings.ALIPAY_PRIVATE_KEY_PATH = private
    settings.ALIPAY_PUBLIC_KEY_PATH = public
    settings.ALIPAY_SANDBOX = True
    settings.WECHATPAY_MCH_ID = "1900000109"
    settings.WECHATPAY_APPID = "wxd678efh567hg6787"
    settings.WECHATPAY_SERIAL_NO = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    settings.WECHATPAY_PRIVATE_KEY_PATH = private
    settings.WECHATPAY_APIV3_KEY = APIV3_KEY
    settings.WECHATPAY_PUBLIC_KEY_PATH = public
    settings.WECHATPAY_PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
    return private


def test_only_the_simulated_gateway_is_offered_when_nothing_else_is_configured():
    assert [g.name for g in available()] == ["simulated"]


def test_a_gateway_missing_one_setting_is_not_offered(configured, settings):
    settings.WECHATPAY_APIV3_KEY = "too-short"
    assert [g.name for g in available()] == ["simulated", "alipay"]


@pytest.mark.cli
def test_gateways_are_configured_from_environment_variables(tmp_path, rsa_key_file):
    _key, private, public = rsa_key_file("merchant")
    env = {"PATH": "/usr/bin:/bin", "SHOPYARD_HOME": str(tmp_path), "SHOPYARD_ALIPAY_APP_ID": "2021000000000001",
           "SHOPYARD_ALIPAY_PRIVATE_KEY_PATH": private, "SHOPYARD_ALIPAY_PUBLIC_KEY_PATH": public,
           "SHOPYARD_WECHATPAY_MCH_ID": "1900000109", "SHOPYARD_WECHATPAY_APPID": "wx1",
           "SHOPYARD_WECHATPAY_SERIAL_NO": "ABC", "SHOPYARD_WECHATPAY_PRIVATE_KEY_PATH": private,
           "SHOPYARD_WECHATPAY_APIV3_KEY": APIV3_KEY, "SHOPYARD_WECHATPAY_PLATFORM_CERT_PATH": public,
           "DJANGO_SETTINGS_MODULE": "shopyard.settings"}
    code = ("import django; django.setup(); from shopyard.payments.gateways import configuration; "
            "print(sorted((g['name'], g['configured'], g['mode']) for g in configuration()))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("[('alipay', True, 'live'), ('simulated', False, 'simulated'), "
                                     "('wechatpay', True, 'live')]")


def test_production_refuses_the_alipay_sandbox_and_a_plain_http_wechat_pay_endpoint(settings, configured):
    settings.DEBUG = False
    settings.DEMO_MODE = False
    settings.WECHATPAY_API_BASE = "http://127.0.0.1:9000"

    ids = {e.id for e in checks.check_secrets()}
    assert {"shopyard.E010", "shopyard.E011"} <= ids

    settings.ALIPAY_SANDBOX = False
    settings.WECHATPAY_API_BASE = "https://api.mch.weixin.qq.com"
    ids = {e.id for e in checks.check_secrets()}
    assert not ids & {"shopyard.E010", "shopyard.E011"}


def test_operator_page_lists_gateways_and_modes_without_secrets(client, home_operator, configured):
    client.force_login(home_operator)
    payments_admin = client.get(reverse("admin:payments_payment_changelist")).content.decode()
    assert reverse("payments:gateway_status") in payments_admin
    response = client.get(reverse("payments:gateway_status"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-gateway="alipay" data-configured="yes" data-mode="sandbox"' in html
    assert 'data-gateway="wechatpay" data-configured="yes" data-mode="live"' in html
    assert 'data-gateway="simulated" data-configured="yes" data-mode="simulated"' in html
    assert "1900000109" in html and "2021000000000001" in html
    assert "private_key: ok" in html and "alipay_public_key: ok" in html  # the key files load
    assert APIV3_KEY not in html and configured not in html
    assert Path(configured).read_text().splitlines()[1] not in html


def test_operator_page_is_for_staff_only(client, shopper):
    client.force_login(shopper)
    response = client.get(reverse("payments:gateway_status"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_notifications_for_an_unknown_or_unconfigured_gateway_are_404(client):
    assert client.post(reverse("payments:notify", args=["paypal"]), "x=1",
                       content_type="application/x-www-form-urlencoded").status_code == 404
    assert client.post(reverse("payments:refund_notify", args=["wechatpay"]), "{}",
                       content_type="application/json").status_code == 404


def test_an_unknown_channel_is_refused_with_a_field_message(client, unpaid_checkout, configured, api, shopper_token):
    payment = payments.start_payment(actor=unpaid_checkout.payment.user, order_ids=[o.pk for o in unpaid_checkout.orders],
                                     method="alipay")
    client.force_login(payment.user)

    page = client.get(reverse("payments:go", args=[payment.reference]) + "?channel=native")
    assert page.status_code == 422
    assert "Unknown payment channel." in page.content.decode()
    refused = api.post(f"/payments/{payment.pk}/begin", {"channel": "x" * 21}, token=shopper_token)
    assert refused.status_code == 422
    assert payment.__class__.objects.get(pk=payment.pk).status == "pending"


def test_a_closed_payment_cannot_be_started_at_a_gateway(client, unpaid_checkout, configured):
    payment = payments.start_payment(actor=unpaid_checkout.payment.user, order_ids=[o.pk for o in unpaid_checkout.orders],
                                     method="alipay")
    client.force_login(payment.user)
    unpaid_checkout.payment.refresh_from_db()
    assert unpaid_checkout.payment.status == "cancelled"  # superseded by the Alipay one

    page = client.get(reverse("payments:go", args=[unpaid_checkout.payment.reference]))
    assert page.status_code == 409
    assert "This payment is already closed." in page.content.decode()


def test_checkout_leads_to_the_payment_page_listing_every_configured_gateway(client, shopper, address, sku, configured):
    client.force_login(shopper)
    client.post(reverse("storefront:cart_add"), {"sku_id": sku.pk, "quantity": 1})
    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "gw-choose"})
    payment = shopper.payments.get()

    assert response["Location"] == reverse("payments:choose", args=[payment.reference])
    html = client.get(response["Location"]).content.decode()
    offered = set(re.findall(r'data-method="(\w+)" data-channel="(\w+)"', html))
    assert offered == {("simulated", "page"), ("alipay", "page"), ("alipay", "wap"), ("wechatpay", "native"),
                       ("wechatpay", "h5")}
    chosen = client.post(reverse("payments:choose", args=[payment.reference]) + "?channel=page",
                         {"method": "simulated"})
    assert chosen["Location"] == reverse("payments:simulated", args=[payment.reference])  # the same payment
    assert shopper.payments.count() == 1


@pytest.mark.parametrize("gateway", ["alipay", "wechatpay"])
@pytest.mark.parametrize("body", [b"", b"\xff\xfe\x00garbage", b"a=%ZZ&&", b'{"event_type": 1}', b"[1, 2]"])
@pytest.mark.django_db
def test_garbage_notifications_are_refused_and_stored_never_a_500(client, configured, gateway, body):
    from shopyard.payments.models import PaymentNotification

    response = client.post(reverse("payments:notify", args=[gateway]), body, content_type="application/octet-stream")
    refund_response = client.post(reverse("payments:refund_notify", args=[gateway]), body,
                                  content_type="application/octet-stream")

    assert response.status_code == 400 and refund_response.status_code == 400
    # stored as refused (a body with NUL bytes is refused by the middleware before the view)
    assert set(PaymentNotification.objects.values_list("outcome", flat=True)) <= {"malformed", "bad_signature"}
    assert PaymentNotification.objects.count() == (0 if b"\x00" in body else 1)
