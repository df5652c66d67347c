"""The customer-service API: Q&A, conversations and tickets for shoppers,
shops and operators, with bad input answered 4xx with a field message and
nothing written, and foreign ids 404."""

import io

import pytest
from PIL import Image

from shopyard.service import conversations, qa, tickets
from shopyard.service.models import (
    Answer,
    CannedReply,
    Conversation,
    ConversationMessage,
    Question,
    Ticket,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_token(home_operator):
    return f.token_for(home_operator)


def _png_bytes(size=(16, 16)):
    out = io.BytesIO()
    Image.new("RGB", size, (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def _counts():
    return tuple(m.objects.count() for m in (Question, Answer, Conversation, ConversationMessage, Ticket,
                                             CannedReply))


# --- Q&A ------------------------------------------------------------------------------

def test_qa_over_the_api(api, shopper_token, seller_token, product):
    resp = api.post(f"/products/{product.pk}/questions", {"text": "有赠品吗？"}, token=shopper_token)
    assert resp.status_code == 201, resp.content
    question_id = resp.json()["id"]
    assert api.get(f"/products/{product.pk}/questions").json()["meta"]["count"] == 0  # not answered yet
    unanswered = api.get("/seller/questions?unanswered=true", token=seller_token).json()
    assert [q["id"] for q in unanswered["results"]] == [question_id]
    resp = api.post(f"/seller/questions/{question_id}/answers", {"text": "送贴膜"}, token=seller_token)
    assert resp.status_code == 201 and resp.json()["role"] == "shop"
    listing = api.get(f"/products/{product.pk}/questions").json()
    assert listing["meta"]["count"] == 1
    assert [(q["text"], [a["text"] for a in q["answers"]]) for q in listing["results"]] == [("有赠品吗？", ["送贴膜"])]


@pytest.mark.parametrize("body, field, message", [
    ({"text": ""}, "text", "This field is required."),
    ({}, "text", "This field is required."),
    ({"text": "问" * 201}, "text", "Use at most 200 characters."),
])
def test_bad_questions_are_422(api, shopper_token, product, body, field, message):
    resp = api.post(f"/products/{product.pk}/questions", body, token=shopper_token)
    assert resp.status_code == 422
    assert resp.json()["fields"] == {field: [message]}
    assert _counts() == (0, 0, 0, 0, 0, 0)


def test_non_members_cannot_answer_as_the_shop_and_non_buyers_not_as_buyers(api, shopper, product, other_shopper):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="包邮吗")
    stranger = f.token_for(other_shopper)
    assert api.post(f"/seller/questions/{question.pk}/answers", {"text": "包"}, token=stranger).status_code == 403
    assert api.post(f"/questions/{question.pk}/answers", {"text": "包"}, token=stranger).status_code == 403
    other_shop_owner = f.make_user("owner-x")
    f.make_shop("别家", owner=other_shop_owner)
    resp = api.post(f"/seller/questions/{question.pk}/answers", {"text": "包"}, token=f.token_for(other_shop_owner))
    assert resp.status_code == 404
    assert Answer.objects.count() == 0
    assert api.post("/products/999999/questions", {"text": "hi"}, token=stranger).status_code == 404


def test_operators_hide_over_the_api(api, shopper, seller, shop, product, operator_token, seller_token):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="垃圾")
    answer = qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="广告")
    assert api.post(f"/operator/answers/{answer.pk}/hide", {"reason": "x"}, token=seller_token).status_code == 403
    resp = api.post(f"/operator/answers/{answer.pk}/hide", {"reason": ""}, token=operator_token)
    assert (resp.status_code, resp.json()["fields"]) == (422, {"reason": ["This field is required."]})
    assert api.post(f"/operator/answers/{answer.pk}/hide", {"reason": "广告"}, token=operator_token).status_code == 200
    assert api.post(f"/operator/questions/{question.pk}/hide", {"reason": "辱骂"},
                    token=operator_token).status_code == 200
    assert api.post(f"/operator/questions/{question.pk}/hide", {"reason": "辱骂"},
                    token=operator_token).status_code == 409
    assert api.post("/operator/questions/999999/hide", {"reason": "x"}, token=operator_token).status_code == 404


