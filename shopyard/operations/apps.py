from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Health endpoints, the protected metrics page and the business counters."""

    name = "shopyard.operations"
    label = "operations"
    verbose_name = _("Operations")

    def ready(self):
        from shopyard.core.events import subscribe

        from . import counters

        subscribe("order.placed", counters.order_placed)
        subscribe("payment.succeeded", counters.payment_succeeded)
        subscribe("payment.failed", counters.payment_failed)
