"""The group-buying state machines, declared as data.

A campaign (GroupBuy) lives like any promotion: drafted, published, stopped
(promotions.state's table, shared). A group has its own table: it is open
from the moment its leader opens it, succeeds when the N-th member has paid
within its time limit, and fails when the limit passes first or the seller
stops the campaign. Both ends are final: a succeeded group's orders proceed,
a failed group's orders are closed and refunded (group_services.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class GroupStatus(models.TextChoices):
    OPEN = "open", _("Filling")
    SUCCEEDED = "succeeded", _("Group complete")
    FAILED = "failed", _("Group failed")


class GroupAction(models.TextChoices):
    SUCCEED = "succeed", _("fill")
    FAIL = "fail", _("fail")


GROUP_TRANSITIONS = {
    (GroupStatus.OPEN, GroupAction.SUCCEED): GroupStatus.SUCCEEDED,
    (GroupStatus.OPEN, GroupAction.FAIL): GroupStatus.FAILED,
}


def group_actions(status) -> set:
    return {action for (state, action) in GROUP_TRANSITIONS if state == status}


def is_joinable_status(status) -> bool:
    """A group takes members only while it can still fill."""
    return GroupAction.SUCCEED in group_actions(status)
