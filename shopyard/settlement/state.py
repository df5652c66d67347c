"""The settlement statement's state machine, declared as data.

A statement is `open` while its period runs (entries keep landing in it), `closed`
once the period has ended and its figures are frozen (the weekly job closes it), and
`paid` when an operator has paid the seller what it says (which posts the payout).
Pages and the API ask `allowed_actions` what a statement allows now.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    PAID = "paid", _("Paid")


class Action(models.TextChoices):
    CLOSE = "close", _("close")
    MARK_PAID = "mark_paid", _("mark paid")


TRANSITIONS = {
    (Status.OPEN, Action.CLOSE): Status.CLOSED,
    (Status.CLOSED, Action.MARK_PAID): Status.PAID,
}

# the timestamp field each target state stamps
STAMPS = {Status.CLOSED: "closed_at", Status.PAID: "paid_at"}

# the event each target state emits
EVENTS = {Status.CLOSED: "settlement_statement.closed", Status.PAID: "settlement_statement.paid"}


def allowed_actions(status) -> set:
    return {action for (source, action) in TRANSITIONS if source == status}
