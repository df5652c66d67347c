from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Action(models.TextChoices):
    SUCCEED = "succeed", _("succeed")
    FAIL = "fail", _("fail")
    CANCEL = "cancel", _("cancel")


TRANSITIONS = {
    (Status.PENDING, Action.SUCCEED): Status.SUCCEEDED,
    (Status.PENDING, Action.FAIL): Status.FAILED,
    (Status.PENDING, Action.CANCEL): Status.CANCELLED,
    # the provider captured the money after we gave up on the payment (e.g. its orders timed
    # out): record the capture; services._apply_success flags the refund (payment.needs_refund)
    (Status.CANCELLED, Action.SUCCEED): Status.SUCCEEDED,
}
