"""Payment gateway adapters, looked up by name (see base.Gateway).

A gateway is offered to shoppers only when it is configured (its settings
are set; the simulated one when SHOPYARD_SIMULATED_GATEWAY=1). `get` still
finds a known gateway that was switched off, so payments made through it can
be queried and refunded; notifications for an unconfigured gateway are 404.
"""

from django.utils.translation import gettext_lazy

from shopyard.core.errors import NotFound

from . import simulated
from .alipay import Alipay
from .base import Acknowledgement, StartAnswer
from .wechatpay import WechatPay


class Simulated:
    """The simulated gateway's module behind the same interface (functions
    looked up at call time, so tests can replace them)."""

    name = simulated.NAME
    label = gettext_lazy("Shopyard Pay (simulated)")
    channels = {"page": gettext_lazy("Shopyard Pay (simulated)")}
    default_channel = "page"

    @staticmethod
    def configured() -> bool:
        from django.conf import settings

        return settings.SIMULATED_GATEWAY

    @staticmethod
    def mode() -> str:
        return "simulated"

    @staticmethod
    def status() -> dict:
        return {}

    def start(self, payment) -> str:
        return simulated.start(payment)

    def begin(self, payment, *, channel: str = "", client_ip: str = "") -> StartAnswer:
        return StartAnswer(kind="redirect", url=simulated.start(payment))

    def verify(self, body, headers, *, received_at=None):
        return simulated.verify(body, headers, received_at=received_at)

    def query(self, payment):
        return simulated.query(payment)

    def refund(self, *, payment, refund):
        return simulated.refund(payment=payment, refund=refund)

    def verify_refund(self, body, headers, *, received_at=None):
        from .base import SignatureError

        raise SignatureError("malformed", "the simulated gateway refunds synchronously")

    def acknowledge(self, ok: bool, detail: str = "") -> Acknowledgement:
        import json

        return Acknowledgement(200 if ok else 400, "application/json",
                               json.dumps({"result": "ok" if ok else detail}).encode())


_GATEWAYS = {g.name: g for g in (Simulated(), Alipay(), WechatPay())}


def get(name: str):
    try:
        return _GATEWAYS[name]
    except KeyError:
        from django.utils.translation import gettext as _

        raise NotFound(_("Unknown payment gateway.")) from None


def get_configured(name: str):
    """A gateway that is configured now (notification endpoints, the shopper's choice)."""
    gateway = get(name) if isinstance(name, str) else None
    if gateway is None or not gateway.configured():
        from django.utils.translation import gettext as _

        raise NotFound(_("Unknown payment gateway."))
    return gateway


def available() -> list:
    """The gateways a shopper can choose from now, the simulated one first."""
    return [g for g in _GATEWAYS.values() if g.configured()]


def configuration() -> list[dict]:
    """For the operator page: every known gateway, configured or not, and
    its mode (simulated, sandbox, live), with identifiers but never a key."""
    return [{"name": g.name, "label": g.label, "configured": g.configured(), "mode": g.mode(),
             "details": g.status() if g.configured() else {}} for g in _GATEWAYS.values()]
