from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "shopyard.channels"
    label = "channels"
    verbose_name = _("Channels")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import services

        # last-touch attribution: checkout's order placement emits order.placed (orders.services)
        subscribe("order.placed", services.on_order_placed, key="channels.attribute_order",
                  many=services.on_orders_placed)
        register("purged_old_channel_touches", services.purge_old_touches)
