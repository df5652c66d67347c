from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "shopyard.promotions"
    label = "promotions"
    verbose_name = _("Promotions")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import coupon_services, engine, flash, group_services

        engine.register_default_loaders()
        # a cancelled or expired order gives its flash units back (once)
        subscribe("order.cancelled", flash.on_order_cancelled)
        register("expired_flash_orders", flash.expire_unpaid_orders, order=20)
        register("ended_flash_sales", flash.end_finished_sales, order=30)
        # group buying: a member counts when their order is paid; groups past their time fail
        subscribe("order.paid", group_services.on_order_paid)
        register("failed_expired_groups", group_services.fail_expired_groups, order=40)
        # a paid order uses its coupons for good; a cancelled unpaid one gives them back
        subscribe("order.paid", coupon_services.on_order_paid)
        subscribe("order.cancelled", coupon_services.on_order_cancelled)
