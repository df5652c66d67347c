from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "shopyard.aftersales"
    label = "aftersales"
    verbose_name = _("After-sales")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import services

        # a refund a case started is done: the case is refunded (and coupons, points follow)
        subscribe("refund.succeeded", services.on_refund_succeeded)
        # deadlines: the shop's answer, the buyer's return shipment, the shop's inspection
        register("aftersales_deadlines", services.run_deadlines, order=80)
