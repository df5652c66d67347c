"""How long the outbox's settled events and the idempotency records are kept.

Every order writes two outbox events and an idempotency record (and an event one of
whose subscribers failed, a delivery row per subscriber), and nothing read them once
the events had settled and the client's retries were over: the tables (and each of
their indexes) grew by every order, for ever. Two periodic jobs now drop them, a few
chunks per run so no run holds locks for long:

- events delivered to every subscriber (`delivered`) or that had no subscriber
  (`no_subscribers`), `EVENT_KEEP_DAYS` after they were written, with their
  delivery rows. Dead letters, new events and pending deliveries stay until they
  settle or an operator retries them: they are what the admin's outbox pages are for.
- idempotency records `IDEMPOTENCY_KEEP_DAYS` after they were written. A client
  retries a request within minutes; the same key after that places a new order, as
  a key seen for the first time does.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import IdempotencyRecord, OutboxEvent

CHUNK = 1000  # rows per DELETE
CHUNKS_PER_RUN = 20  # so one run holds its locks for a bounded time; the next run goes on

SETTLED = (OutboxEvent.Status.DELIVERED, OutboxEvent.Status.NO_SUBSCRIBERS)


def purge_settled_events(now=None) -> int:
    """Periodic: drop events settled and older than EVENT_KEEP_DAYS, with their
    deliveries. Returns how many events went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_KEEP_DAYS)
    old = OutboxEvent.objects.filter(status__in=SETTLED, created_at__lt=cutoff)
    return _purge(old, lambda ids: OutboxEvent.objects.filter(pk__in=ids, status__in=SETTLED))


def purge_old_idempotency_records(now=None) -> int:
    """Periodic: drop idempotency records older than IDEMPOTENCY_KEEP_DAYS. Returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IDEMPOTENCY_KEEP_DAYS)
    old = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    return _purge(old, lambda ids: IdempotencyRecord.objects.filter(pk__in=ids))


def _purge(old, chosen) -> int:
    """Delete `old` a chunk at a time (a sliced queryset cannot be deleted); `chosen(ids)`
    re-applies the condition in the DELETE itself, so a row that changed since it was
    read is kept."""
    gone = 0
    for _chunk in range(CHUNKS_PER_RUN):
        ids = list(old.order_by().values_list("pk", flat=True)[:CHUNK])
        if not ids:
            break
        _total, by_model = chosen(ids).delete()
        gone += by_model.get(old.model._meta.label, 0)
        if len(ids) < CHUNK:
            break
    return gone
