"""Order writes: every status change goes through `transition`, which locks
the row, consults the table in state.py and records who did what.

Orders know nothing of payments: payments depend on orders and react to the
`order.cancelled` / `order.paid` events. Lock order (docs/architecture.md):
payment rows before order rows, orders in id order, then an order's stock
rows in SKU id order, products' sales counters last in product id order.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.bulk_sql import create_row_with_children, create_rows
from shopyard.core.errors import Conflict, NotFound
from shopyard.core.events import emit
from shopyard.core.money import money_str
from shopyard.core.statemachine import actor_label, apply_transition, next_state
from shopyard.core.validation import check_id
from shopyard.inventory import services as inventory

from .models import Order, OrderAdjustment, OrderLine, OrderStatusChange
from .queries import payment_deadline
from .state import (
    EVENTS,
    HELD_ACTIONS,
    STAMPS,
    TRANSITIONS,
    Action,
    Hold,
    Status,
    statuses_allowing,
)

log = logging.getLogger("shopyard.orders")


def event_payload(order) -> dict:
    """What every order event carries, so a subscriber outside this process (a
    webhook receiver, an ERP) needs nothing from our database: ids, the order
    number, status, and amounts as strings in the order's currency."""
    return {
        "order_id": order.pk, "order_number": order.number, "shop_id": order.shop_id, "user_id": order.user_id,
        "status": order.status, "currency": order.currency, "total": money_str(order.total, order.currency),
        "shipping_fee": money_str(order.shipping_fee, order.currency),
        "placed_at": order.placed_at.isoformat() if order.placed_at else None,
    }


def record_change(order, from_status, to_status, action, actor, note=""):
    create_rows(OrderStatusChange, [_change(order, from_status, to_status, action, actor, note)])


def _change(order, from_status, to_status, action, actor, note="") -> OrderStatusChange:
    """A history row of `order`, unsaved: who moved it from where to where, and why."""
    return OrderStatusChange(
        order=order, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), note=note[:200],
    )


def check_not_held(order, action) -> None:
    """The one rule of holds: an order on hold refuses the actions a hold stops (shipping),
    with a message that says why (409 `order_on_hold`)."""
    if order.hold and action in HELD_ACTIONS:
        reason = Hold(order.hold).label
        message = _("This order is on hold (%(reason)s) and cannot be shipped yet.") % {"reason": reason}
        raise Conflict(message, fields={"hold": [message]}, code="order_on_hold")


def transition(order, action, *, actor, note="") -> Order:
    """Apply `action` to `order` (any instance or id); raises InvalidTransition (409),
    or Conflict `order_on_hold` when a hold stops the action.
    `actor` is the acting user, or None for the system (gateway, timeout)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=getattr(order, "pk", order))
        target = next_state(TRANSITIONS, locked.status, action)
        check_not_held(locked, action)
        stamp = STAMPS.get(target)
        extra = {stamp: timezone.now()} if stamp else {}
        if target == Status.CANCELLED and locked.hold:
            extra["hold"] = ""  # a cancelled order has nothing left to hold
        apply_transition(locked, action, transitions=TRANSITIONS, record=record_change, actor=actor, note=note, **extra)
        if target == Status.CANCELLED:
            inventory.release_for_order(order=locked)
        emit(EVENTS[target], **event_payload(locked), action=str(action))
    return locked


def _lookup(qs, order_id):
    order = qs.filter(pk=check_id(order_id, "order_id")).first()
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def buyer_order(*, actor, order_id) -> Order:
    return _lookup(Order.objects.filter(user=actor), order_id)


def shop_order(*, shop, order_id) -> Order:
    return _lookup(Order.objects.filter(shop=shop), order_id)


def cancel_by_buyer(*, actor, order_id, reason="") -> Order:
    """Only the order row (then its stock) is locked here; payments close the
    pending payments that covered it when `order.cancelled` reaches them."""
    order = buyer_order(actor=actor, order_id=order_id)
    return transition(order, Action.CANCEL, actor=actor, note=reason or _("Cancelled by the buyer"))


def confirm_receipt(*, actor, order_id) -> Order:
    order = buyer_order(actor=actor, order_id=order_id)
    return transition(order, Action.CONFIRM_RECEIPT, actor=actor)


def ship(*, actor, shop, order_id, carrier, tracking_number) -> Order:
    """Ship a paid order whole: one parcel with every line (shipping.services.ship_parcel
    sends parcels of chosen lines and quantities)."""
    from shopyard.shipping.services import ship_parcel

    order = shop_order(shop=shop, order_id=order_id)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        next_state(TRANSITIONS, locked.status, Action.SHIP)  # refuse before writing a shipment
        check_not_held(locked, Action.SHIP)
        ship_parcel(actor=actor, order=locked, carrier=carrier, tracking_number=tracking_number)
        locked.refresh_from_db()
        return locked


def hold(*, order, reason, actor=None) -> Order:
    """Put `order` on hold (`reason`: a state.Hold) inside the caller's transaction: a
    group-buy order is held from placement until its group fills."""
    reason = Hold(reason)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=getattr(order, "pk", order))
        if locked.hold != reason:
            locked.hold = reason
            locked.save(update_fields=["hold"])
            emit("order.held", **event_payload(locked), hold=str(reason), actor_id=getattr(actor, "pk", None))
    if isinstance(order, Order):  # the caller's instance (a checkout's new order) says so too
        order.hold = locked.hold
    return locked


def release_hold(*, order, reason, actor=None) -> Order:
    """Lift the hold `reason` put on `order` (a no-op when it is not held for that reason)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=getattr(order, "pk", order))
        if locked.hold == Hold(reason):
            locked.hold = ""
            locked.save(update_fields=["hold"])
            emit("order.released", **event_payload(locked), hold=str(reason), actor_id=getattr(actor, "pk", None))
    if isinstance(order, Order):
        order.hold = locked.hold
    return locked


