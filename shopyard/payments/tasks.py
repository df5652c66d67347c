"""Thin Celery wrappers. Database and broker hiccups are retried with
exponential backoff; a notification that keeps failing stays undelivered in
QueuedNotification and the periodic job tries it again."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import KombuError
from kombu.exceptions import OperationalError as BrokerError

TRANSIENT = (OperationalError, InterfaceError, BrokerError, KombuError, ConnectionError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 300, "retry_jitter": True,
         "max_retries": 8, "ignore_result": True}


@shared_task(name="shopyard.payments.tasks.deliver_queued_notification", **RETRY)
def deliver_queued_notification(queued_id: int):
    """Apply one gateway notification from our outbox (QueuedNotification)."""
    from .services import deliver_queued

    return deliver_queued(queued_id=queued_id)


@shared_task(name="shopyard.payments.tasks.perform_refund", **RETRY)
def perform_refund_task(refund_id: int):
    from .refunds import perform_refund

    return perform_refund(refund_id=refund_id)
