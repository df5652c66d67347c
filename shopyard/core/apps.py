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
        from django.core.signals import request_finished, request_started

        from .events import after_response
        from .events import request_started as events_wait_for_response

        # after django.db's close_old_connections (connected on import): the delivery
        # reuses the request's connection when it is still fit
        request_started.connect(events_wait_for_response, dispatch_uid="shopyard.core.events.request_started")
        request_finished.connect(after_response, dispatch_uid="shopyard.core.events.after_response")
        from .logs import connect_task_signals

        connect_task_signals()  # one log line per task, carrying the request id