# --- conversations --------------------------------------------------------------------

def test_conversation_over_the_api(api, client, shopper_token, seller_token, shop, product, media):
    resp = api.post("/service/conversations", {"shop_id": shop.pk, "product_id": product.pk}, token=shopper_token)
    assert resp.status_code == 200, resp.content
    thread = resp.json()
    conversation_id = thread["conversation"]["id"]
    assert [m["product"]["id"] for m in thread["messages"]] == [product.pk]
    assert api.post(f"/service/conversations/{conversation_id}/messages", {"body": "在吗"},
                    token=shopper_token).status_code == 201
    image = io.BytesIO(_png_bytes())
    image.name = "p.png"
    resp = client.post(f"/api/v1/service/conversations/{conversation_id}/images", {"image": image, "body": "看图"},
                       **f.auth(shopper_token))
    assert resp.status_code == 201, resp.content
    assert resp.json()["image_url"].endswith(".png") and resp.json()["body"] == "看图"
    queue = api.get("/seller/conversations?view=unassigned", token=seller_token).json()
    assert [(c["id"], c["unread"]) for c in queue["results"]] == [(conversation_id, 3)]
    assert queue["counts"]["unread"] == 3
    assert api.post(f"/seller/conversations/{conversation_id}/read", token=seller_token).json()["read_up_to"] > 0
    reply = api.post(f"/seller/conversations/{conversation_id}/messages", {"body": "在的"}, token=seller_token)
    assert reply.status_code == 201
    mine = api.get("/service/conversations", token=shopper_token).json()
    assert [c["unread"] for c in mine["results"]] == [1]
    detail = api.get(f"/service/conversations/{conversation_id}", token=shopper_token).json()
    # the shop has read everything up to its own reply (the shopper's read receipt to show)
    assert detail["read_up_to"] == reply.json()["id"]
    closed = api.post(f"/seller/conversations/{conversation_id}/close", token=seller_token).json()
    assert closed["status"] == "closed" and closed["first_response_seconds"] is not None


def test_conversation_bad_input(api, client, shopper, other_shopper, shopper_token, seller_token, shop, other_shop,
                                sku, other_sku, address, media):
    theirs_order = f.make_paid_order(other_shopper, f.make_address(other_shopper), [(sku, 1)])
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    theirs = conversations.open_conversation(actor=other_shopper, shop_id=shop.pk)
    before = _counts()
    url = f"/service/conversations/{conversation.pk}/messages"
    assert api.post(url, {"body": ""}, token=shopper_token).json()["fields"] == {
        "body": ["Write a message, or attach a picture or a card."]}
    assert api.post(url, {"body": "x" * 1001}, token=shopper_token).status_code == 422
    assert api.post(url, {"order_id": theirs_order.pk}, token=shopper_token).status_code == 404
    assert api.post(url, {"product_id": other_sku.product_id}, token=shopper_token).status_code == 404
    assert api.post(f"/service/conversations/{theirs.pk}/messages", {"body": "hi"},
                    token=shopper_token).status_code == 404
    assert api.get(f"/service/conversations/{theirs.pk}", token=shopper_token).status_code == 404
    assert api.post("/service/conversations", {"shop_id": 999999}, token=shopper_token).status_code == 404
    not_image = io.BytesIO(b"GIF89a not really")
    not_image.name = "x.gif"
    resp = client.post(f"/api/v1/service/conversations/{conversation.pk}/images", {"image": not_image},
                       **f.auth(shopper_token))
    assert (resp.status_code, resp.json()["fields"]) == (422, {"image": ["Upload a valid JPEG, PNG, WebP or GIF image."]})
    # a seller of another shop sees none of this shop's conversations
    other_owner_token = f.token_for(other_shop.members.get().user)
    assert api.get(f"/seller/conversations/{conversation.pk}", token=other_owner_token).status_code == 404
    assert api.post(f"/seller/conversations/{conversation.pk}/assign", {"assignee_id": shopper.pk},
                    token=seller_token).status_code == 422
    assert _counts() == before


