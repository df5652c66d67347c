"""The flash-sale session state machine, declared as data (like orders/state.py).

A session is written as a draft, published (its units are set aside from
normal stock: `scheduled`), and ended by the periodic job once `ends_at` has
passed (unsold units go back to normal stock). Whether a scheduled session is
"upcoming" or "live" is a matter of the clock, not a stored state: buying is
open from the `starts_at` second to the `ends_at` second, server time.
A draft or a session that has not started may be cancelled.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class Action(models.TextChoices):
    PUBLISH = "publish", _("publish")
    CANCEL = "cancel", _("cancel")
    END = "end", _("end")


class Role(models.TextChoices):
    SELLER = "seller", _("seller")  # a shop's staff, or an operator for a platform session
    SYSTEM = "system", _("system")


TRANSITIONS = {
    (Status.DRAFT, Action.PUBLISH): Status.SCHEDULED,
    (Status.DRAFT, Action.CANCEL): Status.CANCELLED,
    (Status.SCHEDULED, Action.CANCEL): Status.CANCELLED,  # guarded: only before the start
    (Status.SCHEDULED, Action.END): Status.ENDED,  # guarded: only after the end
}

PERFORMERS = {
    Action.PUBLISH: {Role.SELLER},
    Action.CANCEL: {Role.SELLER},
    Action.END: {Role.SYSTEM},
}

# statuses whose items hold units set aside from normal stock
HOLDS_STOCK = [Status.SCHEDULED]
# statuses whose items may still be edited
EDITABLE = [Status.DRAFT]


def allowed_actions(status, role=None) -> set:
    return {
        action for (source, action) in TRANSITIONS
        if source == status and (role is None or role in PERFORMERS[action])
    }


class ReservationStatus(models.TextChoices):
    """A buyer's claim on flash units: reserved (units held, no order yet), ordered
    (the order exists), released (the units went back: the order failed, was
    cancelled or timed out)."""

    RESERVED = "reserved", _("Reserved")
    ORDERED = "ordered", _("Ordered")
    RELEASED = "released", _("Released")
