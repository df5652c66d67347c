"""Thin Celery wrappers around checkout services."""

from celery import shared_task

from shopyard.payments.tasks import RETRY


@shared_task(name="shopyard.checkout.tasks.place_held_flash_order", **RETRY)
def place_held_flash_order(token: str):
    """Make the order for a flash-sale hold (checkout.flash.place_held); True when this call made it."""
    from .flash import place_held

    return place_held(token=token) is not None
