"""WeChat Pay API v3 without an SDK.

Requests carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,nonce_str=..,
signature=..,timestamp=..,serial_no=..`, the signature being RSA-SHA256
(PKCS#1 v1.5) with the merchant key over "METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n"
(URL = path and query). Answers and notifications are signed by the platform
over "TIMESTAMP\\nNONCE\\nBODY\\n" (headers Wechatpay-Timestamp, -Nonce,
-Signature, -Serial), verified with the platform certificate or platform
public key we are configured with; a notification whose timestamp is more
than SHOPYARD_CALLBACK_MAX_AGE seconds (5 minutes) from its arrival is
refused. The notification's `resource` is AEAD_AES_256_GCM-encrypted with the
API v3 key (associated_data and nonce in clear).

wechatpayv3 2.0.4 was judged and not used: its callback verification checks
no timestamp (a captured notification can be replayed for ever), an unknown
Wechatpay-Serial makes it download certificates from the callback path (a
forged request triggers outbound calls), a non-hex serial raises instead of
refusing, it downloads certificates in its constructor, and it calls
`requests` directly with a fixed host (no transport to replace in tests).
WeChat Pay v3 has no sandbox; SHOPYARD_WECHATPAY_API_BASE can point at a
test double, and the operator page shows it.
"""

import base64
import binascii
import json
import logging
import secrets
import time
from datetime import timedelta, timezone
from decimal import Decimal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shopyard.core.validation import parse_int

from . import http, rsa
from .base import (
    Acknowledgement,
    GatewayError,
    RefundAnswer,
    SignatureError,
    StartAnswer,
    StatusAnswer,
    trade_deadline,
)

NAME = "wechatpay"
LIVE_URL = "https://api.mch.weixin.qq.com"
SCHEME = "WECHATPAY2-SHA256-RSA2048"
FAILED_STATES = {"CLOSED", "PAYERROR", "REVOKED"}
BEIJING = timezone(timedelta(hours=8))

log = logging.getLogger("shopyard.payments")


def fen(amount) -> int:
    """Yuan (Decimal) to the integer fen WeChat Pay counts in."""
    return int((Decimal(amount) * 100).quantize(Decimal("1")))


def yuan(value) -> str:
    return str((Decimal(int(value)) / 100).quantize(Decimal("0.01")))


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> bytes:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n".encode()


def answer_message(timestamp: str, nonce: str, body: str) -> bytes:
    return f"{timestamp}\n{nonce}\n{body}\n".encode()


def decrypt_resource(resource: dict, key: str) -> dict:
    """AEAD_AES_256_GCM: ciphertext is base64(encrypted + 16-byte tag)."""
    if not isinstance(resource, dict) or resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise SignatureError("malformed", "resource is not AEAD_AES_256_GCM")
    try:
        plain = AESGCM(key.encode()).decrypt(
            str(resource.get("nonce", "")).encode(), base64.b64decode(str(resource.get("ciphertext", ""))),
            str(resource.get("associated_data", "")).encode(),
        )
        return json.loads(plain)
    except (InvalidTag, ValueError, binascii.Error):
        raise SignatureError("bad_signature", "resource does not decrypt with the API v3 key") from None


def _header(headers, name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower(), "")
    return str(value or "")


