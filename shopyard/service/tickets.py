"""Tickets: complaints to a shop or to the platform.

Who acts on a ticket is decided by how it was found (`scoped_ticket`): the
shopper's own tickets, a shop's tickets (its agents; `shop` from the console
or shop_for_seller), or every ticket (operators, `operator=True`). Every
status change goes through state.TICKET_TRANSITIONS.

SLA: a ticket is due `settings.SERVICE_SLA_HOURS[priority]` hours after it
was opened (or reopened). `escalate_overdue` (a periodic job) flags each
ticket past its deadline while the agent owes the next step exactly once
(`sla_breached_at`, set under the row's lock) and escalates a shop's ticket
to the platform; running it again, or in two processes, changes nothing more.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.accounts.models import User
from shopyard.core.access import is_operator
from shopyard.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.orders.models import Order
from shopyard.shops.queries import active_shops

from .inputs import clean_reason, clean_text
from .limits import limited
from .models import REASON_MAX, TEXT_MAX, Ticket, TicketMessage, TicketStatusChange
from .state import (
    SLA_STATUSES,
    TICKET_PERFORMERS,
    TICKET_TRANSITIONS,
    Priority,
    Role,
    TicketAction,
    TicketStatus,
    ticket_actions,
)

log = logging.getLogger("shopyard.service")

SUBJECT_MAX = 120


def sla_hours(priority) -> int:
    return settings.SERVICE_SLA_HOURS[priority]


def due_at(priority, start):
    return start + timedelta(hours=sla_hours(priority))


def _record(ticket, from_status, to_status, action, actor, note=""):
    TicketStatusChange.objects.create(
        ticket=ticket, from_status=from_status, to_status=to_status, action=action, note=(note or "")[:REASON_MAX],
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor))


def transition(ticket, action, *, actor=None, note="", **fields):
    target = TICKET_TRANSITIONS.get((ticket.status, action))
    if ticket.status == TicketStatus.WAITING_CUSTOMER and target in SLA_STATUSES and "due_at" not in fields:
        # the SLA clock stopped while the ticket waited for the customer: the deadline moves on by that time
        since = (TicketStatusChange.objects.filter(ticket=ticket, to_status=TicketStatus.WAITING_CUSTOMER)
                 .order_by("-id").values_list("created_at", flat=True).first())
        if since is not None:
            fields["due_at"] = ticket.due_at + max(timezone.now() - since, timedelta(0))
    return apply_transition(ticket, action, transitions=TICKET_TRANSITIONS, record=_record, actor=actor, note=note,
                            **fields)


def event_payload(ticket) -> dict:
    return {"ticket_id": ticket.pk, "number": ticket.number, "user_id": ticket.user_id, "shop_id": ticket.shop_id,
            "status": ticket.status, "priority": ticket.priority, "category": ticket.category}


def check_category(value) -> str:
    if value not in settings.SERVICE_TICKET_CATEGORIES:
        raise ValidationFailed(fields={"category": [_("Choose one of the listed categories.")]})
    return value


def check_priority(value) -> str:
    if value not in Priority.values:
        raise ValidationFailed(fields={"priority": [_("Choose low, normal, high or urgent.")]})
    return value


@limited
def open_ticket(*, actor, category, subject, body, priority=Priority.NORMAL, shop_id=None, order_id=None) -> Ticket:
    """A shopper's complaint: to a shop (`shop_id`, an active shop) or to the
    platform (no shop). `order_id` links one of the shopper's own orders (of
    that shop, when a shop is named); a foreign order or shop is a 404."""
    category = check_category(category)
    priority = check_priority(priority)
    subject = clean_text(subject, "subject", max_length=SUBJECT_MAX)
    body = clean_text(body, "body", max_length=TEXT_MAX)
    with transaction.atomic():
        shop = None
        if shop_id is not None:
            shop = active_shops().filter(pk=shop_id).first()
            if shop is None:
                raise NotFound(_("Shop not found."))
        order = None
        if order_id is not None:
            orders = Order.objects.filter(user=actor, pk=order_id)
            if shop is not None:
                orders = orders.filter(shop=shop)
            order = orders.first()
            if order is None:
                raise NotFound(_("Order not found."))
        now = timezone.now()
        ticket = Ticket.objects.create(
            number=f"TK{now:%Y%m%d}{secrets.token_hex(4).upper()}", user=actor, shop=shop, order=order,
            category=category, priority=priority, subject=subject, due_at=due_at(priority, now))
        TicketMessage.objects.create(ticket=ticket, author=actor, author_label=actor_label(actor),
                                     role=Role.SHOPPER, body=body)
        _record(ticket, "", TicketStatus.OPEN, "open", actor)
        emit("ticket.opened", **event_payload(ticket))
    return ticket


def scoped_ticket(actor, ticket_id, *, shop=None, operator=False, lock=False):
    """(ticket, role): the ticket as the caller may reach it, or NotFound."""
    qs = Ticket.objects.select_for_update() if lock else Ticket.objects.all()
    if operator:
        if not is_operator(actor):
            raise NotFound(_("Ticket not found."))
        role = Role.OPERATOR
    elif shop is not None:
        qs, role = qs.filter(shop=shop), Role.AGENT
    else:
        qs, role = qs.filter(user=actor), Role.SHOPPER
    ticket = qs.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket, role


def _check_agent_may_handle(ticket, role):
    """Once a shop's ticket is escalated, the platform handles it: the shop's
    agents may still write (messages, internal notes) but not move it."""
    if role == Role.AGENT and ticket.escalated_at is not None:
        raise PermissionDenied(_("This ticket was escalated: the platform handles it now."))


@limited
def add_message(*, actor, ticket_id, body, internal=False, shop=None, operator=False) -> TicketMessage:
    """A reply (or, for agents and operators, an internal note the shopper
    never sees). A shopper's reply to a ticket waiting for them puts it back
    in progress; a closed ticket takes no more messages."""
    body = clean_text(body, "body", max_length=TEXT_MAX)
    if not isinstance(internal, bool):
        raise ValidationFailed(fields={"internal": [_("Enter true or false.")]})
    with transaction.atomic():
        ticket, role = scoped_ticket(actor, ticket_id, shop=shop, operator=operator, lock=True)
        if internal and role == Role.SHOPPER:
            raise PermissionDenied(_("Only agents can write internal notes."))
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict(_("This ticket is closed."))
        message = TicketMessage.objects.create(ticket=ticket, author=actor, author_label=actor_label(actor),
                                               role=role, body=body, internal=internal)
        if role == Role.SHOPPER and TicketAction.CUSTOMER_REPLY in ticket_actions(ticket.status):
            transition(ticket, TicketAction.CUSTOMER_REPLY, actor=actor)
        else:
            ticket.save(update_fields=["updated_at"])
        if not internal:
            emit("ticket.replied", **event_payload(ticket), message_id=message.pk, role=role)
    return message


STAMPS = {TicketAction.RESOLVE: "resolved_at", TicketAction.CLOSE: "closed_at"}


def act(*, actor, ticket_id, action, note="", shop=None, operator=False) -> Ticket:
    """Move a ticket along `action` (start, wait, resolve, close, reopen) as
    the caller's role allows; escalation has its own service (`escalate`)."""
    if action not in TicketAction.values or action in (TicketAction.ESCALATE, TicketAction.CUSTOMER_REPLY):
        raise ValidationFailed(fields={"action": [_("Choose start, wait, resolve, close or reopen.")]})
    note = clean_text(note, "note", max_length=REASON_MAX, required=False)
    with transaction.atomic():
        ticket, role = scoped_ticket(actor, ticket_id, shop=shop, operator=operator, lock=True)
        if role not in TICKET_PERFORMERS[action]:
            raise PermissionDenied()
        _check_agent_may_handle(ticket, role)
        now = timezone.now()
        fields = {"updated_at": now}
        if action in STAMPS:
            fields[STAMPS[action]] = now
        if action == TicketAction.START and ticket.assignee_id is None:
            fields["assignee"] = actor
        if action == TicketAction.REOPEN:
            # a new deadline: not overdue until it passes, and the SLA job watches it again
            fields.update(resolved_at=None, due_at=due_at(ticket.priority, now), sla_breached_at=None)
        transition(ticket, action, actor=actor, note=note, **fields)
        emit(ACTION_EVENTS[action], **event_payload(ticket))
    return ticket


