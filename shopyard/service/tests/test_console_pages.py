"""Seller console pages of customer service: the conversation queue with
unread counts, a conversation with canned replies and cards, canned replies,
questions to answer, tickets with SLA deadlines and internal notes; another
shop's ids are 404."""

import pytest
from django.urls import reverse

from shopyard.service import conversations, qa, tickets
from shopyard.service.models import Answer, CannedReply, Conversation, Ticket, TicketMessage

pytestmark = pytest.mark.django_db


def test_queue_shows_unread_counts_and_the_conversation_page_reads_them(seller_client, shopper, seller, shop,
                                                                         product):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk, product_id=product.pk)
    conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="有货吗")
    html = seller_client.get(reverse("console:service_conversations")).content.decode()
    assert f'data-conversation="{conversation.pk}"' in html and '<span class="badge" data-unread>2</span>' in html
    assert "Unassigned (1)" in html
    page = seller_client.get(reverse("console:service_conversation", args=[conversation.pk])).content.decode()
    assert "有货吗" in page and f'data-product-card="{product.pk}"' in page
    conversation.refresh_from_db()
    assert conversation.shop_read_id == conversation.messages.order_by("-id").first().pk


def test_agent_replies_with_a_canned_reply_assigns_and_closes(seller_client, shopper, seller, shop):
    reply = conversations.create_canned_reply(actor=seller, shop=shop, title="问候", body="您好，欢迎光临")
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    resp = seller_client.post(reverse("console:service_conversation_send", args=[conversation.pk]),
                              {"canned": reply.pk, "body": ""})
    assert resp.status_code == 302
    assert list(conversation.messages.values_list("side", "body")) == [("shop", "您好，欢迎光临")]
    seller_client.post(reverse("console:service_conversation_assign", args=[conversation.pk]), {"assignee": ""})
    assert Conversation.objects.get().assignee_id is None
    seller_client.post(reverse("console:service_conversation_close", args=[conversation.pk]))
    assert Conversation.objects.get().status == "closed"


def test_another_shops_conversation_ticket_and_canned_reply_are_404(seller_client, other_shopper, other_shop):
    theirs = conversations.open_conversation(actor=other_shopper, shop_id=other_shop.pk)
    ticket = tickets.open_ticket(actor=other_shopper, shop_id=other_shop.pk, category="other", subject="s", body="b")
    owner = other_shop.members.get().user
    reply = conversations.create_canned_reply(actor=owner, shop=other_shop, title="t", body="b")
    for name in ("console:service_conversation", "console:service_conversation_messages",
                 "console:service_ticket"):
        pk = ticket.pk if "ticket" in name else theirs.pk
        assert seller_client.get(reverse(name, args=[pk])).status_code == 404, name
    for name, pk in (("console:service_conversation_send", theirs.pk), ("console:service_conversation_close", theirs.pk),
                     ("console:service_ticket_reply", ticket.pk), ("console:service_ticket_action", ticket.pk),
                     ("console:service_canned_delete", reply.pk)):
        assert seller_client.post(reverse(name, args=[pk]), {"body": "x", "action": "start"}).status_code == 404, name
    assert theirs.messages.count() == 0 and CannedReply.objects.count() == 1
    assert Ticket.objects.get().status == "open"


def test_canned_replies_page_creates_edits_and_refuses_empty(seller_client, shop):
    url = reverse("console:service_canned")
    assert seller_client.post(url, {"title": "发货", "body": "48 小时内发货"}).status_code == 302
    reply = CannedReply.objects.get()
    seller_client.post(url, {"id": reply.pk, "title": "发货", "body": "24 小时内发货"})
    assert CannedReply.objects.get().body == "24 小时内发货"
    bad = seller_client.post(url, {"title": "", "body": "x"})
    assert bad.status_code == 422 and "This field is required." in bad.content.decode()
    assert CannedReply.objects.count() == 1


def test_questions_page_lists_unanswered_and_answers(seller_client, shopper, shop, product):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="是正品吗？")
    assert "是正品吗？" in seller_client.get(reverse("console:service_questions")).content.decode()
    seller_client.post(reverse("console:service_question_answer", args=[question.pk]), {"text": "官方正品"})
    assert list(Answer.objects.values_list("role", "text")) == [("shop", "官方正品")]
    assert "是正品吗？" not in seller_client.get(reverse("console:service_questions")).content.decode()


def test_ticket_queue_and_page_with_internal_notes_and_escalation(seller_client, shopper, shop):
    ticket = tickets.open_ticket(actor=shopper, shop_id=shop.pk, category="product", priority="high",
                                 subject="破损", body="收到时破了")
    html = seller_client.get(reverse("console:service_tickets")).content.decode()
    assert f'data-ticket="{ticket.pk}"' in html
    seller_client.post(reverse("console:service_ticket_reply", args=[ticket.pk]), {"body": "内部：查仓库", "internal": "1"})
    seller_client.post(reverse("console:service_ticket_action", args=[ticket.pk]), {"action": "start"})
    page = seller_client.get(reverse("console:service_ticket", args=[ticket.pk])).content.decode()
    assert "内部：查仓库" in page and 'data-action="resolve"' in page
    assert list(TicketMessage.objects.values_list("internal", flat=True)) == [False, True]
    seller_client.post(reverse("console:service_ticket_action", args=[ticket.pk]),
                       {"action": "escalate", "reason": "需要平台介入"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.escalation_reason) == ("escalated", "需要平台介入")
    page = seller_client.get(reverse("console:service_ticket", args=[ticket.pk])).content.decode()
    assert 'data-action="resolve"' not in page


def test_operator_ticket_pages(client, home_operator, shopper, shop):
    ticket = tickets.open_ticket(actor=shopper, category="account", subject="账号", body="登不上")
    client.force_login(home_operator)
    html = client.get(reverse("service:operator_tickets")).content.decode()
    assert f'data-ticket="{ticket.pk}"' in html
    client.post(reverse("service:operator_ticket_reply", args=[ticket.pk]), {"body": "内部", "internal": "1"})
    client.post(reverse("service:operator_ticket_action", args=[ticket.pk]), {"action": "resolve"})
    assert Ticket.objects.get().status == "resolved"
    assert TicketMessage.objects.filter(internal=True).count() == 1
    shopper_client_html = client.get(reverse("service:operator_ticket", args=[ticket.pk])).content.decode()
    assert "内部" in shopper_client_html
