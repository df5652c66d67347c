"""The built-in simulated gateway, shaped like the real ones.

The gateway page stands in for the provider's hosted checkout. When the
shopper approves or declines, the "provider" sends an asynchronous
notification: a JSON body signed with HMAC-SHA256 over "<timestamp>.<body>",
in the header `X-Shopyard-Signature: t=<unix seconds>,v1=<hex digest>`.
Alipay and WeChat Pay adapters will follow the same verify → parse → apply
path with their own signature schemes.
"""

import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings

NAME = "simulated"
SIGNATURE_HEADER = "X-Shopyard-Signature"


class SignatureError(Exception):
    def __init__(self, outcome, detail):
        self.outcome = outcome
        self.detail = detail
        super().__init__(detail)


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def build_notification(*, payment, status: str, amount=None, timestamp=None, notification_id=None, secret=None):
    """The body and headers the provider would POST to our callback URL."""
    from shopyard.core.money import money_str

    payload = {
        "notification_id": notification_id or f"sim_{secrets.token_hex(12)}",
        "payment_reference": payment.reference,
        "amount": amount if amount is not None else money_str(payment.amount, payment.currency),
        "currency": payment.currency,
        "status": status,
    }
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ts = str(int(timestamp if timestamp is not None else time.time()))
    sig = _digest(secret or settings.PAYMENT_SIM_SECRET, ts, body)
    return body, {SIGNATURE_HEADER: f"t={ts},v1={sig}"}


def verify(body: bytes, headers) -> dict:
    """Return the parsed payload or raise SignatureError(outcome, detail)."""
    header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    ts, sig = parts.get("t", ""), parts.get("v1", "")
    if not ts.isdigit() or not sig:
        raise SignatureError("bad_signature", "missing or malformed signature header")
    expected = _digest(settings.PAYMENT_SIM_SECRET, ts, body)
    if not hmac.compare_digest(expected, sig):
        raise SignatureError("bad_signature", "signature does not match")
    if abs(time.time() - int(ts)) > settings.PAYMENT_CALLBACK_MAX_AGE_SECONDS:
        raise SignatureError("stale", "timestamp outside the accepted window")
    try:
        payload = json.loads(body)
    except ValueError:
        raise SignatureError("malformed", "body is not JSON") from None
    required = {"notification_id", "payment_reference", "amount", "currency", "status"}
    if not isinstance(payload, dict) or not required <= payload.keys() or payload["status"] not in ("success", "failed"):
        raise SignatureError("malformed", "missing fields")
    return payload
