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
        from .retention import purge_old_idempotency_records, purge_settled_events

        register("purged_settled_events", purge_settled_events)
        register("purged_old_idempotency_records", purge_old_idempotency_records)
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        from .events import after_response
        from .events import request_started as events_wait_for_response

        request_started.connect(events_wait_for_response, dispatch_uid="shopyard.core.events.request_started")
        # before django.db's close_old_connections (connected on import, so moved behind it): the
        # delivery reuses the request's connection, health-checked, when it is still fit
        # (events.keep_health_checks), and close_old_connections then readies it for the next request
        request_finished.disconnect(close_old_connections)
        request_finished.connect(after_response, dispatch_uid="shopyard.core.events.after_response")
        request_finished.connect(close_old_connections)
        from .logs import connect_task_signals

        connect_task_signals()  # one log line per task, carrying the request id
