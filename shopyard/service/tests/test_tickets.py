"""Tickets: complaints to a shop or to the platform with category, priority,
SLA deadline, internal notes, escalation, and a state machine walked pair by
pair; the SLA job flags and escalates each overdue ticket exactly once, also
when two runs race."""

import itertools
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from shopyard.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shopyard.core.periodic import jobs
from shopyard.service import tickets
from shopyard.service.models import Ticket, TicketMessage, TicketStatusChange
from shopyard.service.queries import (
    operator_tickets,
    shop_tickets,
    shopper_tickets,
    ticket_messages,
)
from shopyard.service.state import TICKET_TRANSITIONS, TicketAction, TicketStatus, ticket_actions
from tests import factories as f

pytestmark = pytest.mark.django_db


def _open(shopper, shop=None, **kw):
    fields = {"category": "delivery", "priority": "normal", "subject": "物流慢", "body": "三天没动"}
    fields.update(kw)
    return tickets.open_ticket(actor=shopper, shop_id=getattr(shop, "pk", None), **fields)


def _world():
    return (sorted(Ticket.objects.values_list("id", "status", "priority", "assignee", "escalated_at",
                                              "sla_breached_at", "due_at")),
            TicketMessage.objects.count(), TicketStatusChange.objects.count())


def test_a_ticket_gets_its_sla_deadline_from_its_priority(shopper, shop, settings):
    settings.SERVICE_SLA_HOURS = {"urgent": 2, "high": 8, "normal": 24, "low": 72}
    before = timezone.now()
    urgent = _open(shopper, shop, priority="urgent")
    low = _open(shopper, None, priority="low", category="account")
    assert before + timedelta(hours=2) <= urgent.due_at <= timezone.now() + timedelta(hours=2)
    assert before + timedelta(hours=72) <= low.due_at <= timezone.now() + timedelta(hours=72)
    assert (urgent.shop_id, low.shop_id, urgent.status, urgent.number.startswith("TK")) == (shop.pk, None, "open", True)
    assert list(urgent.messages.values_list("role", "body", "internal")) == [("shopper", "三天没动", False)]


@pytest.mark.parametrize("fields, errors", [
    ({"category": "nonsense"}, {"category": ["Choose one of the listed categories."]}),
    ({"priority": "asap"}, {"priority": ["Choose low, normal, high or urgent."]}),
    ({"subject": "  "}, {"subject": ["This field is required."]}),
    ({"subject": "长" * 121}, {"subject": ["Use at most 120 characters."]}),
    ({"body": ""}, {"body": ["This field is required."]}),
    ({"body": "x" * 1001}, {"body": ["Use at most 1000 characters."]}),
])
def test_bad_ticket_input_is_refused_and_writes_nothing(shopper, shop, fields, errors):
    with pytest.raises(ValidationFailed) as err:
        _open(shopper, shop, **fields)
    assert err.value.fields == errors
    assert _world() == ([], 0, 0)


def test_categories_are_configurable(shopper, settings):
    settings.SERVICE_TICKET_CATEGORIES = ["invoice"]
    assert _open(shopper, category="invoice").category == "invoice"
    with pytest.raises(ValidationFailed):
        _open(shopper, category="delivery")


def test_foreign_orders_and_unknown_shops_are_404(shopper, other_shopper, shop, other_shop, sku, other_sku, address):
    mine = f.make_paid_order(shopper, address, [(sku, 1)])
    theirs = f.make_paid_order(other_shopper, f.make_address(other_shopper), [(sku, 1)])
    with pytest.raises(NotFound):
        _open(shopper, shop, order_id=theirs.pk)
    with pytest.raises(NotFound):  # my order, but of another shop than the one named
        _open(shopper, other_shop, order_id=mine.pk)
    with pytest.raises(NotFound):
        tickets.open_ticket(actor=shopper, shop_id=999999, category="other", subject="s", body="b")
    assert _world() == ([], 0, 0)
    assert _open(shopper, shop, order_id=mine.pk).order_id == mine.pk


# --- the state machine ------------------------------------------------------------------

ALL_PAIRS = list(itertools.product(TicketStatus.values, TicketAction.values))


