"""The two coupon state machines, declared as data.

A coupon template (what a seller or the platform hands out) is drafted,
published (active: shoppers may claim it inside its claim window) and stopped
(no more claims; coupons already claimed stay usable until they expire).

A shopper's coupon is available, locked while an unpaid order carries it, and
used once that order is paid; an unpaid order that is cancelled (by the buyer
or the timeout) gives it back. "Expired" is not stored: an available coupon
past its `valid_until` is expired (queries.py derives it from the clock).
The moves of a user coupon are conditional UPDATEs (coupon_services), each
reading its from-state from USER_COUPON_TRANSITIONS, so two checkouts racing
for one coupon cannot both lock it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    STOPPED = "stopped", _("Stopped")


class TemplateAction(models.TextChoices):
    PUBLISH = "publish", _("publish")
    STOP = "stop", _("stop")


TEMPLATE_TRANSITIONS = {
    (TemplateStatus.DRAFT, TemplateAction.PUBLISH): TemplateStatus.ACTIVE,
    (TemplateStatus.DRAFT, TemplateAction.STOP): TemplateStatus.STOPPED,
    (TemplateStatus.ACTIVE, TemplateAction.STOP): TemplateStatus.STOPPED,
}


class CouponStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    LOCKED = "locked", _("In an unpaid order")
    USED = "used", _("Used")


class CouponAction(models.TextChoices):
    LOCK = "lock", _("use at checkout")
    CONFIRM = "confirm", _("confirm on payment")
    RETURN = "return", _("return on cancellation")
    # an order refunded in full (after-sales) gives back a used coupon that is still valid
    RETURN_REFUNDED = "return_refunded", _("return on full refund")


USER_COUPON_TRANSITIONS = {
    (CouponStatus.AVAILABLE, CouponAction.LOCK): CouponStatus.LOCKED,
    (CouponStatus.LOCKED, CouponAction.CONFIRM): CouponStatus.USED,
    (CouponStatus.LOCKED, CouponAction.RETURN): CouponStatus.AVAILABLE,
    (CouponStatus.USED, CouponAction.RETURN_REFUNDED): CouponStatus.AVAILABLE,
}


def from_state(action) -> str:
    """The one state a user coupon must be in for `action` (the conditional UPDATE's guard)."""
    [state] = [source for (source, act) in USER_COUPON_TRANSITIONS if act == action]
    return state


def template_actions(status) -> list:
    return [action for (state, action) in TEMPLATE_TRANSITIONS if state == status]
