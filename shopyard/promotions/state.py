"""The promotion state machine, declared as data (like orders/state.py).

A promotion is drafted, then published; it is *live* while published and
inside its time window (queries.live decides that, with the clock). A seller
may stop it early; an ended one stays for the record. What a published
promotion may still change is services.py's rule (only what never changes
what buyers already got)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    STOPPED = "stopped", _("Stopped")


class Action(models.TextChoices):
    PUBLISH = "publish", _("publish")
    STOP = "stop", _("stop")


TRANSITIONS = {
    (Status.DRAFT, Action.PUBLISH): Status.PUBLISHED,
    (Status.DRAFT, Action.STOP): Status.STOPPED,
    (Status.PUBLISHED, Action.STOP): Status.STOPPED,
}


def allowed_actions(status) -> list:
    return [action for (state, action) in TRANSITIONS if state == status]
