from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "shopyard.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from shopyard.core.periodic import register

        from .services import cancel_expired_unpaid_orders

        register("cancelled_unpaid_orders", cancel_expired_unpaid_orders)