def test_oversized_image_over_the_api(client, shopper, shopper_token, shop, media, settings):
    settings.SERVICE_IMAGE_MAX_BYTES = 50
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    image = io.BytesIO(_png_bytes((64, 64)))
    image.name = "big.png"
    resp = client.post(f"/api/v1/service/conversations/{conversation.pk}/images", {"image": image},
                       **f.auth(shopper_token))
    assert resp.status_code == 422 and list(resp.json()["fields"]) == ["image"]
    assert ConversationMessage.objects.count() == 0


def test_canned_replies_over_the_api(api, seller_token, shop):
    created = api.post("/seller/canned-replies", {"title": "问候", "body": "您好"}, token=seller_token)
    assert created.status_code == 201
    reply_id = created.json()["id"]
    assert api.put(f"/seller/canned-replies/{reply_id}", {"title": "问候", "body": "您好！"},
                   token=seller_token).json()["body"] == "您好！"
    assert api.post("/seller/canned-replies", {"title": "", "body": "x"}, token=seller_token).status_code == 422
    assert [r["title"] for r in api.get("/seller/canned-replies", token=seller_token).json()] == ["问候"]
    assert api.delete(f"/seller/canned-replies/{reply_id}", token=seller_token).status_code == 204
    assert api.delete(f"/seller/canned-replies/{reply_id}", token=seller_token).status_code == 404


# --- tickets --------------------------------------------------------------------------

def test_ticket_flow_over_the_api(api, shopper_token, seller_token, operator_token, shop):
    categories = api.get("/service/ticket-categories").json()
    assert "delivery" in [c["code"] for c in categories]
    resp = api.post("/service/tickets", {"shop_id": shop.pk, "category": "delivery", "priority": "urgent",
                                         "subject": "没收到货", "body": "显示签收但没收到"}, token=shopper_token)
    assert resp.status_code == 201, resp.content
    ticket_id = resp.json()["id"]
    assert resp.json()["actions"] == ["escalate"]
    api.post(f"/seller/tickets/{ticket_id}/messages", {"body": "内部：查监控", "internal": True}, token=seller_token)
    api.post(f"/seller/tickets/{ticket_id}/actions", {"action": "start"}, token=seller_token)
    shopper_view = api.get(f"/service/tickets/{ticket_id}", token=shopper_token).json()
    assert [m["body"] for m in shopper_view["messages"]] == ["显示签收但没收到"]
    agent_view = api.get(f"/seller/tickets/{ticket_id}", token=seller_token).json()
    assert [m["internal"] for m in agent_view["messages"]] == [False, True]
    assert [t["id"] for t in api.get("/seller/tickets", token=seller_token).json()["results"]] == [ticket_id]
    escalated = api.post(f"/service/tickets/{ticket_id}/escalate", {"reason": "不满意"}, token=shopper_token)
    assert escalated.json()["status"] == "escalated"
    assert api.post(f"/seller/tickets/{ticket_id}/actions", {"action": "resolve"},
                    token=seller_token).status_code == 403
    platform = api.get("/operator/tickets", token=operator_token).json()
    assert [t["id"] for t in platform["results"]] == [ticket_id]
    assert api.get("/operator/tickets", token=seller_token).status_code == 403
    assert api.post(f"/operator/tickets/{ticket_id}/actions", {"action": "resolve", "note": "退款"},
                    token=operator_token).json()["status"] == "resolved"
    assert api.post(f"/service/tickets/{ticket_id}/actions", {"action": "close"},
                    token=shopper_token).json()["status"] == "closed"
    # closed: a further close is an illegal transition
    assert api.post(f"/service/tickets/{ticket_id}/actions", {"action": "close"},
                    token=shopper_token).status_code == 409


