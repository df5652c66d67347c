"""Order writes: every status change goes through `transition`, which locks
the row, consults the table in state.py and records who did what."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import NotFound
from shopyard.core.events import emit
from shopyard.core.statemachine import apply_transition, next_state
from shopyard.inventory import services as inventory

from .models import Order, OrderLine, OrderStatusChange
from .state import STAMPS, TRANSITIONS, Action, Status

log = logging.getLogger("shopyard.orders")


def _actor_label(actor):
    if actor is None:
        return "system"
    return getattr(actor, "username", str(actor))


def record_change(order, from_status, to_status, action, actor, note=""):
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=_actor_label(actor), note=note[:200],
    )


def transition(order, action, *, actor=None, note="") -> Order:
    """Apply `action` to `order` (any instance or id); raises InvalidTransition (409)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=getattr(order, "pk", order))
        target = next_state(TRANSITIONS, locked.status, action)
        stamp = STAMPS.get(target)
        extra = {stamp: timezone.now()} if stamp else {}
        apply_transition(locked, action, transitions=TRANSITIONS, record=record_change, actor=actor, note=note, **extra)
        if target == Status.CANCELLED:
            inventory.release_for_order(order=locked)
        emit(f"order.{action}", order_id=locked.pk, status=locked.status)
    return locked


def buyer_order(*, actor, order_id) -> Order:
    order = Order.objects.filter(user=actor, pk=order_id).first() if str(order_id).isdigit() else None
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def shop_order(*, shop, order_id) -> Order:
    order = Order.objects.filter(shop=shop, pk=order_id).first() if str(order_id).isdigit() else None
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def cancel_by_buyer(*, actor, order_id, reason="") -> Order:
    order = buyer_order(actor=actor, order_id=order_id)
    with transaction.atomic():
        order = transition(order, Action.CANCEL, actor=actor, note=reason or _("Cancelled by the buyer"))
        _cancel_orphaned_payments(order)
    return order


def confirm_receipt(*, actor, order_id) -> Order:
    order = buyer_order(actor=actor, order_id=order_id)
    return transition(order, Action.CONFIRM_RECEIPT, actor=actor)


def ship(*, actor, shop, order_id, carrier, tracking_number) -> Order:
    from shopyard.shipping.services import create_shipment

    order = shop_order(shop=shop, order_id=order_id)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        next_state(TRANSITIONS, locked.status, Action.SHIP)  # refuse before writing a shipment
        shipment = create_shipment(order=locked, carrier=carrier, tracking_number=tracking_number, actor=actor)
        return transition(locked, Action.SHIP, actor=actor, note=f"{shipment.get_carrier_display()} {shipment.tracking_number}")


def create_order(*, actor, shop, checkout_id, number, currency, subtotal, shipping_fee, total, address: dict,
                 note: str, lines: list[dict]) -> Order:
    """Write a new order awaiting payment with its lines (already priced by
    checkout) and its first history row. Lines are kept on `order.line_list`."""
    order = Order.objects.create(
        number=number, checkout_id=checkout_id, user=actor, shop=shop, currency=currency, subtotal=subtotal,
        shipping_fee=shipping_fee, total=total, shipping_address=address, note=note, status=Status.PENDING_PAYMENT,
    )
    order.line_list = OrderLine.objects.bulk_create([OrderLine(order=order, **line) for line in lines])
    record_change(order, "", Status.PENDING_PAYMENT, "place", actor)
    return order


def mark_paid(*, order, actor=None, note="") -> Order:
    from shopyard.catalog.services import record_sales

    order = transition(order, Action.PAY, actor=actor, note=note)
    record_sales(quantities={line.product_id_snapshot: line.quantity for line in order.lines.all()})
    return order


def _cancel_orphaned_payments(order):
    from shopyard.payments.services import cancel_payments_for_cancelled_orders

    cancel_payments_for_cancelled_orders(order=order)


def cancel_expired_unpaid_orders(*, now=None) -> int:
    """Cancel orders left unpaid past the timeout and release their stock.

    Idempotent and safe to run from several workers: each order is re-checked
    under its row lock, so a payment that lands meanwhile wins.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.UNPAID_ORDER_TIMEOUT_MINUTES)
    ids = list(
        Order.objects.filter(status=Status.PENDING_PAYMENT, placed_at__lt=cutoff).values_list("pk", flat=True)[:1000]
    )
    done = 0
    for order_id in ids:
        with transaction.atomic():
            locked = Order.objects.select_for_update().filter(pk=order_id, status=Status.PENDING_PAYMENT).first()
            if locked is None:
                continue
            order = transition(locked, Action.EXPIRE, actor=None, note=_("Not paid in time"))
            _cancel_orphaned_payments(order)
            done += 1
    return done
