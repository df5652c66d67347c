"""The shop application's state machine, declared as data.

An applicant submits; an operator approves (the shop opens), rejects (with a
reason; the applicant may apply again) or asks for more (with a reason); the
applicant then resubmits and the operator reviews again.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_MORE_INFO = "needs_more_info", _("Needs more information")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Action(models.TextChoices):
    SUBMIT = "submit", _("submit")
    REQUEST_INFO = "request_info", _("ask for more information")
    RESUBMIT = "resubmit", _("resubmit")
    APPROVE = "approve", _("approve")
    REJECT = "reject", _("reject")


TRANSITIONS = {
    (Status.SUBMITTED, Action.REQUEST_INFO): Status.NEEDS_MORE_INFO,
    (Status.SUBMITTED, Action.APPROVE): Status.APPROVED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.NEEDS_MORE_INFO, Action.RESUBMIT): Status.RESUBMITTED,
    (Status.RESUBMITTED, Action.REQUEST_INFO): Status.NEEDS_MORE_INFO,
    (Status.RESUBMITTED, Action.APPROVE): Status.APPROVED,
    (Status.RESUBMITTED, Action.REJECT): Status.REJECTED,
}

# an application in these states holds its shop name and blocks a second one by the same user
PENDING = (Status.SUBMITTED, Status.NEEDS_MORE_INFO, Status.RESUBMITTED)
# an operator acts on these
AWAITING_REVIEW = (Status.SUBMITTED, Status.RESUBMITTED)
# operator actions that need a reason the applicant reads
NEEDS_REASON = (Action.REJECT, Action.REQUEST_INFO)


def operator_actions(status) -> list[str]:
    """The review actions an operator may take now (for buttons and the API)."""
    return [a for (s, a) in TRANSITIONS if s == status and a != Action.RESUBMIT]


def can_resubmit(status) -> bool:
    return (status, Action.RESUBMIT) in TRANSITIONS
