"""The ticket and conversation state machines, declared as data.

Ticket (complaint to a shop or to the platform)::

    open ──start──▶ in_progress ──wait──▶ waiting_customer
      │                ▲   │                    │
      │                └───┼──customer_reply────┘
      │                    │
      ├──escalate──▶ escalated ──start──▶ in_progress (handled by the platform)
      └──resolve──▶ resolved ──close──▶ closed
                       └──reopen──▶ open

Any unfinished status may be escalated (once: an escalated ticket is handled by
the platform and cannot be escalated again, services check `escalated_at`).
A conversation is open until an agent closes it; the shopper writing again
reopens it. Pages and API ask `ticket_actions` instead of comparing statuses.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SHOPPER = "shopper", _("shopper")
    AGENT = "agent", _("agent")
    OPERATOR = "operator", _("operator")
    SYSTEM = "system", _("system")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Awaiting handling")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer")
    ESCALATED = "escalated", _("Escalated to the platform")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class TicketAction(models.TextChoices):
    START = "start", _("start handling")
    WAIT = "wait", _("ask the customer")
    CUSTOMER_REPLY = "customer_reply", _("customer reply")
    ESCALATE = "escalate", _("escalate")
    RESOLVE = "resolve", _("resolve")
    CLOSE = "close", _("close")
    REOPEN = "reopen", _("reopen")


S, A = TicketStatus, TicketAction

TICKET_TRANSITIONS = {
    (S.OPEN, A.START): S.IN_PROGRESS,
    (S.OPEN, A.ESCALATE): S.ESCALATED,
    (S.OPEN, A.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, A.WAIT): S.WAITING_CUSTOMER,
    (S.IN_PROGRESS, A.ESCALATE): S.ESCALATED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.WAITING_CUSTOMER, A.CUSTOMER_REPLY): S.IN_PROGRESS,
    (S.WAITING_CUSTOMER, A.ESCALATE): S.ESCALATED,
    (S.WAITING_CUSTOMER, A.RESOLVE): S.RESOLVED,
    (S.ESCALATED, A.START): S.IN_PROGRESS,
    (S.ESCALATED, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.OPEN,
}

# who may ask for each action (the system: the SLA job and a customer's message)
TICKET_PERFORMERS = {
    A.START: {Role.AGENT, Role.OPERATOR},
    A.WAIT: {Role.AGENT, Role.OPERATOR},
    A.CUSTOMER_REPLY: {Role.SYSTEM},
    A.ESCALATE: {Role.SHOPPER, Role.AGENT, Role.SYSTEM},
    A.RESOLVE: {Role.AGENT, Role.OPERATOR},
    A.CLOSE: {Role.SHOPPER, Role.AGENT, Role.OPERATOR, Role.SYSTEM},
    A.REOPEN: {Role.SHOPPER, Role.AGENT, Role.OPERATOR},
}

# statuses where the agent owes the next step: the SLA clock runs
SLA_STATUSES = [S.OPEN, S.IN_PROGRESS, S.ESCALATED]


def ticket_actions(status, role=None) -> set:
    return {
        action for (source, action) in TICKET_TRANSITIONS
        if source == status and (role is None or role in TICKET_PERFORMERS[action])
    }


def is_active(status) -> bool:
    """Still being worked on (not resolved or closed)."""
    return A.RESOLVE in ticket_actions(status)


ACTIVE_STATUSES = sorted({source for (source, action) in TICKET_TRANSITIONS if action == A.RESOLVE})


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Ongoing")
    CLOSED = "closed", _("Closed")


class ConversationAction(models.TextChoices):
    CLOSE = "close", _("close")
    REOPEN = "reopen", _("reopen")


CONVERSATION_TRANSITIONS = {
    (ConversationStatus.OPEN, ConversationAction.CLOSE): ConversationStatus.CLOSED,
    (ConversationStatus.CLOSED, ConversationAction.REOPEN): ConversationStatus.OPEN,
}


def conversation_actions(status) -> set:
    return {action for (source, action) in CONVERSATION_TRANSITIONS if source == status}


def action_choices(status, role) -> list[tuple[str, str]]:
    """(code, label) of the buttons a page offers `role` (escalation and the
    customer's reply have their own forms)."""
    return [(action.value, str(action.label)) for action in TicketAction
            if action in ticket_actions(status, role) and action not in (TicketAction.ESCALATE,
                                                                         TicketAction.CUSTOMER_REPLY)]
