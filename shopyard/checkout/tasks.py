"""Thin Celery wrappers around checkout services."""

from celery import shared_task

from shopyard.payments.tasks import RETRY


@shared_task(name="shopyard.checkout.tasks.place_held_flash_order", **RETRY)
def place_held_flash_order(token: str):
    """Make the order for a flash-sale hold (checkout.flash.place_held); True when this call made it.
    Holds are drained in batches now (drain_held_flash_orders); this task stays for messages
    published before, and for callers that place one hold."""
    from .flash import place_held

    return place_held(token=token) is not None


@shared_task(name="shopyard.checkout.tasks.drain_held_flash_orders", **RETRY)
def drain_held_flash_orders():
    """Make the orders of every queued flash-sale hold (checkout.flash.drain_held); the orders made."""
    from .flash import drain_held

    return drain_held()
