from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "shopyard.service"
    label = "service"
    verbose_name = _("Customer service")

    def ready(self):
        from shopyard.core.periodic import register

        from . import tickets

        register("escalated_overdue_tickets", tickets.escalate_overdue)
