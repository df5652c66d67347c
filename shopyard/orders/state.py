"""The order state machine, declared as data.

Adding a state (after-sales will add `refunding`, `refunded`…) is adding
members to `Status` and rows to `TRANSITIONS`; the test walks the table.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Action(models.TextChoices):
    PAY = "pay", _("pay")
    SHIP = "ship", _("ship")
    CONFIRM_RECEIPT = "confirm_receipt", _("confirm receipt")
    CANCEL = "cancel", _("cancel")
    EXPIRE = "expire", _("expire")


TRANSITIONS = {
    (Status.PENDING_PAYMENT, Action.PAY): Status.PAID,
    (Status.PENDING_PAYMENT, Action.CANCEL): Status.CANCELLED,
    (Status.PENDING_PAYMENT, Action.EXPIRE): Status.CANCELLED,
    (Status.PAID, Action.SHIP): Status.SHIPPED,
    (Status.SHIPPED, Action.CONFIRM_RECEIPT): Status.COMPLETED,
}

# the timestamp field each target state stamps
STAMPS = {
    Status.PAID: "paid_at",
    Status.SHIPPED: "shipped_at",
    Status.COMPLETED: "completed_at",
    Status.CANCELLED: "cancelled_at",
}