def close_paid(*, order, note, actor=None) -> Order:
    """Close a paid order that will not be fulfilled (its group failed or was already
    full): it ends cancelled, its stock goes back, and payments refunds it in full when
    `order.cancelled` reaches them. The system acts; a second call is refused (409)."""
    return transition(order, Action.CLOSE, actor=actor, note=note)


def create_order(*, actor, shop, checkout_id, number, currency, subtotal, shipping_fee, total, address: dict,
                 note: str, lines: list[dict], discount_total=0, shipping_discount=0, adjustments=None,
                 shipping_adjustments=(), pay_within_minutes=None) -> Order:
    """Write a new order awaiting payment with its lines (already priced by
    checkout), each line's adjustment rows (`adjustments[i]` for `lines[i]`), the
    shipping fee's, and its first history row. Lines are kept on `order.line_list`."""
    # its rows go in by SQL written once (core.bulk_sql): an order is placed often. The order,
    # its lines and its first history row are one statement on PostgreSQL
    order = Order(
        pay_within_minutes=pay_within_minutes or None,  # an offer's shorter time to pay (queries.payment_deadline)
        number=number, checkout_id=checkout_id, user=actor, shop=shop, currency=currency, subtotal=subtotal,
        discount_total=discount_total, shipping_fee=shipping_fee, shipping_discount=shipping_discount, total=total,
        shipping_address=address, note=note, status=Status.PENDING_PAYMENT,
    )
    order.line_list = [OrderLine(order=order, **{"net_total": line["line_total"], **line}) for line in lines]
    create_row_with_children(order, [("order", order.line_list),
                                     ("order", [_change(order, "", Status.PENDING_PAYMENT, "place", actor)])])
    rows = []
    for line, line_rows in zip(order.line_list, adjustments or [[] for _l in lines], strict=True):
        line.adjustment_list = [OrderAdjustment(order=order, line=line, **row) for row in line_rows]
        rows += line.adjustment_list
    order.shipping_adjustment_list = [OrderAdjustment(order=order, line=None, **row) for row in shipping_adjustments]
    rows += order.shipping_adjustment_list
    if rows:
        create_rows(OrderAdjustment, rows)
    emit("order.placed", **event_payload(order))
    return order


def mark_paid(*, actor, order=None, orders=None, note="") -> list[Order]:
    """Mark one order (`order`) or several (`orders`, instances or ids) paid,
    in id order, then count the sales once, in product id order, so two
    payments that sold the same products never wait on each other in a cycle."""
    from shopyard.catalog.services import record_sales

    targets = sorted((orders or []) + ([order] if order is not None else []), key=lambda o: getattr(o, "pk", o))
    paid, sold = [], {}
    with transaction.atomic():
        for target in targets:
            done = transition(target, Action.PAY, actor=actor, note=note)
            paid.append(done)
            for line in done.lines.all():
                sold[line.product_id_snapshot] = sold.get(line.product_id_snapshot, 0) + line.quantity
        record_sales(quantities=dict(sorted(sold.items())))
    return paid


def cancel_expired_unpaid_orders(*, now=None) -> int:
    """Cancel orders left unpaid past the timeout and release their stock.

    Idempotent and safe to run from several workers: each order is re-checked
    under its row lock, so a payment that lands meanwhile wins. The system is
    the actor (recorded as "system").
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.UNPAID_ORDER_TIMEOUT_MINUTES)
    expirable = statuses_allowing(Action.EXPIRE)
    # orders.queries.payment_deadline is the rule: placed_at + the timeout, or + an offer's shorter
    # time; candidates with a shorter time are fetched from a minute on and checked one by one
    due = Q(pay_within_minutes__isnull=True, placed_at__lt=cutoff) | Q(
        pay_within_minutes__isnull=False, placed_at__lt=now - timedelta(minutes=1))
    # status is read with the rows: deferred, it would be read again per order, and an order
    # paid in between has no deadline any more (the row lock below decides in the end)
    candidates = Order.objects.filter(due, status__in=expirable).only(
        "pk", "status", "placed_at", "pay_within_minutes")[:1000]
    ids = [o.pk for o in candidates if (deadline := payment_deadline(o)) is not None and deadline <= now]
    done = 0
    for order_id in sorted(ids):
        with transaction.atomic():
            locked = Order.objects.select_for_update().filter(pk=order_id, status__in=expirable).first()
            if locked is None:
                continue
            transition(locked, Action.EXPIRE, actor=None, note=_("Not paid in time"))
            done += 1
    return done
