"""The after-sales case state machines, one per case type, declared as data.

Every case type shares the status and action names below; what a case of a
type may do next is that type's table in TRANSITIONS. Pages, the API and the
deadline job ask `allowed_actions(case.kind, case.status, role)` instead of
comparing statuses. docs/aftersales.md draws each table.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")
    COMPENSATION = "compensation", _("Compensation")


class Status(models.TextChoices):
    REQUESTED = "requested", _("Awaiting the shop")
    APPROVED = "approved", _("Approved")
    RETURN_SHIPPED = "return_shipped", _("Return on its way")
    RECEIVED = "received", _("Return received")
    INSPECTED = "inspected", _("Inspected")
    REFUNDING = "refunding", _("Refunding")
    REFUNDED = "refunded", _("Refunded")
    REPLACEMENT_SHIPPED = "replacement_shipped", _("Replacement shipped")
    REPAIRED_SHIPPED = "repaired_shipped", _("Repaired and shipped back")
    COMPLETED = "completed", _("Completed")
    DISPUTED = "disputed", _("Platform reviewing")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed")


class Action(models.TextChoices):
    APPROVE = "approve", _("approve")
    AUTO_APPROVE = "auto_approve", _("approve automatically")
    REJECT = "reject", _("reject")
    CANCEL = "cancel", _("cancel")
    SHIP_RETURN = "ship_return", _("ship the return")
    EXPIRE_RETURN = "expire_return", _("close: return not shipped in time")
    RECEIVE = "receive", _("confirm receipt of the return")
    INSPECT = "inspect", _("inspect")
    AUTO_INSPECT = "auto_inspect", _("accept the return automatically")
    REFUND = "refund", _("refund")
    REFUND_DONE = "refund_done", _("refund completed")
    CREDIT = "credit", _("pay as store credit")
    SHIP_REPLACEMENT = "ship_replacement", _("ship the replacement")
    SHIP_REPAIRED = "ship_repaired", _("ship the repaired item back")
    CONFIRM = "confirm", _("confirm receipt")
    ESCALATE = "escalate", _("ask the platform to step in")
    DECIDE_FULL = "decide_full", _("decide: refund in full")
    DECIDE_PARTIAL = "decide_partial", _("decide: refund in part")
    DECIDE_REJECT = "decide_reject", _("decide: reject")


class Role(models.TextChoices):
    BUYER = "buyer", _("buyer")
    SELLER = "seller", _("seller")
    OPERATOR = "operator", _("operator")
    SYSTEM = "system", _("system")


S, A = Status, Action

# the opening of every case type: the shop answers within its respond deadline or the
# system approves; either side may ask the platform to step in
_OPENING = {
    (S.REQUESTED, A.APPROVE): S.APPROVED,
    (S.REQUESTED, A.AUTO_APPROVE): S.APPROVED,
    (S.REQUESTED, A.REJECT): S.REJECTED,
    (S.REQUESTED, A.CANCEL): S.CANCELLED,
    (S.REQUESTED, A.ESCALATE): S.DISPUTED,
    (S.REJECTED, A.ESCALATE): S.DISPUTED,
    # a rejected case holds its units until the buyer asks the platform or withdraws it
    (S.REJECTED, A.CANCEL): S.CANCELLED,
    # the operator's decision is final: a refund (all or part of what was asked) or a rejection
    (S.DISPUTED, A.DECIDE_FULL): S.REFUNDING,
    (S.DISPUTED, A.DECIDE_PARTIAL): S.REFUNDING,
    (S.DISPUTED, A.DECIDE_REJECT): S.CLOSED,
    (S.REFUNDING, A.REFUND_DONE): S.REFUNDED,
}

# the goods go back: the buyer ships within the return deadline (or the case closes), the
# shop confirms receipt and inspects within the inspect deadline (or the system accepts)
_RETURN = {
    (S.APPROVED, A.SHIP_RETURN): S.RETURN_SHIPPED,
    (S.APPROVED, A.CANCEL): S.CANCELLED,
    (S.APPROVED, A.EXPIRE_RETURN): S.CLOSED,
    (S.RETURN_SHIPPED, A.RECEIVE): S.RECEIVED,
    (S.RETURN_SHIPPED, A.ESCALATE): S.DISPUTED,
    (S.RECEIVED, A.ESCALATE): S.DISPUTED,
}

TRANSITIONS = {
    Kind.REFUND_ONLY: {
        **_OPENING,
        (S.APPROVED, A.REFUND): S.REFUNDING,
    },
    Kind.RETURN_REFUND: {
        **_OPENING, **_RETURN,
        (S.RECEIVED, A.INSPECT): S.REFUNDING,
        (S.RECEIVED, A.AUTO_INSPECT): S.REFUNDING,
        (S.RETURN_SHIPPED, A.AUTO_INSPECT): S.REFUNDING,
    },
    Kind.EXCHANGE: {
        **_OPENING, **_RETURN,
        (S.RECEIVED, A.INSPECT): S.INSPECTED,
        (S.RECEIVED, A.AUTO_INSPECT): S.INSPECTED,
        (S.RETURN_SHIPPED, A.AUTO_INSPECT): S.INSPECTED,
        (S.INSPECTED, A.SHIP_REPLACEMENT): S.REPLACEMENT_SHIPPED,
        (S.INSPECTED, A.ESCALATE): S.DISPUTED,
        (S.REPLACEMENT_SHIPPED, A.CONFIRM): S.COMPLETED,
        (S.REPLACEMENT_SHIPPED, A.ESCALATE): S.DISPUTED,
    },
    Kind.REPAIR: {
        **_OPENING, **_RETURN,
        (S.RECEIVED, A.INSPECT): S.INSPECTED,
        (S.RECEIVED, A.AUTO_INSPECT): S.INSPECTED,
        (S.RETURN_SHIPPED, A.AUTO_INSPECT): S.INSPECTED,
        (S.INSPECTED, A.SHIP_REPAIRED): S.REPAIRED_SHIPPED,
        (S.INSPECTED, A.ESCALATE): S.DISPUTED,
        (S.REPAIRED_SHIPPED, A.CONFIRM): S.COMPLETED,
        (S.REPAIRED_SHIPPED, A.ESCALATE): S.DISPUTED,
    },
    Kind.COMPENSATION: {
        **_OPENING,
        (S.APPROVED, A.REFUND): S.REFUNDING,
        (S.APPROVED, A.CREDIT): S.COMPLETED,
    },
}

PERFORMERS = {
    A.APPROVE: {Role.SELLER},
    A.AUTO_APPROVE: {Role.SYSTEM},
    A.REJECT: {Role.SELLER},
    A.CANCEL: {Role.BUYER},
    A.SHIP_RETURN: {Role.BUYER},
    A.EXPIRE_RETURN: {Role.SYSTEM},
    A.RECEIVE: {Role.SELLER},
    A.INSPECT: {Role.SELLER},
    A.AUTO_INSPECT: {Role.SYSTEM},
    A.REFUND: {Role.SYSTEM},
    A.REFUND_DONE: {Role.SYSTEM},
    A.CREDIT: {Role.SYSTEM},
    A.SHIP_REPLACEMENT: {Role.SELLER},
    A.SHIP_REPAIRED: {Role.SELLER},
    A.CONFIRM: {Role.BUYER},
    A.ESCALATE: {Role.BUYER, Role.SELLER},
    A.DECIDE_FULL: {Role.OPERATOR},
    A.DECIDE_PARTIAL: {Role.OPERATOR},
    A.DECIDE_REJECT: {Role.OPERATOR},
}

# the deadline each status runs against (settings / the shop's policy give its length), and
# what the deadline job does when it passes
DEADLINES = {
    S.REQUESTED: ("respond_hours", A.AUTO_APPROVE),
    S.APPROVED: ("return_ship_days", A.EXPIRE_RETURN),
    S.RETURN_SHIPPED: ("inspect_days", A.AUTO_INSPECT),
    S.RECEIVED: ("inspect_days", A.AUTO_INSPECT),
}

# the side that owes the next step while each deadline runs: once the deadline passed it may
# no longer act in that status (the deadline job's action takes effect), so a shop that did not
# answer in time cannot reject or escalate in the minutes before the job runs
LATE_ROLE = {
    S.REQUESTED: Role.SELLER,
    S.APPROVED: Role.BUYER,
    S.RETURN_SHIPPED: Role.SELLER,
    S.RECEIVED: Role.SELLER,
}

# the kinds whose goods go back to the shop (a return deadline applies once approved)
RETURNING_KINDS = {Kind.RETURN_REFUND, Kind.EXCHANGE, Kind.REPAIR}

# the statuses that no longer count against a line's quantity or amount (a rejected case
# still does: its buyer may ask the platform to step in)
VOID = {S.CANCELLED, S.CLOSED}


def transitions_for(kind) -> dict:
    return TRANSITIONS[kind]


def allowed_actions(kind, status, role=None) -> set:
    return {
        action for (source, action) in TRANSITIONS[kind]
        if source == status and (role is None or role in PERFORMERS[action])
    }


def is_final(kind, status) -> bool:
    return not allowed_actions(kind, status)


def deadline_action(kind, status):
    """What the deadline job does to a case of `kind` in `status` once its deadline passed
    (None: no deadline runs)."""
    rule = DEADLINES.get(status)
    if rule is None:
        return None
    action = rule[1]
    return action if (status, action) in TRANSITIONS[kind] else None


def open_statuses() -> list:
    """Statuses in which a case still moves (the buyer's list marks them "in progress")."""
    return sorted({source for table in TRANSITIONS.values() for (source, _a) in table})
