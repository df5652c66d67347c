"""The WeChat Pay API v3 adapter end to end against a local fake of the
platform that signs as WeChat Pay does: it checks our
`WECHATPAY2-SHA256-RSA2048` Authorization (RSA-SHA256 over
"METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n"), signs its answers and
notifications over "TIMESTAMP\\nNONCE\\nBODY\\n" with the platform key whose
certificate we hold, and encrypts notification resources with AES-256-GCM
under the API v3 key. Keys and the certificate are made here; nothing reaches
the network (gateways.http.send is the fake)."""

import base64
import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shopyard.core.money import Money
from shopyard.orders.models import Order
from shopyard.payments import refunds
from shopyard.payments import services as payments
from shopyard.payments.gateways import http
from shopyard.payments.models import Payment, PaymentNotification, PaymentStatusChange, Refund

pytestmark = pytest.mark.django_db

MCH_ID = "1900000109"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
APIV3_KEY = "0123456789abcdefABCDEF0123456789"
BASE = "https://api.mch.weixin.qq.com"


def _rsa_sign(key, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


class FakeWechatPay:
    """The platform: its certificate and key, the merchant's public key, trades and refunds."""

    def __init__(self, merchant_public_key):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
        now = datetime.now(UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
                     .sign(self.key, hashes.SHA256()))
        self.serial = format(self.cert.serial_number, "X")
        self.merchant_public_key = merchant_public_key
        self.trades, self.refunds, self.calls = {}, {}, []
        self.refund_status = "PROCESSING"

    def _check_authorization(self, method, url, headers, body):
        scheme, _space, rest = headers["Authorization"].partition(" ")
        assert scheme == "WECHATPAY2-SHA256-RSA2048"
        fields = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        assert fields["mchid"] == MCH_ID and fields["serial_no"] == MERCHANT_SERIAL
        assert abs(time.time() - int(fields["timestamp"])) < 300
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body.decode()}\n"
        self.merchant_public_key.verify(base64.b64decode(fields["signature"]), message.encode(),
                                        padding.PKCS1v15(), hashes.SHA256())  # raises when wrong
        return path

    def signed_headers(self, body: str, *, timestamp=None, key=None, serial=None):
        ts, nonce = str(int(timestamp if timestamp is not None else time.time())), secrets.token_hex(16)
        return {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": serial or self.serial,
                "Wechatpay-Signature": _rsa_sign(key or self.key, f"{ts}\n{nonce}\n{body}\n"),
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}

    def _answer(self, status, document):
        body = json.dumps(document) if document is not None else ""
        return http.Response(status, body.encode(), self.signed_headers(body))

    def send(self, method, url, *, headers, body):
        assert url.startswith(BASE)
        path = self._check_authorization(method, url, headers, body)
        self.calls.append(f"{method} {urlsplit(url).path}")
        data = json.loads(body) if body else {}
        if method == "POST" and path in ("/v3/pay/transactions/native", "/v3/pay/transactions/h5"):
            assert data["mchid"] == MCH_ID and data["appid"] == APPID
            self.trades[data["out_trade_no"]] = {"total": data["amount"]["total"], "notify_url": data["notify_url"],
                                                 "state": "NOTPAY", "transaction_id": "", "h5": "h5" in path,
                                                 "time_expire": datetime.fromisoformat(data["time_expire"])}
            if path.endswith("h5"):
                assert data["scene_info"]["h5_info"]["type"] == "Wap"
                return self._answer(200, {"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1"})
            return self._answer(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={data['out_trade_no'][-6:]}"})
        if method == "GET" and path.startswith("/v3/pay/transactions/out-trade-no/"):
            assert path.endswith(f"?mchid={MCH_ID}")
            trade = self.trades.get(path.split("/")[-1].split("?")[0])
            if trade is None:
                return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            return self._answer(200, {"appid": APPID, "mchid": MCH_ID, "out_trade_no": path.split("/")[-1].split("?")[0],
                                      "transaction_id": trade["transaction_id"], "trade_state": trade["state"],
                                      "amount": {"total": trade["total"], "currency": "CNY"}})
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            done = self.refunds.setdefault(data["out_refund_no"], {
                "refund_id": f"50000{len(self.refunds) + 1:08d}", "out_trade_no": data["out_trade_no"],
                "refund": data["amount"]["refund"], "total": data["amount"]["total"], "notify_url": data["notify_url"]})
            return self._answer(200, {"refund_id": done["refund_id"], "out_refund_no": data["out_refund_no"],
                                      "status": self.refund_status, "amount": {"refund": done["refund"]}})
        raise AssertionError(f"{method} {path}")

    def _notification(self, event_type, resource, *, timestamp=None, apiv3_key=APIV3_KEY, key=None, serial=None):
        nonce, associated = secrets.token_hex(6), "transaction" if event_type.startswith("TRANSACTION") else "refund"
        ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(), associated.encode())
        body = json.dumps({
            "id": secrets.token_hex(8), "create_time": "2026-11-26T10:00:00+08:00", "resource_type": "encrypt-resource",
            "event_type": event_type, "summary": "支付成功",
            "resource": {"original_type": associated, "algorithm": "AEAD_AES_256_GCM", "associated_data": associated,
                         "nonce": nonce, "ciphertext": base64.b64encode(ciphertext).decode()},
        })
        return body, self.signed_headers(body, timestamp=timestamp, key=key, serial=serial)

    def pay(self, out_trade_no):
        trade = self.trades[out_trade_no]
        trade.update(state="SUCCESS", transaction_id=f"42000{len(self.calls):023d}")
        return self.payment_notification(out_trade_no)

    def payment_notification(self, out_trade_no, *, total=None, mchid=MCH_ID, **signing):
        trade = self.trades.get(out_trade_no, {"total": 100, "transaction_id": "4200000000000000000000000001",
                                               "notify_url": f"https://shop.example{reverse('payments:notify', args=['wechatpay'])}"})
        resource = {"mchid": mchid, "appid": APPID, "out_trade_no": out_trade_no,
                    "transaction_id": trade["transaction_id"], "trade_type": "NATIVE", "trade_state": "SUCCESS",
                    "trade_state_desc": "支付成功", "success_time": "2026-11-26T10:00:00+08:00",
                    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
                    "amount": {"total": trade["total"] if total is None else total, "payer_total": trade["total"],
                               "currency": "CNY", "payer_currency": "CNY"}}
        body, headers = self._notification("TRANSACTION.SUCCESS", resource, **signing)
        return urlsplit(trade["notify_url"]).path, body, headers

    def refund_notification(self, out_refund_no, *, refund=None, status="SUCCESS"):
        done = self.refunds.get(out_refund_no, {"refund_id": "5000099999", "out_trade_no": "PAYX", "refund": 100,
                                                "total": 100})
        resource = {"mchid": MCH_ID, "out_trade_no": done["out_trade_no"], "transaction_id": "4200000000000001",
                    "out_refund_no": out_refund_no, "refund_id": done["refund_id"], "refund_status": status,
                    "success_time": "2026-11-26T10:05:00+08:00",
                    "amount": {"total": done["total"], "refund": done["refund"] if refund is None else refund,
                               "payer_total": done["total"], "payer_refund": done["refund"]}}
        return self._notification(f"REFUND.{status}", resource)


