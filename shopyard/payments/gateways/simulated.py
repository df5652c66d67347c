"""The built-in simulated gateway, shaped like the real ones (see base.Gateway).

The gateway page stands in for the provider's hosted checkout. When the
shopper approves or declines, the "provider" records its decision in its own
ledger (`SimulatedCharge`) and sends an asynchronous notification: a JSON body
signed with HMAC-SHA256 over "<timestamp>.<body>", in the header
`X-Shopyard-Signature: t=<unix seconds>,v1=<hex digest>`. It also answers a
status query and performs refunds, as Alipay and WeChat Pay do.
"""

import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings
from django.db import IntegrityError, transaction

from shopyard.core.validation import parse_int

from .base import RefundAnswer, SignatureError, StatusAnswer

NAME = "simulated"
SIGNATURE_HEADER = "X-Shopyard-Signature"

__all__ = ["NAME", "SIGNATURE_HEADER", "SignatureError", "build_notification", "decide", "query", "refund",
           "start", "verify"]


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def start(payment) -> str:
    from shopyard.core.url_shapes import kept_reverse

    return kept_reverse("payments:simulated", payment.reference)  # every order's answer carries it


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


def verify(body: bytes, headers, *, received_at: float | None = None) -> dict:
    """Return the parsed payload or raise SignatureError(outcome, detail)."""
    header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    ts, sig = parts.get("t", ""), parts.get("v1", "")
    if parse_int(ts, max_value=10**12) is None or not sig:
        raise SignatureError("bad_signature", "missing or malformed signature header")
    expected = _digest(settings.PAYMENT_SIM_SECRET, ts, body)
    if not hmac.compare_digest(expected, sig):
        raise SignatureError("bad_signature", "signature does not match")
    received = time.time() if received_at is None else received_at
    if abs(received - int(ts)) > settings.PAYMENT_CALLBACK_MAX_AGE_SECONDS:
        raise SignatureError("stale", "timestamp outside the accepted window")
    try:
        payload = json.loads(body)
    except ValueError:
        raise SignatureError("malformed", "body is not JSON") from None
    required = {"notification_id", "payment_reference", "amount", "currency", "status"}
    if not isinstance(payload, dict) or not required <= payload.keys() or payload["status"] not in ("success", "failed"):
        raise SignatureError("malformed", "missing fields")
    return payload


# --- the provider's side: its ledger, status queries, refunds ---------------


def decide(*, payment, approve: bool):
    """The shopper approved or declined on the provider's page: the provider
    records the outcome once (a second click re-sends the same notification)
    and returns the signed notification it sends us."""
    from shopyard.core.money import money_str

    from ..models import SimulatedCharge

    charge, _created = SimulatedCharge.objects.get_or_create(
        reference=payment.reference,
        defaults={
            "status": "success" if approve else "failed", "amount": money_str(payment.amount, payment.currency),
            "currency": payment.currency, "notification_id": f"sim_{secrets.token_hex(12)}",
        },
    )
    return build_notification(payment=payment, status=charge.status, amount=charge.amount,
                              notification_id=charge.notification_id)


def query(payment) -> StatusAnswer:
    from ..models import SimulatedCharge

    charge = SimulatedCharge.objects.filter(reference=payment.reference).first()
    if charge is None:
        return StatusAnswer(status="pending")
    return StatusAnswer(status=charge.status, notification_id=charge.notification_id, amount=charge.amount,
                        currency=charge.currency)


def refund(*, payment, refund) -> RefundAnswer:
    """Refund part or all of a captured charge, once per refund reference."""
    from decimal import Decimal

    from ..models import SimulatedCharge, SimulatedRefund

    charge = SimulatedCharge.objects.filter(reference=payment.reference).first()
    if charge is None:
        # a success signed by hand (tests, the demo's callback examples) never went
        # through the provider's page: the provider holds the payment's amount
        charge, _created = SimulatedCharge.objects.get_or_create(
            reference=payment.reference,
            defaults={"status": "success", "amount": str(payment.amount), "currency": payment.currency},
        )
    if charge.status != "success":
        return RefundAnswer(ok=False, detail="no captured charge for this payment")
    done = SimulatedRefund.objects.filter(refund_reference=refund.reference).first()
    if done is not None:
        return RefundAnswer(ok=True, gateway_reference=done.gateway_reference)
    refunded = sum((r.amount for r in SimulatedRefund.objects.filter(charge=charge)), Decimal("0"))
    if refunded + refund.amount > Decimal(charge.amount):
        return RefundAnswer(ok=False, detail="refund exceeds the captured amount")
    try:
        with transaction.atomic():
            done = SimulatedRefund.objects.create(
                charge=charge, refund_reference=refund.reference, amount=refund.amount,
                gateway_reference=f"SIMR{secrets.token_hex(8).upper()}",
            )
    except IntegrityError:  # the same refund performed concurrently
        done = SimulatedRefund.objects.get(refund_reference=refund.reference)
    return RefundAnswer(ok=True, gateway_reference=done.gateway_reference)
