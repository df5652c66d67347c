"""A demanding shopper's ticket sequences: a reopened ticket runs on its new deadline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.service import tickets
from shopyard.service.models import Ticket
from shopyard.service.queries import operator_tickets

pytestmark = pytest.mark.django_db


def test_a_reopened_ticket_runs_on_its_new_deadline(shopper, home_operator):
    # given a ticket to the platform the SLA job flagged, then resolved
    ticket = tickets.open_ticket(actor=shopper, category="account", priority="normal", subject="账号", body="登不上")
    later = timezone.now() + timedelta(hours=30)
    assert tickets.escalate_overdue(now=later) == 1
    tickets.act(actor=home_operator, operator=True, ticket_id=ticket.pk, action="resolve")
    # when the shopper reopens it (a new 24-hour deadline)
    tickets.act(actor=shopper, ticket_id=ticket.pk, action="reopen")
    ticket.refresh_from_db()
    # then it is not overdue until that deadline passes, and the job flags it again once it does
    assert ticket.sla_breached_at is None
    assert ticket.pk not in set(operator_tickets(view="overdue").values_list("pk", flat=True))
    again = ticket.due_at + timedelta(minutes=1)
    assert tickets.escalate_overdue(now=again) == 1
    assert Ticket.objects.get(pk=ticket.pk).sla_breached_at == again
    assert ticket.pk in set(operator_tickets(view="overdue").values_list("pk", flat=True))


def test_time_waiting_for_the_customer_does_not_count_against_the_sla(shopper, seller, shop):
    # given a shop's ticket (24 hours) the agent put to the customer at once, who answered 30 hours later
    from shopyard.service.models import TicketStatusChange

    ticket = tickets.open_ticket(actor=shopper, shop_id=shop.pk, category="delivery", priority="normal",
                                 subject="物流慢", body="三天没动")
    tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action="start")
    tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action="wait")
    ago = timedelta(hours=30)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - ago,
                                               due_at=timezone.now() - ago + timedelta(hours=24))
    TicketStatusChange.objects.filter(ticket=ticket).update(created_at=timezone.now() - ago)
    # when the shopper replies now
    tickets.add_message(actor=shopper, ticket_id=ticket.pk, body="还是没到")
    # then the agent still has the 24 hours minus what they used (none), not an overdue ticket
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert ticket.due_at > timezone.now() + timedelta(hours=23, minutes=59)
    assert tickets.escalate_overdue(now=timezone.now() + timedelta(minutes=1)) == 0


def test_the_shopper_sees_the_shop_and_the_platform_not_staff_login_names(client, api, shopper, shopper_token,
                                                                          seller, shop, home_operator):
    # given a shop's ticket the shop's agent answered, then escalated and answered by an operator
    from shopyard.core.i18n import localized

    ticket = tickets.open_ticket(actor=shopper, shop_id=shop.pk, category="delivery", priority="normal",
                                 subject="物流慢", body="三天没动")
    tickets.add_message(actor=seller, shop=shop, ticket_id=ticket.pk, body="我们正在处理")
    tickets.escalate(actor=shopper, ticket_id=ticket.pk, reason="太慢")
    tickets.add_message(actor=home_operator, operator=True, ticket_id=ticket.pk, body="平台已介入")
    # when the shopper reads it on the page and through the API
    client.force_login(shopper)
    html = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    messages = api.get(f"/service/tickets/{ticket.pk}", token=shopper_token).json()["messages"]
    # then the replies are the shop's and the platform's; no staff login name shows
    assert [m["author"] for m in messages] == [shopper.username, localized(shop, "name"), "the platform"]
    assert seller.username not in html and home_operator.username not in html
    # and the shop's agent does not see the operator's login name either
    from shopyard.service.queries import ticket_messages
    from shopyard.service.state import Role

    seen = [m.shown_author for m in ticket_messages(ticket, include_internal=True, viewer=Role.AGENT)]
    assert seen == [shopper.username, seller.username, "the platform"]
