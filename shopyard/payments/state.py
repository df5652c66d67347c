"""The payment and refund state machines, declared as data.

Pages ask `allowed_actions` / `outcome` instead of comparing statuses.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BUYER = "buyer", _("buyer")
    OPERATOR = "operator", _("operator")
    SYSTEM = "system", _("system")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Action(models.TextChoices):
    SUCCEED = "succeed", _("succeed")
    FAIL = "fail", _("fail")
    CANCEL = "cancel", _("cancel")
    CAPTURE_LATE = "capture_late", _("capture late")


TRANSITIONS = {
    (Status.PENDING, Action.SUCCEED): Status.SUCCEEDED,
    (Status.PENDING, Action.FAIL): Status.FAILED,
    (Status.PENDING, Action.CANCEL): Status.CANCELLED,
    # the provider captured the money after we gave up on the payment (its orders were
    # cancelled or expired, or it was declined first): the capture is recorded and
    # services refunds every order it cannot pay
    (Status.CANCELLED, Action.CAPTURE_LATE): Status.SUCCEEDED,
    (Status.FAILED, Action.CAPTURE_LATE): Status.SUCCEEDED,
}

# the shopper decides on the gateway page (the gateway reports it); our side cancels
PERFORMERS = {
    Action.SUCCEED: {Role.BUYER, Role.SYSTEM},
    Action.FAIL: {Role.BUYER, Role.SYSTEM},
    Action.CANCEL: {Role.SYSTEM},
    Action.CAPTURE_LATE: {Role.SYSTEM},
}


def allowed_actions(status, role=None) -> set:
    return {
        action for (source, action) in TRANSITIONS
        if source == status and (role is None or role in PERFORMERS[action])
    }


def statuses_allowing(action) -> list:
    return sorted({source for (source, act) in TRANSITIONS if act == action})


def is_open(status) -> bool:
    """The shopper can still approve or decline it on the gateway page."""
    return Action.SUCCEED in allowed_actions(status)


def outcome(status) -> str:
    """How the return page reads a status: "pending", "succeeded" or "failed"
    (closed without capture)."""
    if is_open(status):
        return "pending"
    return "succeeded" if status == Status.SUCCEEDED else "failed"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Refund pending")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Refund failed")


class RefundAction(models.TextChoices):
    SUCCEED = "succeed", _("succeed")
    FAIL = "fail", _("fail")
    RETRY = "retry", _("retry")


REFUND_TRANSITIONS = {
    (RefundStatus.PENDING, RefundAction.SUCCEED): RefundStatus.SUCCEEDED,
    # the gateway kept refusing: an operator looks at it and retries
    (RefundStatus.PENDING, RefundAction.FAIL): RefundStatus.FAILED,
    (RefundStatus.FAILED, RefundAction.RETRY): RefundStatus.PENDING,
}

REFUND_PERFORMERS = {
    RefundAction.SUCCEED: {Role.SYSTEM},
    RefundAction.FAIL: {Role.SYSTEM},
    RefundAction.RETRY: {Role.OPERATOR},
}


def allowed_refund_actions(status, role=None) -> set:
    return {
        action for (source, action) in REFUND_TRANSITIONS
        if source == status and (role is None or role in REFUND_PERFORMERS[action])
    }