# the event each agent or shopper action emits (escalation and the SLA job emit their own)
ACTION_EVENTS = {TicketAction.START: "ticket.started", TicketAction.WAIT: "ticket.held",
                 TicketAction.RESOLVE: "ticket.resolved", TicketAction.CLOSE: "ticket.closed",
                 TicketAction.REOPEN: "ticket.reopened"}


def escalate(*, actor, ticket_id, reason, shop=None) -> Ticket:
    """The shopper or the shop's agent hands a shop's ticket to the platform
    (once). A ticket to the platform has nowhere higher to go."""
    reason = clean_reason(reason)
    with transaction.atomic():
        ticket, role = scoped_ticket(actor, ticket_id, shop=shop, lock=True)
        return _escalate(ticket, actor=actor, reason=reason)


def can_escalate(ticket) -> bool:
    """A shop's ticket, not escalated yet, in a status the table lets escalate."""
    return (ticket.shop_id is not None and ticket.escalated_at is None
            and TicketAction.ESCALATE in ticket_actions(ticket.status))


def _escalate(ticket, *, actor, reason):
    if ticket.shop_id is None:
        raise Conflict(_("A ticket to the platform cannot be escalated."))
    if ticket.escalated_at is not None:
        raise Conflict(_("This ticket was already escalated."))
    now = timezone.now()
    transition(ticket, TicketAction.ESCALATE, actor=actor, note=reason, escalated_at=now,
                escalation_reason=reason, updated_at=now)
    emit("ticket.escalated", **event_payload(ticket), reason=reason)
    return ticket


