"""The order state machine, declared as data.

Adding a state (after-sales will add `refunding`, `refunded`…) is adding
members to `Status` and rows to `TRANSITIONS`; the test walks the table.
Pages, templates and the API ask `allowed_actions` what an order allows now
instead of comparing statuses themselves.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Action(models.TextChoices):
    PAY = "pay", _("pay")
    SHIP = "ship", _("ship")
    CONFIRM_RECEIPT = "confirm_receipt", _("confirm receipt")
    # the carrier delivered every parcel (shipping.services records it from tracking)
    DELIVER = "deliver", _("mark delivered")
    # the system confirms receipt SHOPYARD_AUTO_CONFIRM_DAYS after delivery
    AUTO_CONFIRM = "auto_confirm", _("confirm receipt automatically")
    CANCEL = "cancel", _("cancel")
    EXPIRE = "expire", _("expire")
    # the system closes a paid order it cannot fulfil (its group did not fill); payments
    # refunds every paid order that ends cancelled (payments.services.refund_closed_order)
    CLOSE = "close", _("close and refund")


class Role(models.TextChoices):
    BUYER = "buyer", _("buyer")
    SELLER = "seller", _("seller")
    SYSTEM = "system", _("system")


TRANSITIONS = {
    (Status.PENDING_PAYMENT, Action.PAY): Status.PAID,
    (Status.PENDING_PAYMENT, Action.CANCEL): Status.CANCELLED,
    (Status.PENDING_PAYMENT, Action.EXPIRE): Status.CANCELLED,
    (Status.PAID, Action.SHIP): Status.SHIPPED,
    (Status.PAID, Action.CLOSE): Status.CANCELLED,
    (Status.SHIPPED, Action.CONFIRM_RECEIPT): Status.COMPLETED,
    (Status.SHIPPED, Action.DELIVER): Status.DELIVERED,
    (Status.DELIVERED, Action.CONFIRM_RECEIPT): Status.COMPLETED,
    (Status.DELIVERED, Action.AUTO_CONFIRM): Status.COMPLETED,
}

# who may start each action: the buyer starts paying (a payment), the gateway
# (system) completes it; the unpaid-order timeout is the system's alone
PERFORMERS = {
    Action.PAY: {Role.BUYER, Role.SYSTEM},
    Action.CANCEL: {Role.BUYER},
    Action.EXPIRE: {Role.SYSTEM},
    Action.CLOSE: {Role.SYSTEM},
    Action.SHIP: {Role.SELLER},
    Action.CONFIRM_RECEIPT: {Role.BUYER},
    Action.DELIVER: {Role.SYSTEM},
    Action.AUTO_CONFIRM: {Role.SYSTEM},
}

# the timestamp field each target state stamps
STAMPS = {
    Status.PAID: "paid_at",
    Status.SHIPPED: "shipped_at",
    Status.DELIVERED: "delivered_at",
    Status.COMPLETED: "completed_at",
    Status.CANCELLED: "cancelled_at",
}

# the event each target state emits (`<noun>.<past participle>`)
EVENTS = {
    Status.PAID: "order.paid",
    Status.SHIPPED: "order.shipped",
    Status.DELIVERED: "order.delivered",
    Status.COMPLETED: "order.completed",
    Status.CANCELLED: "order.cancelled",
}


class Hold(models.TextChoices):
    """Why a paid order may not move on yet. Whoever sets a hold releases it, through
    orders.services (hold / release_hold); the hold is the order's, so orders never ask
    the app that set it."""

    GROUP_BUY = "group_buy", _("waiting for its group to fill")


# the statuses in which the seller may send (further) parcels: the first parcel ships a
# paid order (Action.SHIP), later ones leave while it is shipped (shipping.services.ship_parcel)
PARCEL_STATUSES = [Status.PAID, Status.SHIPPED]


# what a hold stops: the seller's ship action (transition and services.ship refuse it)
HELD_ACTIONS = {Action.SHIP}


def allowed_actions(status, role=None) -> set:
    """The actions the table allows from `status`, restricted to those `role` may start."""
    return {
        action for (source, action) in TRANSITIONS
        if source == status and (role is None or role in PERFORMERS[action])
    }


def actions_for(order, role=None) -> set:
    """What `order` allows now: its status's actions, less those a hold stops."""
    actions = allowed_actions(order.status, role)
    return actions - HELD_ACTIONS if order.hold else actions


def statuses_allowing(action) -> list:
    """The statuses from which `action` is possible (for filters such as "to ship")."""
    return sorted({source for (source, act) in TRANSITIONS if act == action})


def _reachable(start, *, skip=()) -> set:
    seen, todo = set(), [start]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        todo.extend(target for (source, action), target in TRANSITIONS.items() if source == state and action not in skip)
    return seen


# the statuses of an order that was paid for (a sale): everything reachable from paid,
# except by closing it with a full refund (a closed order sold nothing)
SOLD = sorted(_reachable(TRANSITIONS[(Status.PENDING_PAYMENT, Action.PAY)], skip={Action.CLOSE}))


# The shopper's order-centre tabs, in display order: each tab is the statuses
# the table says are waiting for that step (None: every order). Pages and API
# filter and count with this mapping only.
BUYER_TABS = {
    "all": None,
    "unpaid": statuses_allowing(Action.PAY),
    "to_ship": statuses_allowing(Action.SHIP),
    "to_receive": statuses_allowing(Action.CONFIRM_RECEIPT),
    "completed": [Status.COMPLETED],
    "cancelled": [Status.CANCELLED],
}

BUYER_TAB_LABELS = {
    "all": _("All"),
    "unpaid": _("To pay"),
    "to_ship": _("To ship"),
    "to_receive": _("To receive"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
}