@pytest.fixture
def fake(settings, monkeypatch, rsa_key_file, tmp_path):
    merchant_key, merchant_private, _public = rsa_key_file("merchant")
    platform = FakeWechatPay(merchant_key.public_key())
    cert_path = tmp_path / "wechatpay_platform.pem"
    cert_path.write_bytes(platform.cert.public_bytes(serialization.Encoding.PEM))
    settings.WECHATPAY_MCH_ID = MCH_ID
    settings.WECHATPAY_APPID = APPID
    settings.WECHATPAY_SERIAL_NO = MERCHANT_SERIAL
    settings.WECHATPAY_PRIVATE_KEY_PATH = merchant_private
    settings.WECHATPAY_APIV3_KEY = APIV3_KEY
    settings.WECHATPAY_PLATFORM_CERT_PATH = str(cert_path)
    monkeypatch.setattr(http, "send", platform.send)
    return platform


def _choose_wechatpay(client, checkout, channel="native"):
    client.force_login(checkout.payment.user)
    page = client.get(payments.gateway_url(checkout.payment))
    assert f'data-method="wechatpay" data-channel="{channel}"' in page.content.decode()
    chosen = client.post(reverse("payments:choose", args=[checkout.payment.reference]) + f"?channel={channel}",
                         {"method": "wechatpay"})
    payment = Payment.objects.get(status="pending")
    assert payment.gateway == "wechatpay"
    return payment, client.get(chosen["Location"])