@pytest.mark.parametrize("status, action", ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_every_status_action_pair_follows_the_table(status, action, shopper, seller, shop):
    ticket = _open(shopper, shop)
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    ticket.refresh_from_db()
    history = TicketStatusChange.objects.filter(ticket=ticket).count()
    target = TICKET_TRANSITIONS.get((status, action))
    if target is not None:
        result = tickets.transition(ticket, action, actor=seller, note="table walk")
        ticket.refresh_from_db()
        assert result.status == target == ticket.status
        change = TicketStatusChange.objects.filter(ticket=ticket).order_by("-id").first()
        assert (change.from_status, change.to_status, change.action, change.actor_id) == (status, target, action,
                                                                                          seller.pk)
    else:
        with pytest.raises(InvalidTransition):
            tickets.transition(ticket, action, actor=seller)
        ticket.refresh_from_db()
        assert ticket.status == status
        assert TicketStatusChange.objects.filter(ticket=ticket).count() == history


def test_the_table_reaches_every_status():
    assert set(TICKET_TRANSITIONS.values()) | {TicketStatus.OPEN} == set(TicketStatus.values)
    assert ticket_actions(TicketStatus.CLOSED) == set()


def test_shop_agent_carries_a_ticket_to_its_end_and_the_shopper_closes_it(shopper, seller, shop):
    ticket = _open(shopper, shop)
    tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action="start")
    tickets.add_message(actor=seller, shop=shop, ticket_id=ticket.pk, body="请提供照片", internal=False)
    tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action="wait")
    # the shopper's reply puts it back in progress
    tickets.add_message(actor=shopper, ticket_id=ticket.pk, body="照片已发")
    assert Ticket.objects.get().status == "in_progress"
    tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action="resolve", note="补发")
    # the shopper reopens, then confirms
    tickets.act(actor=shopper, ticket_id=ticket.pk, action="reopen")
    tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action="resolve")
    ticket = tickets.act(actor=shopper, ticket_id=ticket.pk, action="close")
    assert (ticket.status, ticket.assignee_id, ticket.closed_at is not None) == ("closed", seller.pk, True)
    assert list(TicketStatusChange.objects.filter(ticket=ticket).values_list("to_status", flat=True)) == [
        "open", "in_progress", "waiting_customer", "in_progress", "resolved", "open", "resolved", "closed"]
    # a closed ticket takes no more messages
    with pytest.raises(Conflict):
        tickets.add_message(actor=shopper, ticket_id=ticket.pk, body="再说一句")


def test_a_shopper_cannot_resolve_and_an_illegal_move_is_409(client, shopper, shop):
    ticket = _open(shopper, shop)
    before = _world()
    with pytest.raises(PermissionDenied):
        tickets.act(actor=shopper, ticket_id=ticket.pk, action="resolve")
    with pytest.raises(InvalidTransition):
        tickets.act(actor=shopper, ticket_id=ticket.pk, action="close")
    with pytest.raises(ValidationFailed):
        tickets.act(actor=shopper, ticket_id=ticket.pk, action="customer_reply")
    assert _world() == before


def test_internal_notes_are_never_shown_to_the_shopper(client, shopper, seller, shop):
    ticket = _open(shopper, shop)
    tickets.add_message(actor=seller, shop=shop, ticket_id=ticket.pk, body="内部：此客户多次投诉", internal=True)
    tickets.add_message(actor=seller, shop=shop, ticket_id=ticket.pk, body="我们正在处理")
    # the shopper cannot write one either
    with pytest.raises(PermissionDenied):
        tickets.add_message(actor=shopper, ticket_id=ticket.pk, body="x", internal=True)
    assert [m.body for m in ticket_messages(ticket, include_internal=False)] == ["三天没动", "我们正在处理"]
    client.force_login(shopper)
    html = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    assert "我们正在处理" in html and "此客户多次投诉" not in html


def test_escalation_hands_a_shop_ticket_to_the_platform_once(shopper, seller, shop, home_operator):
    ticket = _open(shopper, shop)
    with pytest.raises(ValidationFailed):
        tickets.escalate(actor=shopper, ticket_id=ticket.pk, reason="")
    ticket = tickets.escalate(actor=shopper, ticket_id=ticket.pk, reason="商家不理")
    assert (ticket.status, ticket.escalation_reason, ticket.at_platform) == ("escalated", "商家不理", True)
    with pytest.raises(Conflict):
        tickets.escalate(actor=seller, shop=shop, ticket_id=ticket.pk, reason="again")
    # the shop's agent may still write, but no longer moves it
    tickets.add_message(actor=seller, shop=shop, ticket_id=ticket.pk, body="内部备注", internal=True)
    with pytest.raises(PermissionDenied):
        tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action="resolve")
    assert [t.pk for t in operator_tickets(view="platform")] == [ticket.pk]
    tickets.act(actor=home_operator, operator=True, ticket_id=ticket.pk, action="start")
    assert tickets.act(actor=home_operator, operator=True, ticket_id=ticket.pk, action="resolve").status == "resolved"
    # a ticket to the platform cannot be escalated
    platform = _open(shopper, None, category="account")
    with pytest.raises(Conflict):
        tickets.escalate(actor=shopper, ticket_id=platform.pk, reason="x")


