from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    name = "shopyard.settlement"
    label = "settlement"
    verbose_name = _("Settlement")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import services

        # the ledger records a sale when its order completes, and takes back what a refund returns
        subscribe("order.completed", services.on_order_completed, key="settlement.order_completed")
        subscribe("refund.succeeded", services.on_refund_succeeded, key="settlement.refund_succeeded")
        # weekly statements: a period that has ended is closed, per shop
        register("closed_settlement_statements", services.close_due_statements, order=85)
