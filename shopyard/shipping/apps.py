from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShippingConfig(AppConfig):
    name = "shopyard.shipping"
    label = "shipping"
    verbose_name = _("Shipping")

    def ready(self):
        from shopyard.core.periodic import register

        from .services import auto_confirm_delivered, poll_tracking

        # the poll before auto-confirmation, so a parcel delivered long ago moves its order on first
        register("tracking_poll", poll_tracking, order=50)
        register("auto_confirm_delivered", auto_confirm_delivered, order=60)
