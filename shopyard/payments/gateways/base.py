"""What every payment gateway adapter provides.

Services only talk to a gateway through this interface
(`shopyard.payments.gateways.get(name)`), so adding one is adding a module
and a line in the registry (docs/payments.md). An adapter:

- `begin(payment, channel=...)` starts the payment at the provider and says
  how the shopper gets there (a redirect, a form to post, or QR-code data);
  `start(payment)` is the URL on our site that leads there;
- `verify(body, headers, received_at=...)` checks the signature (and the
  merchant/app id, and freshness where the protocol signs a timestamp) of an
  asynchronous notification and returns its normalised payload, or raises
  SignatureError. The amount and trade number are checked against our
  payment by the service (services._apply), the same for every gateway;
- `query(payment)` asks the provider what happened (a late notification);
- `refund(payment=, refund=)` gives money back, idempotent per refund reference;
- `verify_refund(body, headers, received_at=...)` checks and parses a
  refund notification;
- `acknowledge(ok)` is the HTTP answer the provider expects to a notification.
"""

from dataclasses import dataclass, field
from typing import Protocol


class SignatureError(Exception):
    """A notification we refuse before reading it: `outcome` is the stored
    PaymentNotification outcome (bad_signature, wrong_account, stale, malformed)."""

    def __init__(self, outcome, detail):
        self.outcome = outcome
        self.detail = detail
        super().__init__(detail)


class GatewayError(Exception):
    """The provider could not be reached or gave an answer we cannot trust
    (unsigned, badly signed, unparseable). Nothing is changed on our side."""


@dataclass(frozen=True)
class StartAnswer:
    """How the shopper reaches the provider: `kind` is "redirect" (go to
    `url`), "form" (POST `fields` to `url`) or "qr" (show `qr_code`, e.g.
    WeChat Pay Native's weixin:// link, as a QR code)."""

    kind: str
    url: str = ""
    fields: dict = field(default_factory=dict)
    qr_code: str = ""


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
    """`ok`: the money is given back. `pending`: the provider accepted the
    refund and will finish it later (a refund notification or the next
    attempt reports it); neither: refused, `detail` says why."""

    ok: bool
    gateway_reference: str = ""
    detail: str = ""
    pending: bool = False


@dataclass(frozen=True)
class Acknowledgement:
    """The HTTP answer a provider expects to its notification."""

    status: int
    content_type: str
    body: bytes


def trade_deadline(payment):
    """When the provider must stop accepting payment of this trade: the
    earliest moment one of its orders expires unpaid (None when none can)."""
    from shopyard.orders.queries import payment_deadline

    deadlines = [d for d in (payment_deadline(o) for o in payment.orders.all()) if d is not None]
    return min(deadlines) if deadlines else None


class Gateway(Protocol):
    name: str

    def start(self, payment) -> str:
        """The URL (on our site or the provider's) where the shopper pays `payment`."""

    def begin(self, payment, *, channel: str = "", client_ip: str = "") -> StartAnswer:
        """Create the trade at the provider (where the protocol needs it) and
        say how the shopper gets to pay it. Raises GatewayError."""

    def verify(self, body: bytes, headers, *, received_at: float) -> dict:
        """The notification's payload (notification_id, payment_reference, amount,
        currency, status) or SignatureError. Freshness is judged against
        `received_at`, the time the notification reached us, not the time we
        get round to applying it. `status` "ignored" means a genuine
        notification that reports nothing to apply (e.g. a trade closed)."""

    def query(self, payment) -> StatusAnswer:
        """Ask the gateway for the payment's state (when no notification came)."""

    def refund(self, *, payment, refund) -> RefundAnswer:
        """Give `refund.amount` back; idempotent per `refund.reference`."""

    def verify_refund(self, body: bytes, headers, *, received_at: float) -> dict:
        """A refund notification's payload (notification_id, refund_reference,
        status "success"/"failed", amount) or SignatureError."""

    def acknowledge(self, ok: bool, detail: str = "") -> Acknowledgement:
        """What to answer the provider: `ok` once the notification is applied
        (or was already), otherwise a refusal it will retry."""