def test_scoping_shopper_shop_and_operator(shopper, other_shopper, seller, shop, other_shop, home_operator):
    mine = _open(shopper, shop)
    theirs = _open(other_shopper, other_shop)
    platform = _open(other_shopper, None, category="account")
    other_seller = other_shop.members.get().user
    assert [t.pk for t in shopper_tickets(shopper)] == [mine.pk]
    assert [t.pk for t in shop_tickets(shop, view="all")] == [mine.pk]
    assert {t.pk for t in operator_tickets(view="all")} == {mine.pk, theirs.pk, platform.pk}
    before = _world()
    for call in (lambda: tickets.add_message(actor=shopper, ticket_id=theirs.pk, body="hi"),
                 lambda: tickets.add_message(actor=other_seller, shop=other_shop, ticket_id=mine.pk, body="hi"),
                 lambda: tickets.act(actor=seller, shop=shop, ticket_id=platform.pk, action="start"),
                 lambda: tickets.escalate(actor=shopper, ticket_id=theirs.pk, reason="x"),
                 lambda: tickets.scoped_ticket(seller, mine.pk, operator=True)):
        with pytest.raises(NotFound):
            call()
    assert _world() == before


def test_ticket_pages_404_on_foreign_ids(client, shopper, other_shopper, shop):
    theirs = _open(other_shopper, shop)
    client.force_login(shopper)
    for name in ("service:ticket",):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    for name in ("service:ticket_reply", "service:ticket_action"):
        assert client.post(reverse(name, args=[theirs.pk]), {"body": "x", "action": "close"}).status_code == 404
    assert client.get(reverse("service:operator_ticket", args=[theirs.pk])).status_code == 302  # staff only


def test_new_ticket_page_opens_one_and_shows_field_errors(client, shopper, shop):
    client.force_login(shopper)
    page = client.get(reverse("service:ticket_new") + f"?shop={shop.pk}")
    assert page.status_code == 200 and shop.name in page.content.decode()
    bad = client.post(reverse("service:ticket_new"), {"shop": shop.pk, "category": "x", "subject": "s", "body": "b"})
    assert bad.status_code == 422 and "Choose one of the listed categories." in bad.content.decode()
    assert Ticket.objects.count() == 0
    ok = client.post(reverse("service:ticket_new"), {"shop": shop.pk, "category": "product", "priority": "high",
                                                     "subject": "质量问题", "body": "开线了"})
    ticket = Ticket.objects.get()
    assert ok.status_code == 302 and ok["Location"] == reverse("service:ticket", args=[ticket.pk])
    assert (ticket.priority, ticket.shop_id) == ("high", shop.pk)
    listing = client.get(reverse("service:tickets")).content.decode()
    assert "质量问题" in listing


# --- SLA ------------------------------------------------------------------------------------

def test_the_sla_job_is_registered():
    assert jobs()["escalated_overdue_tickets"] is tickets.escalate_overdue


def test_overdue_tickets_are_flagged_and_escalated_exactly_once(shopper, seller, shop):
    late_shop = _open(shopper, shop, priority="urgent")
    late_platform = _open(shopper, None, category="account")
    on_time = _open(shopper, shop, priority="low")
    waiting = _open(shopper, shop)
    tickets.act(actor=seller, shop=shop, ticket_id=waiting.pk, action="start")
    tickets.act(actor=seller, shop=shop, ticket_id=waiting.pk, action="wait")
    later = timezone.now() + timedelta(hours=30)  # past urgent (4 h) and normal (24 h), not low (72 h)

    assert tickets.escalate_overdue(now=later) == 2
    late_shop.refresh_from_db()
    late_platform.refresh_from_db()
    assert (late_shop.status, late_shop.sla_breached_at, late_shop.escalated_at is not None) == (
        "escalated", later, True)
    assert (late_platform.status, late_platform.sla_breached_at) == ("open", later)
    assert Ticket.objects.get(pk=on_time.pk).sla_breached_at is None
    assert Ticket.objects.get(pk=waiting.pk).sla_breached_at is None  # waiting for the customer: no clock
    # a second run, even later, changes nothing more
    before = _world()
    assert tickets.escalate_overdue(now=later + timedelta(hours=1)) == 0
    assert _world() == before
    history = TicketStatusChange.objects.filter(ticket=late_shop, action="escalate")
    assert [(h.actor_id, h.actor_label) for h in history] == [(None, "system")]


@pytest.mark.django_db(transaction=True)
def test_two_racing_sla_runs_flag_each_ticket_once(shopper, shop):
    overdue = [_open(shopper, shop, priority="urgent") for _ in range(4)]
    later = timezone.now() + timedelta(hours=5)
    barrier = threading.Barrier(2)
    counts = [None, None]

    def run(i):
        try:
            barrier.wait(timeout=60)
            counts[i] = tickets.escalate_overdue(now=later)
        except Exception as exc:  # kept for the assert message
            counts[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(counts, key=str) and sum(counts) == 4, counts
    assert TicketStatusChange.objects.filter(action="escalate").count() == 4
    assert set(Ticket.objects.values_list("status", flat=True)) == {"escalated"}
    assert [t.pk for t in overdue] == sorted(Ticket.objects.values_list("pk", flat=True))
