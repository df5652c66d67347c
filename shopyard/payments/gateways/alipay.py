"""Alipay open API (RSA2: RSA-SHA256, PKCS#1 v1.5) without an SDK.

The signing rule (the same for our requests and Alipay's notifications and
responses we verify): take every parameter except `sign` (and, when
verifying a notification, `sign_type`), drop empty values (requests only: a
notification is checked with its empty values), sort by key, join
`key=value` with `&` using the raw, URL-decoded values, sign the UTF-8 bytes.
A synchronous response is signed over the exact text of its
`<method>_response` JSON object, which we cut out with a JSON decoder (not
by counting braces, which a `{` inside a value would fool).

python-alipay-sdk 3.4.0 was judged and not used: it finds the signed part of
a response by counting braces (a value containing a brace breaks
verification), stamps requests with the server's local time although Alipay
reads Beijing time, calls `urlopen` itself (no timeout per call site, no
transport to replace), and brings pycryptodomex and pyOpenSSL beside the
`cryptography` we already use.
"""

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shopyard.core.money import money_str

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

NAME = "alipay"
LIVE_URL = "https://openapi.alipay.com/gateway.do"
SANDBOX_URL = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
BEIJING = timezone(timedelta(hours=8))
PRODUCT_CODES = {"page": ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
                 "wap": ("alipay.trade.wap.pay", "QUICK_WAP_WAY")}
PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}

log = logging.getLogger("shopyard.payments")


def signing_string(params: dict, *, exclude=("sign",), skip_empty=True) -> bytes:
    """Alipay's string to sign: the parameters but `exclude`, sorted by key,
    `k=v` joined by `&`. A request leaves empty values out (the SDKs'
    getSignContent); a notification is checked over every parameter it
    carries, empty ones too (getSignCheckContentV1)."""
    items = sorted((k, v) for k, v in params.items()
                   if k not in exclude and not (skip_empty and v in (None, "")))
    return "&".join(f"{k}={v}" for k, v in items).encode("utf-8")


def signed_response_part(raw: str, key: str) -> str | None:
    """The exact text of the `key` object in a response, as Alipay signed it."""
    decoder = json.JSONDecoder()
    marker = f'"{key}"'
    at = raw.find(marker)
    while at != -1:
        colon = at + len(marker)
        while colon < len(raw) and raw[colon] in " \t\r\n":
            colon += 1
        if colon < len(raw) and raw[colon] == ":":
            start = colon + 1
            while start < len(raw) and raw[start] in " \t\r\n":
                start += 1
            try:
                _value, end = decoder.raw_decode(raw, start)
            except ValueError:
                return None
            return raw[start:end]
        at = raw.find(marker, at + 1)
    return None


