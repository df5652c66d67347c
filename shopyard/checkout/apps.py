from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckoutConfig(AppConfig):
    name = "shopyard.checkout"
    label = "checkout"
    verbose_name = _("Checkout")

    def ready(self):
        from shopyard.core.periodic import register

        from . import flash

        # before expired_flash_orders (20): a lost hold is ordered before anything times out
        register("held_flash_orders", flash.place_stale_holds, order=15)