def assign(*, actor, ticket_id, assignee_id=None, shop=None, operator=False) -> Ticket:
    """Give the ticket to one of the shop's members (or, for operators, a staff
    user); None takes it back to the queue."""
    with transaction.atomic():
        ticket, role = scoped_ticket(actor, ticket_id, shop=shop, operator=operator, lock=True)
        if role == Role.SHOPPER:
            raise PermissionDenied()
        assignee = None
        if assignee_id is not None:
            if role == Role.AGENT:
                assignee = User.objects.filter(pk=assignee_id, shop_memberships__shop=shop).first()
            else:
                assignee = User.objects.filter(pk=assignee_id, is_staff=True).first()
            if assignee is None:
                raise ValidationFailed(fields={"assignee_id": [_("Choose a member of the team.")]})
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee", "updated_at"])
    return ticket


def escalate_overdue(now=None) -> int:
    """Flag every ticket past its SLA deadline while the agent owes the next
    step, once; escalate a shop's ticket not yet escalated. Returns how many
    tickets it flagged."""
    now = now or timezone.now()
    due = list(Ticket.objects.filter(status__in=SLA_STATUSES, sla_breached_at__isnull=True, due_at__lte=now)
               .order_by("due_at", "pk").values_list("pk", flat=True)[:500])
    flagged = 0
    for ticket_id in due:
        with transaction.atomic():
            ticket = (Ticket.objects.select_for_update()
                      .filter(pk=ticket_id, status__in=SLA_STATUSES, sla_breached_at__isnull=True, due_at__lte=now)
                      .first())
            if ticket is None:  # handled, or flagged by another run in the meantime
                continue
            ticket.sla_breached_at = now
            ticket.save(update_fields=["sla_breached_at"])
            if ticket.shop_id is not None and ticket.escalated_at is None:
                _escalate(ticket, actor=None, reason=_("The SLA deadline passed."))
            emit("ticket_sla.breached", **event_payload(ticket))
            flagged += 1
    if flagged:
        log.info("flagged %s overdue tickets", flagged)
    return flagged
