"""A refused POST on a customer-service page (shopper, seller console,
operator) renders the page the form lives on with the error beside the form,
the error's status (422 bad input, 409 state conflict, 403 not allowed) and
what was typed kept; nothing is written."""

import pytest
from django.urls import reverse

from shopyard.service import conversations, qa, tickets
from shopyard.service.models import Answer, CannedReply, Conversation, Ticket, TicketMessage

pytestmark = pytest.mark.django_db

TOO_LONG = "长" * 1001


def _refused(resp, status, message):
    html = resp.content.decode()
    assert resp.status_code == status, html[:500]
    assert 'class="errorlist"' in html and f"<li>{message}</li>" in html
    return html


def _ticket(shopper, shop):
    return tickets.open_ticket(actor=shopper, shop_id=shop.pk, category="other", subject="开线", body="衣服开线了")


# --- shopper pages ---------------------------------------------------------------------------


def test_shopper_conversation_send_refused_shows_the_thread_with_the_error(client, shopper, shop):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    client.force_login(shopper)
    url = reverse("service:conversation_send", args=[conversation.pk])
    _refused(client.post(url, {"body": "  "}), 422, "Write a message, or attach a picture or a card.")
    html = _refused(client.post(url, {"body": TOO_LONG}), 422, "Use at most 1000 characters.")
    assert f">{TOO_LONG}</textarea>" in html and 'id="composer"' in html
    assert conversation.messages.count() == 0


def test_shopper_ticket_reply_and_actions_refused_render_the_ticket(client, shopper, seller, shop):
    ticket = _ticket(shopper, shop)
    client.force_login(shopper)
    reply = reverse("service:ticket_reply", args=[ticket.pk])
    action = reverse("service:ticket_action", args=[ticket.pk])
    html = _refused(client.post(reply, {"body": TOO_LONG}), 422, "Use at most 1000 characters.")
    assert f">{TOO_LONG}</textarea>" in html and ticket.number in html
    _refused(client.post(action, {"action": "fly"}), 422, "Choose start, wait, resolve, close or reopen.")
    _refused(client.post(action, {"action": "escalate", "reason": " "}), 422, "This field is required.")
    early = client.post(action, {"action": "close"})  # not resolved yet: the state machine refuses
    assert early.status_code == 409 and 'class="errorlist"' in early.content.decode()
    assert Ticket.objects.get().status == "open"
    for step in ("start", "resolve"):
        tickets.act(actor=seller, shop=shop, ticket_id=ticket.pk, action=step)
    assert client.post(action, {"action": "close"}).status_code == 302
    _refused(client.post(reply, {"body": "还在吗"}), 409, "This ticket is closed.")
    assert TicketMessage.objects.filter(ticket=ticket).count() == 1
    assert Ticket.objects.get().escalated_at is None


def test_shopper_who_did_not_buy_cannot_answer_and_sees_why(client, shopper, other_shopper, product):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="尺码准吗")
    client.force_login(other_shopper)
    resp = client.post(reverse("service:answer", args=[question.pk]), {"text": "很准", "product": product.pk})
    _refused(resp, 403, "Only the shop and shoppers who bought this product can answer.")
    assert Answer.objects.count() == 0


# --- seller console ----------------------------------------------------------------------------


def test_console_conversation_send_assign_and_close_refused(seller_client, shopper, shop):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    send = reverse("console:service_conversation_send", args=[conversation.pk])
    html = _refused(seller_client.post(send, {"body": TOO_LONG}), 422, "Use at most 1000 characters.")
    assert f">{TOO_LONG}</textarea>" in html
    other = shopper.pk  # a user who is not a member of the shop
    assign = reverse("console:service_conversation_assign", args=[conversation.pk])
    _refused(seller_client.post(assign, {"assignee": other}), 422, "Choose a member of the shop.")
    close = reverse("console:service_conversation_close", args=[conversation.pk])
    assert seller_client.post(close).status_code == 302
    closed_at = Conversation.objects.get().closed_at
    assert seller_client.post(close).status_code == 409
    assert conversation.messages.count() == 0
    assert (Conversation.objects.get().assignee_id, Conversation.objects.get().closed_at) == (None, closed_at)


def test_console_canned_reply_edit_refused_keeps_the_typed_text(seller_client, seller, shop):
    reply = conversations.create_canned_reply(actor=seller, shop=shop, title="问候", body="您好")
    resp = seller_client.post(reverse("console:service_canned"), {"id": reply.pk, "title": "", "body": "新的问候"})
    html = _refused(resp, 422, "This field is required.")
    assert "新的问候</textarea>" in html
    assert list(CannedReply.objects.values_list("title", "body")) == [("问候", "您好")]


def test_console_question_answer_refused_keeps_the_typed_text(seller_client, shopper, product):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="是正品吗？")
    resp = seller_client.post(reverse("console:service_question_answer", args=[question.pk]), {"text": TOO_LONG})
    html = _refused(resp, 422, "Use at most 1000 characters.")
    assert f">{TOO_LONG}</textarea>" in html and "是正品吗？" in html
    assert Answer.objects.count() == 0


def test_console_ticket_reply_and_actions_refused_render_the_ticket(seller_client, shopper, shop):
    ticket = _ticket(shopper, shop)
    reply = reverse("console:service_ticket_reply", args=[ticket.pk])
    action = reverse("console:service_ticket_action", args=[ticket.pk])
    html = _refused(seller_client.post(reply, {"body": TOO_LONG}), 422, "Use at most 1000 characters.")
    assert f">{TOO_LONG}</textarea>" in html
    _refused(seller_client.post(action, {"action": "fly"}), 422, "Choose start, wait, resolve, close or reopen.")
    assert seller_client.post(action, {"action": "escalate", "reason": "处理不了"}).status_code == 302
    _refused(seller_client.post(action, {"action": "escalate", "reason": "再试一次"}), 409,
             "This ticket was already escalated.")
    assert Ticket.objects.get().escalation_reason == "处理不了"
    assert not TicketMessage.objects.filter(ticket=ticket, body__startswith="长").exists()


# --- operator --------------------------------------------------------------------------------------


def test_operator_ticket_reply_refused_renders_the_ticket(client, shopper, home_operator):
    ticket = tickets.open_ticket(actor=shopper, category="account", subject="登录", body="登不上")
    client.force_login(home_operator)
    resp = client.post(reverse("service:operator_ticket_reply", args=[ticket.pk]), {"body": TOO_LONG})
    html = _refused(resp, 422, "Use at most 1000 characters.")
    assert f">{TOO_LONG}</textarea>" in html
    assert TicketMessage.objects.filter(ticket=ticket).count() == 1