class Alipay:
    name = NAME
    label = _("Alipay")
    channels = {"page": _("Alipay (computer)"), "wap": _("Alipay (phone)")}
    default_channel = "page"

    # --- configuration ------------------------------------------------------

    @staticmethod
    def configured() -> bool:
        return bool(settings.ALIPAY_APP_ID and settings.ALIPAY_PRIVATE_KEY_PATH and settings.ALIPAY_PUBLIC_KEY_PATH)

    @staticmethod
    def mode() -> str:
        return "sandbox" if settings.ALIPAY_SANDBOX else "live"

    @staticmethod
    def status() -> dict:
        """What the operator page shows: ids and modes, never keys."""
        return {"app_id": settings.ALIPAY_APP_ID, "endpoint": Alipay.endpoint(),
                "private_key": "ok" if rsa.readable(settings.ALIPAY_PRIVATE_KEY_PATH, "private") else "unreadable",
                "alipay_public_key": "ok" if rsa.readable(settings.ALIPAY_PUBLIC_KEY_PATH, "public") else "unreadable"}

    @staticmethod
    def endpoint() -> str:
        return SANDBOX_URL if settings.ALIPAY_SANDBOX else LIVE_URL

    def _private_key(self):
        return rsa.load(settings.ALIPAY_PRIVATE_KEY_PATH, "private")

    def _alipay_key(self):
        return rsa.load(settings.ALIPAY_PUBLIC_KEY_PATH, "public")

    # --- requests -----------------------------------------------------------

    def signed_params(self, method: str, biz: dict, **extra) -> dict:
        params = {
            "app_id": settings.ALIPAY_APP_ID, "method": method, "format": "JSON", "charset": "utf-8",
            "sign_type": "RSA2", "version": "1.0",
            "timestamp": datetime.now(UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
            **{k: v for k, v in extra.items() if v},
        }
        params["sign"] = rsa.sign(self._private_key(), signing_string(params))
        return params

    def _call(self, method: str, biz: dict) -> dict:
        """POST one API call; return the verified `<method>_response` object."""
        params = self.signed_params(method, biz)
        try:
            reply = http.send("POST", f"{self.endpoint()}?charset=utf-8", body=urlencode(params).encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
        except OSError as exc:
            raise GatewayError(f"{method}: {exc}") from exc
        raw = reply.body.decode("utf-8", "replace")
        key = method.replace(".", "_") + "_response"
        try:
            document = json.loads(raw)
        except ValueError:
            raise GatewayError(f"{method}: HTTP {reply.status}, not JSON") from None
        part = signed_response_part(raw, key)
        signature = document.get("sign", "") if isinstance(document, dict) else ""
        if part is None or not signature:
            raise GatewayError(f"{method}: unsigned answer (HTTP {reply.status})")
        if not rsa.verify(self._alipay_key(), part.encode("utf-8"), signature):
            log.error("alipay %s answer has a bad signature", method)
            raise GatewayError(f"{method}: answer signature does not match")
        return json.loads(part)

    # --- the interface ------------------------------------------------------

    def start(self, payment) -> str:
        return reverse("payments:go", args=[payment.reference])

    def begin(self, payment, *, channel: str = "", client_ip: str = "") -> StartAnswer:
        """page.pay / wap.pay are signed requests the shopper's browser carries
        to Alipay: a redirect to the gateway with the signed query string."""
        method, product_code = PRODUCT_CODES.get(channel or self.default_channel, PRODUCT_CODES["page"])
        biz = {"out_trade_no": payment.reference, "total_amount": money_str(payment.amount, payment.currency),
               "subject": f"Shopyard {payment.reference}", "product_code": product_code}
        deadline = trade_deadline(payment)
        if deadline is not None:  # Alipay keeps an unpaid trade open for 15 days unless told
            biz["time_expire"] = deadline.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        if channel == "wap":
            biz["quit_url"] = settings.BASE_URL + reverse("payments:return", args=[payment.reference])
        params = self.signed_params(
            method, biz, notify_url=settings.BASE_URL + reverse("payments:notify", args=[NAME]),
            return_url=settings.BASE_URL + reverse("payments:return", args=[payment.reference]),
        )
        return StartAnswer(kind="redirect", url=f"{self.endpoint()}?{urlencode(params)}")

    def _verified_form(self, body: bytes) -> dict:
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise SignatureError("malformed", "body is not a form") from None
        if params.get("sign_type", "RSA2") != "RSA2" or not params.get("sign"):
            raise SignatureError("bad_signature", "missing signature or sign_type is not RSA2")
        if not rsa.verify(self._alipay_key(), signing_string(params, exclude=("sign", "sign_type"), skip_empty=False),
                          params["sign"]):
            raise SignatureError("bad_signature", "signature does not match")
        if params.get("app_id") != settings.ALIPAY_APP_ID:
            raise SignatureError("wrong_account", f"app_id {params.get('app_id', '')[:40]!r} is not ours")
        return params

    def verify(self, body: bytes, headers, *, received_at: float) -> dict:
        """Alipay's notification is a signed form; it signs no freshness, so a
        replay is caught by the notification id (trade_no + "paid"): applied once."""
        params = self._verified_form(body)
        if not params.get("out_trade_no") or not params.get("trade_no") or not params.get("total_amount"):
            raise SignatureError("malformed", "missing fields")
        trade_status = params.get("trade_status", "")
        paid = trade_status in PAID
        return {"notification_id": f"{params['trade_no']}:{'paid' if paid else trade_status}"[:64],
                "payment_reference": params["out_trade_no"], "amount": params["total_amount"],
                "currency": "CNY", "status": "success" if paid else "ignored"}

    def query(self, payment) -> StatusAnswer:
        answer = self._call("alipay.trade.query", {"out_trade_no": payment.reference})
        if answer.get("code") != "10000":
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return StatusAnswer(status="pending")  # the shopper never opened the cashier
            return StatusAnswer(status="unknown")
        if answer.get("out_trade_no") != payment.reference:
            log.error("alipay query for %s answered about %r", payment.reference, answer.get("out_trade_no"))
            return StatusAnswer(status="unknown")
        trade_status = answer.get("trade_status", "")
        if trade_status in PAID:
            return StatusAnswer(status="success", notification_id=f"{answer.get('trade_no', '')}:paid",
                                amount=answer.get("total_amount", ""), currency="CNY")
        if trade_status == "TRADE_CLOSED":
            return StatusAnswer(status="failed", notification_id=f"{answer.get('trade_no', '')}:TRADE_CLOSED",
                                amount=answer.get("total_amount", ""), currency="CNY")
        return StatusAnswer(status="pending")

    def refund(self, *, payment, refund) -> RefundAnswer:
        """alipay.trade.refund is synchronous; out_request_no makes a retry the same refund."""
        try:
            answer = self._call("alipay.trade.refund", {
                "out_trade_no": payment.reference, "out_request_no": refund.reference,
                "refund_amount": money_str(refund.amount, refund.currency), "refund_reason": refund.reason[:100],
            })
        except GatewayError as exc:
            return RefundAnswer(ok=False, detail=str(exc))
        if answer.get("code") == "10000":
            return RefundAnswer(ok=True, gateway_reference=f"{answer.get('trade_no', '')}/{refund.reference}")
        return RefundAnswer(ok=False, detail=f"{answer.get('sub_code', answer.get('code'))}: {answer.get('sub_msg', '')}")

    def verify_refund(self, body: bytes, headers, *, received_at: float) -> dict:
        """A partial refund is reported as a trade notification carrying
        out_biz_no (our refund reference) and refund_fee."""
        params = self._verified_form(body)
        if not params.get("out_biz_no") or not params.get("refund_fee"):
            raise SignatureError("malformed", "not a refund notification")
        try:
            amount = Decimal(params["refund_fee"])
        except InvalidOperation:
            raise SignatureError("malformed", "refund_fee is not a number") from None
        return {"notification_id": f"{params.get('trade_no', '')}:{params['out_biz_no']}"[:64],
                "refund_reference": params["out_biz_no"], "status": "success", "amount": str(amount)}

    def acknowledge(self, ok: bool, detail: str = "") -> Acknowledgement:
        """Alipay stops retrying only on the plain text `success`."""
        return Acknowledgement(200 if ok else 400, "text/plain", b"success" if ok else b"fail")