@pytest.mark.parametrize("body, fields", [
    ({"category": "bogus", "subject": "s", "body": "b"}, {"category": ["Choose one of the listed categories."]}),
    ({"category": "other", "priority": "p0", "subject": "s", "body": "b"},
     {"priority": ["Choose low, normal, high or urgent."]}),
    ({"category": "other", "subject": "", "body": "b"}, {"subject": ["This field is required."]}),
    ({"category": "other", "subject": "s", "body": "x" * 1001}, {"body": ["Use at most 1000 characters."]}),
])
def test_bad_tickets_are_422(api, shopper_token, body, fields):
    resp = api.post("/service/tickets", body, token=shopper_token)
    assert (resp.status_code, resp.json()["fields"]) == (422, fields)
    assert Ticket.objects.count() == 0


def test_foreign_tickets_and_orders_are_404(api, shopper, other_shopper, shopper_token, seller_token, shop,
                                            other_shop, sku, address):
    theirs = tickets.open_ticket(actor=other_shopper, shop_id=other_shop.pk, category="other", subject="s", body="b")
    theirs_order = f.make_paid_order(other_shopper, f.make_address(other_shopper), [(sku, 1)])
    assert api.get(f"/service/tickets/{theirs.pk}", token=shopper_token).status_code == 404
    assert api.post(f"/service/tickets/{theirs.pk}/messages", {"body": "x"}, token=shopper_token).status_code == 404
    assert api.get(f"/seller/tickets/{theirs.pk}", token=seller_token).status_code == 404
    resp = api.post("/service/tickets", {"shop_id": shop.pk, "order_id": theirs_order.pk, "category": "other",
                                         "subject": "s", "body": "b"}, token=shopper_token)
    assert resp.status_code == 404
    assert Ticket.objects.count() == 1


def test_operators_see_every_conversation_and_assign_tickets(api, shopper, other_shopper, shop, other_shop,
                                                             home_operator, operator_token, seller_token,
                                                             shopper_token):
    a = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    b = conversations.open_conversation(actor=other_shopper, shop_id=other_shop.pk)
    listing = api.get("/operator/conversations", token=operator_token).json()
    assert {c["id"] for c in listing["results"]} == {a.pk, b.pk}
    assert api.get(f"/operator/conversations?shop_id={other_shop.pk}", token=operator_token).json()["meta"][
        "count"] == 1
    assert api.get(f"/operator/conversations/{b.pk}", token=operator_token).status_code == 200
    assert api.get("/operator/conversations", token=shopper_token).status_code == 403
    assert api.get(f"/operator/conversations/{b.pk}", token=seller_token).status_code == 403
    ticket = tickets.open_ticket(actor=shopper, category="account", subject="s", body="b")
    resp = api.post(f"/operator/tickets/{ticket.pk}/assign", {"assignee_id": home_operator.pk}, token=operator_token)
    assert resp.json()["assignee_id"] == home_operator.pk
    resp = api.post(f"/operator/tickets/{ticket.pk}/assign", {"assignee_id": shopper.pk}, token=operator_token)
    assert (resp.status_code, list(resp.json()["fields"])) == (422, ["assignee_id"])
    shop_ticket = tickets.open_ticket(actor=shopper, shop_id=shop.pk, category="other", subject="s", body="b")
    seller_id = shop.members.get().user_id
    assert api.post(f"/seller/tickets/{shop_ticket.pk}/assign", {"assignee_id": seller_id},
                    token=seller_token).json()["assignee_id"] == seller_id
    assert api.post(f"/seller/tickets/{ticket.pk}/assign", {"assignee_id": seller_id},
                    token=seller_token).status_code == 404


def test_questions_of_an_unknown_or_hidden_product_are_404(api, shop):
    draft = f.make_product(shop, publish=False)
    assert api.get(f"/products/{draft.pk}/questions").status_code == 404
    assert api.get("/products/999999/questions").status_code == 404
