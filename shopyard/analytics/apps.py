from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "shopyard.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import services

        # purchases: checkout's order placement emits order.placed (orders.services)
        subscribe("order.placed", services.on_order_placed, key="analytics.record_purchase",
                  many=services.on_orders_placed)
        # favourites: catalog.services.add_favourite emits favourite.added
        subscribe("favourite.added", services.on_favourite_added, key="analytics.record_favourite")
        register("purged_old_behaviour_events", services.purge_old_events)
