from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "shopyard.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import services, webhooks
        from .kinds import ROUTES, WEBHOOK_EVENTS

        for name in ROUTES:
            subscribe(name, services.on_event, key="notifications.notify", pass_event=True, many=services.on_events)
        for name in WEBHOOK_EVENTS:
            subscribe(name, webhooks.on_event, key="notifications.webhooks", pass_event=True, many=webhooks.on_events)
        # after event delivery (order 1000 in core): what it fanned out goes in the same run
        register("sent_pending_notifications", services.send_pending, order=1100)
        register("sent_pending_webhooks", webhooks.send_pending, order=1100)