def _notify(client, path, body, headers):
    return client.post(path, body, content_type="application/json", headers=headers)


def _world(payment):
    return {
        "payment": Payment.objects.values_list("status", "completed_at").get(pk=payment.pk),
        "orders": list(Order.objects.filter(payments=payment).order_by("pk").values_list("status", "paid_at")),
        "history": PaymentStatusChange.objects.count(),
    }


def test_shopper_scans_the_native_qr_code_and_the_notification_marks_every_order_paid(client, unpaid_checkout, fake):
    payment, page = _choose_wechatpay(client, unpaid_checkout)

    assert page.status_code == 200
    assert f"weixin://wxpay/bizpayurl?pr={payment.reference[-6:]}" in page.content.decode()
    assert fake.trades[payment.reference]["total"] == 17330  # fen
    expires = fake.trades[payment.reference]["time_expire"]
    assert expires.utcoffset() == timedelta(hours=8)
    deadline = min(o.placed_at for o in unpaid_checkout.orders) + timedelta(minutes=30)
    assert expires == deadline.replace(microsecond=0)  # closes when our unpaid orders expire
    path, body, headers = fake.pay(payment.reference)
    response = _notify(client, path, body, headers)

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert set(Order.objects.filter(payments=payment).values_list("status", flat=True)) == {"paid"}
    assert PaymentNotification.objects.get(payment=payment).outcome == "applied"


def test_h5_payment_redirects_the_phone_browser_to_wechat_pay(client, unpaid_checkout, fake):
    _payment, response = _choose_wechatpay(client, unpaid_checkout, channel="h5")
    assert response.status_code == 302
    assert response["Location"].startswith("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb")


def test_the_api_starts_a_wechat_payment_and_returns_the_qr_code(api, shopper_token, unpaid_checkout, fake):
    methods = api.get("/payments/methods", token=shopper_token).json()
    assert [m["name"] for m in methods] == ["simulated", "wechatpay"]  # Alipay is not configured here

    created = api.post("/payments", {"order_ids": [o.pk for o in unpaid_checkout.orders], "method": "wechatpay"},
                       token=shopper_token)
    assert created.status_code == 201 and created.json()["gateway"] == "wechatpay"
    begun = api.post(f"/payments/{created.json()['id']}/begin", {"channel": "native"}, token=shopper_token)

    assert begun.status_code == 200
    assert begun.json()["kind"] == "qr" and begun.json()["qr_code"].startswith("weixin://wxpay/bizpayurl")
    refused = api.post("/payments", {"order_ids": [o.pk for o in unpaid_checkout.orders], "method": "paypal"},
                       token=shopper_token)
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"method": ["This payment method is not available."]}


@pytest.mark.parametrize("change, outcome", [
    ("bad_signature", "bad_signature"),
    ("signed_by_another_key", "bad_signature"),
    ("wrong_apiv3_key", "bad_signature"),
    ("wrong_mch_id", "wrong_account"),
    ("unknown_trade", "unknown_payment"),
    ("different_amount", "amount_mismatch"),
    ("replayed_after_5_minutes", "stale"),
])
def test_a_refused_notification_changes_nothing_and_is_logged(client, unpaid_checkout, fake, caplog, change, outcome):
    payment, _page = _choose_wechatpay(client, unpaid_checkout)
    path, body, headers = fake.pay(payment.reference)
    if change == "bad_signature":
        body = body.replace('"summary": "', '"summary": "x')
    elif change == "signed_by_another_key":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path, body, headers = fake.payment_notification(payment.reference, key=other)
    elif change == "wrong_apiv3_key":
        path, body, headers = fake.payment_notification(payment.reference, apiv3_key="x" * 32)
    elif change == "wrong_mch_id":
        path, body, headers = fake.payment_notification(payment.reference, mchid="1900000999")
    elif change == "unknown_trade":
        path, body, headers = fake.payment_notification("PAYNOSUCHPAYMENT")
    elif change == "different_amount":
        path, body, headers = fake.payment_notification(payment.reference, total=1733)
    else:
        path, body, headers = fake.payment_notification(payment.reference, timestamp=time.time() - 301)
    before = _world(payment)

    with caplog.at_level(logging.INFO, logger="shopyard.payments"):
        response = _notify(client, path, body, headers)

    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert _world(payment) == before
    assert list(PaymentNotification.objects.values_list("outcome", flat=True)) == [outcome]
    # besides the request's own access line (shopyard.requests), only payments logged
    logged = [r for r in caplog.records if r.name != "shopyard.requests"]
    assert logged and all(r.name == "shopyard.payments" for r in logged)


