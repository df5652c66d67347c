from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shopyard.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import checks  # noqa: F401  (registers the production-safety system checks)
        from .converters import register as register_converters

        register_converters()  # before any URLconf is imported
        from .events import dispatch_pending
        from .periodic import register

        register("dispatched_events", dispatch_pending, order=1000)
        from .logs import connect_task_signals

        connect_task_signals()  # one log line per task, carrying the request id
