"""A review's life, declared as data: it is visible when written, an operator
hides it (abusive, advertising, personal data) with a reason, and may show it
again. A hidden review leaves product pages, the public API and every
aggregate (ProductRating, ShopRating); its author still sees it, marked hidden.

Which orders may be reviewed is also read here, from the order's own state
machine: a completed order (orders.state.Status.COMPLETED), so pages and the
API never compare order statuses themselves.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from shopyard.orders.state import Status as OrderStatus


class Status(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden")


class Action(models.TextChoices):
    HIDE = "hide", _("hide")
    SHOW = "show", _("show again")


TRANSITIONS = {
    (Status.VISIBLE, Action.HIDE): Status.HIDDEN,
    (Status.HIDDEN, Action.SHOW): Status.VISIBLE,
}

# the event each action emits (`<noun>.<past participle>`)
EVENTS = {
    Action.HIDE: "review.hidden",
    Action.SHOW: "review.shown",
}

# the statuses that count: shown to everyone and aggregated
PUBLIC = [Status.VISIBLE]

# the order statuses whose lines the buyer may review (and follow up)
REVIEWABLE_ORDER_STATUSES = [OrderStatus.COMPLETED]


def allowed_actions(status) -> set:
    return {action for (source, action) in TRANSITIONS if source == status}


def is_public(status) -> bool:
    return status in PUBLIC
