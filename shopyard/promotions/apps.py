from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "shopyard.promotions"
    label = "promotions"
    verbose_name = _("Promotions")

    def ready(self):
        from shopyard.core.events import subscribe

        from . import coupon_services, engine

        engine.register_default_loaders()
        # a paid order uses its coupons for good; a cancelled unpaid one gives them back
        subscribe("order.paid", coupon_services.on_order_paid)
        subscribe("order.cancelled", coupon_services.on_order_cancelled)
