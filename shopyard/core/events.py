"""Domain events through an outbox: `emit` writes a row inside the caller's
transaction; delivery runs on commit via Celery (eager in the embedded setup)."""

import logging

from django.db import transaction
from django.utils import timezone

from .models import OutboxEvent

log = logging.getLogger("shopyard.events")

# name -> list of callables(payload); apps register handlers in AppConfig.ready
_HANDLERS: dict[str, list] = {}


def subscribe(name, handler):
    _HANDLERS.setdefault(name, []).append(handler)


def emit(name: str, **payload) -> OutboxEvent:
    if not _HANDLERS.get(name):
        # nobody listens yet: keep the record, skip the delivery round trip
        return OutboxEvent.objects.create(name=name, payload=payload, dispatched_at=timezone.now())
    event = OutboxEvent.objects.create(name=name, payload=payload)

    def _schedule():
        from .tasks import dispatch_event

        try:
            dispatch_event.delay(event.pk)
        except Exception:  # broker down: the periodic sweep delivers it later
            log.warning("could not queue event %s; the sweep will deliver it", event.pk)

    transaction.on_commit(_schedule)
    return event


def dispatch(event_id: int) -> bool:
    """Deliver one event to its handlers exactly once (row lock + dispatched_at)."""
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id, dispatched_at__isnull=True).first()
        if event is None:
            return False
        event.attempts += 1
        for handler in _HANDLERS.get(event.name, []):
            handler(event.payload)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["attempts", "dispatched_at"])
    return True


def dispatch_pending(limit: int = 500, now=None) -> int:
    ids = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True).order_by("id").values_list("id", flat=True)[:limit]
    )
    return sum(1 for i in ids if dispatch(i))