def test_a_valid_duplicate_answers_success_and_changes_nothing_further(client, unpaid_checkout, fake, caplog):
    payment, _page = _choose_wechatpay(client, unpaid_checkout)
    path, body, headers = fake.pay(payment.reference)
    _notify(client, path, body, headers)
    after_first = _world(payment)

    with caplog.at_level(logging.INFO, logger="shopyard.payments"):
        again = _notify(client, path, body, headers)

    assert again.status_code == 200
    assert _world(payment) == after_first
    assert list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True)) == ["applied", "duplicate"]
    assert "duplicate" in caplog.text


def test_a_missed_notification_is_filled_in_by_the_status_query(client, unpaid_checkout, fake, settings):
    payment, _page = _choose_wechatpay(client, unpaid_checkout)
    path, body, headers = fake.pay(payment.reference)  # lost on the way

    later = timezone.now() + timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES + 1)
    assert payments.query_unconfirmed_payments(now=later) == 1

    assert f"GET /v3/pay/transactions/out-trade-no/{payment.reference}" in fake.calls
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert set(Order.objects.filter(payments=payment).values_list("status", flat=True)) == {"paid"}
    assert _notify(client, path, body, headers).status_code == 200  # arrives late: a duplicate
    assert PaymentNotification.objects.filter(payment=payment, outcome="duplicate").count() == 1


def test_an_unsigned_query_answer_is_not_applied(client, unpaid_checkout, fake, settings, monkeypatch):
    payment, _page = _choose_wechatpay(client, unpaid_checkout)
    fake.pay(payment.reference)
    real_send = fake.send
    monkeypatch.setattr(http, "send", lambda *a, **kw: http.Response(200, real_send(*a, **kw).body, {}))

    later = timezone.now() + timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES + 1)
    assert payments.query_unconfirmed_payments(now=later) == 0
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_refund_is_signed_and_completed_by_the_refund_notification(
    client, unpaid_checkout, fake, django_capture_on_commit_callbacks, caplog
):
    payment, _page = _choose_wechatpay(client, unpaid_checkout)
    _notify(client, *fake.pay(payment.reference))
    order = Order.objects.filter(payments=payment).order_by("pk").first()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        refund = refunds.request_refund(payment=payment, order=order, amount=Money("30.00", "CNY"),
                                        reason="a line was out of stock")

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("pending", 1)  # PROCESSING at WeChat Pay: not a refusal
    assert fake.refunds[refund.reference]["refund"] == 3000 and fake.refunds[refund.reference]["total"] == 17330
    assert refund.gateway_reference == fake.refunds[refund.reference]["refund_id"]
    path = urlsplit(fake.refunds[refund.reference]["notify_url"]).path

    body, headers = fake.refund_notification(refund.reference, refund=2000)  # a different amount
    with caplog.at_level(logging.WARNING, logger="shopyard.payments"):
        assert _notify(client, path, body, headers).status_code == 400
    assert Refund.objects.get(pk=refund.pk).status == "pending"
    assert "amount" in caplog.text

    body, headers = fake.refund_notification(refund.reference)
    assert _notify(client, path, body, headers).status_code == 200
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.completed_at is not None
    assert _notify(client, path, body, headers).status_code == 200  # duplicate
    assert refund.history.filter(to_status="succeeded").count() == 1


def test_refund_notification_for_an_unknown_refund_is_rejected(client, unpaid_checkout, fake, caplog):
    body, headers = fake.refund_notification("RFNOSUCHREFUND")

    with caplog.at_level(logging.WARNING, logger="shopyard.payments"):
        response = _notify(client, reverse("payments:refund_notify", args=["wechatpay"]), body, headers)

    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert "unknown refund" in caplog.text
