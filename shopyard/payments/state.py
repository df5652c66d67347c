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
}
