"""What every payment gateway adapter provides.

The simulated gateway implements it today; Alipay and WeChat Pay adapters
will implement the same five operations with their own signature schemes and
HTTP calls. Services only talk to a gateway through this interface
(`shopyard.payments.gateways.get(name)`), so adding one is adding a module.
"""

from dataclasses import dataclass
from typing import Protocol


class SignatureError(Exception):
    """A notification we refuse before reading it: `outcome` is the stored
    PaymentNotification outcome (bad_signature, stale, malformed)."""

    def __init__(self, outcome, detail):
        self.outcome = outcome
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True)
class StatusAnswer:
    """The gateway's answer to "what happened to this payment?".
    `status` is "success", "failed", "pending" or "unknown"; a decided answer
    carries the id of the notification that reported (or will report) it, so
    applying the answer and the notification count as one."""

    status: str
    notification_id: str = ""
    amount: str = ""
    currency: str = ""


@dataclass(frozen=True)
class RefundAnswer:
    ok: bool
    gateway_reference: str = ""
    detail: str = ""


class Gateway(Protocol):
    name: str

    def start(self, payment) -> str:
        """The URL of the gateway's page where the shopper pays `payment`."""

    def verify(self, body: bytes, headers, *, received_at: float) -> dict:
        """The notification's payload (notification_id, payment_reference, amount,
        currency, status) or SignatureError. Freshness is judged against
        `received_at`, the time the notification reached us, not the time we
        get round to applying it."""

    def query(self, payment) -> StatusAnswer:
        """Ask the gateway for the payment's state (when no notification came)."""

    def refund(self, *, payment, refund) -> RefundAnswer:
        """Give `refund.amount` back; idempotent per `refund.reference`."""
