"""The shop's state machine, declared as data: operators suspend a shop and reopen it.

A suspended shop's products are hidden from shoppers (catalog.queries holds that
rule) and its console is read-only (console.access, shops.queries.shop_for_seller).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")


class Action(models.TextChoices):
    SUSPEND = "suspend", _("suspend")
    REOPEN = "reopen", _("reopen")


TRANSITIONS = {
    (Status.ACTIVE, Action.SUSPEND): Status.SUSPENDED,
    (Status.SUSPENDED, Action.REOPEN): Status.ACTIVE,
}


def can_trade(status) -> bool:
    """Whether a shop in `status` may sell and write (products, orders, shipping)."""
    return status == Status.ACTIVE
