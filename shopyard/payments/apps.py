from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "shopyard.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from .refunds import retry_pending_refunds
        from .services import (
            deliver_queued_notifications,
            on_order_cancelled,
            on_order_closed,
            query_unconfirmed_payments,
        )

        # an order that can no longer be paid closes the pending payments covering it
        subscribe("order.cancelled", on_order_closed)
        subscribe("order.paid", on_order_closed)
        # a paid order that ends cancelled (closed by the system) is refunded in full
        subscribe("order.cancelled", on_order_cancelled)
        register("delivered_payment_notifications", deliver_queued_notifications, order=50)
        register("queried_payments", query_unconfirmed_payments, order=60)
        register("refunds_performed", retry_pending_refunds, order=70)