class WechatPay:
    name = NAME
    label = _("WeChat Pay")
    channels = {"native": _("WeChat Pay (scan a QR code)"), "h5": _("WeChat Pay (phone browser)")}
    default_channel = "native"

    # --- configuration ------------------------------------------------------

    @staticmethod
    def configured() -> bool:
        return bool(settings.WECHATPAY_MCH_ID and settings.WECHATPAY_APPID and settings.WECHATPAY_SERIAL_NO
                    and settings.WECHATPAY_PRIVATE_KEY_PATH and len(settings.WECHATPAY_APIV3_KEY) == 32
                    and (settings.WECHATPAY_PLATFORM_CERT_PATH
                         or (settings.WECHATPAY_PUBLIC_KEY_PATH and settings.WECHATPAY_PUBLIC_KEY_ID)))

    @staticmethod
    def mode() -> str:
        return "live" if settings.WECHATPAY_API_BASE == LIVE_URL else "test endpoint"

    @staticmethod
    def status() -> dict:
        return {"mch_id": settings.WECHATPAY_MCH_ID, "appid": settings.WECHATPAY_APPID,
                "endpoint": settings.WECHATPAY_API_BASE,
                "platform_key": WechatPay._platform_key_state(),
                "private_key": "ok" if rsa.readable(settings.WECHATPAY_PRIVATE_KEY_PATH, "private") else "unreadable",
                "apiv3_key_set": len(settings.WECHATPAY_APIV3_KEY) == 32}

    @staticmethod
    def _platform_key_state() -> str:
        if settings.WECHATPAY_PLATFORM_CERT_PATH:
            ok = rsa.readable(settings.WECHATPAY_PLATFORM_CERT_PATH, "certificate")
            return f"certificate {'ok' if ok else 'unreadable'}"
        ok = rsa.readable(settings.WECHATPAY_PUBLIC_KEY_PATH, "public")
        return f"public key {settings.WECHATPAY_PUBLIC_KEY_ID} {'ok' if ok else 'unreadable'}"

    def _platform_key(self):
        """(serial the platform signs with, its public key)."""
        if settings.WECHATPAY_PLATFORM_CERT_PATH:
            cert = rsa.load(settings.WECHATPAY_PLATFORM_CERT_PATH, "certificate")
            return format(cert.serial_number, "X"), cert.public_key()
        return settings.WECHATPAY_PUBLIC_KEY_ID, rsa.load(settings.WECHATPAY_PUBLIC_KEY_PATH, "public")

    # --- signing --------------------------------------------------------------

    def authorization(self, method: str, url: str, body: str) -> str:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = rsa.sign(rsa.load(settings.WECHATPAY_PRIVATE_KEY_PATH, "private"),
                             request_message(method, url, timestamp, nonce, body))
        return (f'{SCHEME} mchid="{settings.WECHATPAY_MCH_ID}",nonce_str="{nonce}",signature="{signature}",'
                f'timestamp="{timestamp}",serial_no="{settings.WECHATPAY_SERIAL_NO}"')

    def _check_signature(self, headers, body: str, *, received_at: float | None) -> None:
        serial, key = self._platform_key()
        timestamp = _header(headers, "Wechatpay-Timestamp")
        nonce = _header(headers, "Wechatpay-Nonce")
        signature = _header(headers, "Wechatpay-Signature")
        if _header(headers, "Wechatpay-Serial").upper() != serial.upper():
            raise SignatureError("bad_signature", "signed with a key we do not know (Wechatpay-Serial)")
        if parse_int(timestamp, max_value=10**12) is None or not nonce or not signature:
            raise SignatureError("bad_signature", "missing or malformed signature headers")
        if not rsa.verify(key, answer_message(timestamp, nonce, body), signature):
            raise SignatureError("bad_signature", "signature does not match")
        if received_at is not None and abs(received_at - int(timestamp)) > settings.PAYMENT_CALLBACK_MAX_AGE_SECONDS:
            raise SignatureError("stale", "timestamp outside the accepted window")

    def _call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload is not None else ""
        headers = {"Authorization": self.authorization(method, path, body), "Accept": "application/json",
                   "User-Agent": "shopyard"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            reply = http.send(method, settings.WECHATPAY_API_BASE + path, headers=headers, body=body.encode())
        except OSError as exc:
            raise GatewayError(f"{method} {path}: {exc}") from exc
        text = reply.body.decode("utf-8", "replace")
        try:
            self._check_signature(reply.headers, text, received_at=None)
        except SignatureError as exc:
            log.error("wechatpay answer to %s %s refused: %s", method, path, exc.detail)
            raise GatewayError(f"{method} {path}: {exc.detail}") from None
        try:
            document = json.loads(text) if text else {}
        except ValueError:
            raise GatewayError(f"{method} {path}: not JSON") from None
        return reply.status, document if isinstance(document, dict) else {}

    # --- the interface ------------------------------------------------------

    def start(self, payment) -> str:
        return reverse("payments:go", args=[payment.reference])

    def begin(self, payment, *, channel: str = "", client_ip: str = "") -> StartAnswer:
        """Native: a prepay order whose code_url the shopper scans; H5: a
        prepay whose h5_url the phone browser opens."""
        channel = channel if channel in self.channels else self.default_channel
        payload = {
            "appid": settings.WECHATPAY_APPID, "mchid": settings.WECHATPAY_MCH_ID,
            "description": f"Shopyard {payment.reference}", "out_trade_no": payment.reference,
            "notify_url": settings.BASE_URL + reverse("payments:notify", args=[NAME]),
            "amount": {"total": fen(payment.amount), "currency": payment.currency},
        }
        deadline = trade_deadline(payment)
        if deadline is not None:  # no payment after our unpaid orders expire (RFC 3339, Beijing time)
            payload["time_expire"] = deadline.astimezone(BEIJING).isoformat(timespec="seconds")
        if channel == "h5":
            payload["scene_info"] = {"payer_client_ip": client_ip or "127.0.0.1", "h5_info": {"type": "Wap"}}
        status, answer = self._call("POST", f"/v3/pay/transactions/{channel}", payload)
        if status != 200:
            raise GatewayError(f"prepay refused: {answer.get('code')} {answer.get('message', '')}")
        if channel == "h5":
            return StartAnswer(kind="redirect", url=str(answer.get("h5_url", "")))
        return StartAnswer(kind="qr", qr_code=str(answer.get("code_url", "")))

    def _verified_resource(self, body: bytes, headers, *, received_at: float, event_prefix: str) -> dict:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise SignatureError("malformed", "body is not UTF-8") from None
        self._check_signature(headers, text, received_at=received_at)
        try:
            envelope = json.loads(text)
        except ValueError:
            raise SignatureError("malformed", "body is not JSON") from None
        if not isinstance(envelope, dict) or not str(envelope.get("event_type", "")).startswith(event_prefix):
            raise SignatureError("malformed", f"not a {event_prefix} notification")
        resource = decrypt_resource(envelope.get("resource"), settings.WECHATPAY_APIV3_KEY)
        if resource.get("mchid") != settings.WECHATPAY_MCH_ID or (
                "appid" in resource and resource.get("appid") != settings.WECHATPAY_APPID):
            raise SignatureError("wrong_account", "mchid or appid is not ours")
        return resource

    def verify(self, body: bytes, headers, *, received_at: float) -> dict:
        resource = self._verified_resource(body, headers, received_at=received_at, event_prefix="TRANSACTION.")
        amount = resource.get("amount") or {}
        if not resource.get("out_trade_no") or not resource.get("transaction_id") or parse_int(amount.get("total")) is None:
            raise SignatureError("malformed", "missing fields")
        paid = resource.get("trade_state") == "SUCCESS"
        return {"notification_id": f"{resource['transaction_id']}:{'paid' if paid else resource.get('trade_state')}"[:64],
                "payment_reference": resource["out_trade_no"], "amount": yuan(amount["total"]),
                "currency": amount.get("currency", "CNY"), "status": "success" if paid else "ignored"}

    def query(self, payment) -> StatusAnswer:
        status, answer = self._call(
            "GET", f"/v3/pay/transactions/out-trade-no/{payment.reference}?mchid={settings.WECHATPAY_MCH_ID}")
        if status == 404:
            return StatusAnswer(status="pending")
        if (status != 200 or answer.get("mchid") != settings.WECHATPAY_MCH_ID
                or answer.get("out_trade_no") != payment.reference):
            return StatusAnswer(status="unknown")
        state, amount = answer.get("trade_state"), answer.get("amount") or {}
        if state == "SUCCESS":
            return StatusAnswer(status="success", notification_id=f"{answer.get('transaction_id', '')}:paid",
                                amount=yuan(amount.get("total", 0)), currency=amount.get("currency", "CNY"))
        if state in FAILED_STATES:
            return StatusAnswer(status="failed", notification_id=f"{answer.get('transaction_id') or payment.reference}:{state}",
                                amount=yuan(amount.get("total", 0)), currency=amount.get("currency", "CNY"))
        return StatusAnswer(status="pending")

    def refund(self, *, payment, refund) -> RefundAnswer:
        """domestic/refunds; out_refund_no makes a retry the same refund. PROCESSING
        is accepted-but-unfinished: the refund notification or the next attempt completes it."""
        try:
            status, answer = self._call("POST", "/v3/refund/domestic/refunds", {
                "out_trade_no": payment.reference, "out_refund_no": refund.reference, "reason": refund.reason[:80],
                "notify_url": settings.BASE_URL + reverse("payments:refund_notify", args=[NAME]),
                "amount": {"refund": fen(refund.amount), "total": fen(payment.amount), "currency": refund.currency},
            })
        except GatewayError as exc:
            return RefundAnswer(ok=False, detail=str(exc))
        state = answer.get("status")
        if status == 200 and state == "SUCCESS":
            return RefundAnswer(ok=True, gateway_reference=str(answer.get("refund_id", "")))
        if status == 200 and state == "PROCESSING":
            return RefundAnswer(ok=False, pending=True, gateway_reference=str(answer.get("refund_id", "")),
                                detail="processing at WeChat Pay")
        return RefundAnswer(ok=False, detail=f"{state or answer.get('code')}: {answer.get('message', '')}"[:300])

    def verify_refund(self, body: bytes, headers, *, received_at: float) -> dict:
        resource = self._verified_resource(body, headers, received_at=received_at, event_prefix="REFUND.")
        if not resource.get("out_refund_no") or not resource.get("refund_id"):
            raise SignatureError("malformed", "missing fields")
        state = resource.get("refund_status")
        return {"notification_id": f"{resource['refund_id']}:{state}"[:64], "refund_reference": resource["out_refund_no"],
                "status": "success" if state == "SUCCESS" else "failed",
                "amount": yuan((resource.get("amount") or {}).get("refund", 0))}

    def acknowledge(self, ok: bool, detail: str = "") -> Acknowledgement:
        """200 with no body accepts; anything else with {"code":"FAIL"} makes WeChat Pay retry."""
        if ok:
            return Acknowledgement(200, "application/json", b"")
        return Acknowledgement(400, "application/json",
                               json.dumps({"code": "FAIL", "message": detail[:100] or "rejected"}).encode())
