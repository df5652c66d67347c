from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Health endpoints, the protected metrics page and the business counters."""

    name = "shopyard.operations"
    label = "operations"
    verbose_name = "Operations"  # no models: shown nowhere

    def ready(self):
        from shopyard.core.events import subscribe

        from . import counters

        subscribe("order.placed", counters.order_placed, many=counters.orders_placed)
        subscribe("payment.succeeded", counters.payment_succeeded)
        subscribe("payment.failed", counters.payment_failed)
