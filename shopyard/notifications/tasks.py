"""Thin Celery wrappers (eager in the embedded setup)."""

from celery import shared_task

from . import services, webhooks


@shared_task(name="notifications.send_outgoing")
def send_outgoing_task(outgoing_id):
    return services.send_outgoing(outgoing_id=outgoing_id)


@shared_task(name="notifications.send_webhooks")
def send_webhooks_task(endpoint_id):
    return webhooks.send_endpoint(endpoint_id=endpoint_id)
