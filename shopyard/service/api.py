"""Customer service over HTTP: product Q&A, conversations and tickets for
shoppers, shops (`/seller`) and operators (`/operator`). Handlers parse,
authorise (a shop through shop_for_seller, operators by is_staff in the
services), call one service and serialise; every rule is the services'."""

from datetime import datetime

from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from shopyard.catalog.queries import visible_products
from shopyard.core.api_support import Id, InSchema, PageMeta, bearer, paginate, responses
from shopyard.core.errors import NotFound
from shopyard.shops.queries import shop_for_seller

from . import conversations, qa, queries, tickets
from .inputs import require_operator
from .kinds import categories, category_label
from .models import Conversation
from .state import Role, ticket_actions

router = Router(tags=["service"])
seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])

TEXT = 5000  # the services check the real limits (with a field message); this only bounds the body


class ServicePaging(Schema):
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


# --- Q&A ------------------------------------------------------------------------------

class AnswerOut(Schema):
    id: int
    text: str
    role: str
    created_at: datetime


class QuestionOut(Schema):
    id: int
    product_id: int
    text: str
    answer_count: int
    answers: list[AnswerOut]
    created_at: datetime


class QuestionPage(Schema):
    meta: PageMeta
    results: list[QuestionOut]


class TextIn(InSchema):
    text: str | None = Field(None, max_length=TEXT)


def answer_out(a) -> dict:
    return {"id": a.pk, "text": a.text, "role": a.role, "created_at": a.created_at}


def question_out(q, answers=None) -> dict:
    shown = answers if answers is not None else getattr(q, "shown_answers", [])
    return {"id": q.pk, "product_id": q.product_id, "text": q.text, "answer_count": q.answer_count,
            "answers": [answer_out(a) for a in shown], "created_at": q.created_at}


@router.get("/products/{product_id}/questions", response=responses({200: QuestionPage}))
def list_questions(request, product_id: Id, paging: Query[ServicePaging]):
    """Answered questions of a visible product, newest first, with their visible answers (the shop's first)."""
    if not visible_products().filter(pk=product_id).exists():
        raise NotFound()
    items, meta = paginate(queries.product_questions(product_id), paging.page, paging.page_size)
    return Status(200, {"meta": meta, "results": [question_out(q) for q in items]})


@router.post("/products/{product_id}/questions", response=responses({201: QuestionOut}), auth=bearer)
def ask_question(request, product_id: Id, payload: TextIn):
    """Ask the shop (and its buyers) a question; it shows once answered."""
    question = qa.ask_question(actor=request.auth, product_id=product_id, text=payload.text)
    return Status(201, question_out(question, []))


@router.post("/questions/{question_id}/answers", response=responses({201: AnswerOut}), auth=bearer)
def buyer_answer(request, question_id: Id, payload: TextIn):
    """Answer as a buyer: only shoppers who paid for the product (else 403)."""
    return Status(201, answer_out(qa.answer_question(actor=request.auth, question_id=question_id,
                                                     text=payload.text)))


class SellerQuestionFilters(ServicePaging):
    unanswered: bool = False
    shop_id: int | None = Field(None, ge=1, le=2**53)


@seller_router.get("/questions", response=responses({200: QuestionPage}), auth=bearer)
def seller_questions(request, filters: Query[SellerQuestionFilters]):
    shop = shop_for_seller(request.auth, filters.shop_id, perm="service")
    items, meta = paginate(queries.shop_questions(shop, unanswered=filters.unanswered), filters.page,
                           filters.page_size)
    return Status(200, {"meta": meta, "results": [question_out(q) for q in items]})


@seller_router.post("/questions/{question_id}/answers", response=responses({201: AnswerOut}), auth=bearer)
def seller_answer(request, question_id: Id, payload: TextIn):
    """Answer a question on one of the shop's products (another shop's question: 404)."""
    shop = shop_for_seller(request.auth, write=True, perm="service")
    return Status(201, answer_out(qa.answer_question(actor=request.auth, shop=shop, question_id=question_id,
                                                     text=payload.text)))


class HideReasonIn(InSchema):
    reason: str | None = Field(None, max_length=TEXT)


class HiddenOut(Schema):
    id: int
    hidden_at: datetime
    hidden_reason: str


def hidden_out(obj) -> dict:
    return {"id": obj.pk, "hidden_at": obj.hidden_at, "hidden_reason": obj.hidden_reason}


@operator_router.post("/questions/{question_id}/hide", response=responses({200: HiddenOut}), auth=bearer)
def hide_question(request, question_id: Id, payload: HideReasonIn):
    return Status(200, hidden_out(qa.hide_question(actor=request.auth, question_id=question_id,
                                                   reason=payload.reason)))


@operator_router.post("/answers/{answer_id}/hide", response=responses({200: HiddenOut}), auth=bearer)
def hide_answer(request, answer_id: Id, payload: HideReasonIn):
    return Status(200, hidden_out(qa.hide_answer(actor=request.auth, answer_id=answer_id, reason=payload.reason)))


@operator_router.post("/conversation-messages/{message_id}/hide", response=responses({200: HiddenOut}),
                      auth=bearer)
def hide_message(request, message_id: Id, payload: HideReasonIn):
    return Status(200, hidden_out(conversations.hide_message(actor=request.auth, message_id=message_id,
                                                             reason=payload.reason)))


# --- conversations --------------------------------------------------------------------

class ConversationOut(Schema):
    id: int
    shop_id: int
    shop_name: str
    user_id: int
    status: str
    assignee_id: int | None
    unread: int
    last_message_at: datetime | None
    first_response_seconds: int | None
    resolution_seconds: int | None


class ConversationPage(Schema):
    meta: PageMeta
    results: list[ConversationOut]


class CardOut(Schema):
    id: int
    title: str


class ChatMessageOut(Schema):
    id: int
    side: str
    body: str
    image_url: str | None
    product: CardOut | None
    order: CardOut | None
    created_at: datetime


class ThreadOut(Schema):
    conversation: ConversationOut
    read_up_to: int = Field(..., description="the last message id the other side has read (read receipt)")
    messages: list[ChatMessageOut]


def conversation_out(c) -> dict:
    return {"id": c.pk, "shop_id": c.shop_id, "shop_name": c.shop.name, "user_id": c.user_id, "status": c.status,
            "assignee_id": c.assignee_id, "unread": getattr(c, "unread", 0), "last_message_at": c.last_message_at,
            "first_response_seconds": c.first_response_seconds, "resolution_seconds": c.resolution_seconds}


def message_out(m) -> dict:
    return {"id": m.pk, "side": m.side, "body": m.body, "image_url": m.image.url if m.image else None,
            "product": {"id": m.product.pk, "title": m.product.label} if m.product else None,
            "order": {"id": m.order.pk, "title": m.order.number} if m.order else None, "created_at": m.created_at}


def _thread(conversation, side) -> dict:
    read_up_to = conversation.shop_read_id if side == "shopper" else conversation.shopper_read_id
    return {"conversation": conversation_out(conversation), "read_up_to": read_up_to,
            "messages": [message_out(m) for m in queries.conversation_messages(conversation)]}


class ConversationOpenIn(InSchema):
    shop_id: int = Field(..., ge=1, le=2**53)
    product_id: int | None = Field(None, ge=1, le=2**53)
    order_id: int | None = Field(None, ge=1, le=2**53)


class MessageIn(InSchema):
    body: str | None = Field(None, max_length=TEXT)
    product_id: int | None = Field(None, ge=1, le=2**53)
    order_id: int | None = Field(None, ge=1, le=2**53)


class ReadOut(Schema):
    read_up_to: int


@router.get("/service/conversations", response=responses({200: ConversationPage}), auth=bearer)
def my_conversations(request, paging: Query[ServicePaging]):
    """The shopper's conversations, newest first, each with its unread count."""
    items, meta = paginate(queries.shopper_conversations(request.auth), paging.page, paging.page_size)
    return Status(200, {"meta": meta, "results": [conversation_out(c) for c in items]})


@router.post("/service/conversations", response=responses({200: ThreadOut}), auth=bearer)
def open_conversation(request, payload: ConversationOpenIn):
    """联系客服: the shopper's thread with the shop (made once), with the product or order attached as a card."""
    conversation = conversations.open_conversation(actor=request.auth, shop_id=payload.shop_id,
                                                   product_id=payload.product_id, order_id=payload.order_id)
    return Status(200, _thread(conversation, "shopper"))


def _mine(user, conversation_id):
    conversation = Conversation.objects.select_related("shop").filter(user=user, pk=conversation_id).first()
    if conversation is None:
        raise NotFound()
    return conversation


@router.get("/service/conversations/{conversation_id}", response=responses({200: ThreadOut}), auth=bearer)
def my_conversation(request, conversation_id: Id):
    return Status(200, _thread(_mine(request.auth, conversation_id), "shopper"))


@router.post("/service/conversations/{conversation_id}/messages", response=responses({201: ChatMessageOut}),
             auth=bearer)
def send(request, conversation_id: Id, payload: MessageIn):
    return Status(201, message_out(conversations.send_message(
        actor=request.auth, conversation_id=conversation_id, body=payload.body, product_id=payload.product_id,
        order_id=payload.order_id)))


@router.post("/service/conversations/{conversation_id}/images", response=responses({201: ChatMessageOut}),
             auth=bearer)
def send_image(request, conversation_id: Id, image: File[UploadedFile], body: Form[str] = ""):
    """A picture (JPEG, PNG, WebP or GIF, checked by decoding it), with optional text."""
    return Status(201, message_out(conversations.send_message(
        actor=request.auth, conversation_id=conversation_id, body=body, image=image)))


@router.post("/service/conversations/{conversation_id}/read", response=responses({200: ReadOut}), auth=bearer)
def read(request, conversation_id: Id):
    return Status(200, {"read_up_to": conversations.mark_read(actor=request.auth, conversation_id=conversation_id)})


class QueueFilters(ServicePaging):
    view: str = Field("open", pattern="^(unassigned|mine|open|all)$")
    shop_id: int | None = Field(None, ge=1, le=2**53)


class QueuePage(ConversationPage):
    counts: dict[str, int]


@seller_router.get("/conversations", response=responses({200: QueuePage}), auth=bearer)
def queue(request, filters: Query[QueueFilters]):
    """The shop's queue: unassigned, mine, open or all, with unread counts per conversation and per view."""
    shop = shop_for_seller(request.auth, filters.shop_id, perm="service")
    qs = queries.shop_conversations(shop, view=filters.view, user=request.auth).select_related("shop")
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"meta": meta, "counts": queries.shop_queue_counts(shop, request.auth),
                        "results": [conversation_out(c) for c in items]})


def _shop_conversation(shop, conversation_id):
    conversation = Conversation.objects.select_related("shop").filter(shop=shop, pk=conversation_id).first()
    if conversation is None:
        raise NotFound()
    return conversation


@seller_router.get("/conversations/{conversation_id}", response=responses({200: ThreadOut}), auth=bearer)
def shop_conversation(request, conversation_id: Id):
    return Status(200, _thread(_shop_conversation(shop_for_seller(request.auth, perm="service"), conversation_id), "shop"))


@seller_router.post("/conversations/{conversation_id}/messages", response=responses({201: ChatMessageOut}),
                    auth=bearer)
def shop_send(request, conversation_id: Id, payload: MessageIn):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    return Status(201, message_out(conversations.send_message(
        actor=request.auth, shop=shop, conversation_id=conversation_id, body=payload.body,
        product_id=payload.product_id, order_id=payload.order_id)))


@seller_router.post("/conversations/{conversation_id}/images", response=responses({201: ChatMessageOut}),
                    auth=bearer)
def shop_send_image(request, conversation_id: Id, image: File[UploadedFile], body: Form[str] = ""):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    return Status(201, message_out(conversations.send_message(
        actor=request.auth, shop=shop, conversation_id=conversation_id, body=body, image=image)))


@seller_router.post("/conversations/{conversation_id}/read", response=responses({200: ReadOut}), auth=bearer)
def shop_read(request, conversation_id: Id):
    shop = shop_for_seller(request.auth, perm="service")
    return Status(200, {"read_up_to": conversations.mark_read(actor=request.auth, shop=shop,
                                                              conversation_id=conversation_id)})


class ConversationAssignIn(InSchema):
    assignee_id: int | None = Field(None, ge=1, le=2**53, description="a member of the shop; null: unassigned")


@seller_router.post("/conversations/{conversation_id}/assign", response=responses({200: ConversationOut}),
                    auth=bearer)
def shop_assign(request, conversation_id: Id, payload: ConversationAssignIn):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    return Status(200, conversation_out(conversations.assign(actor=request.auth, shop=shop,
                                                             conversation_id=conversation_id,
                                                             assignee_id=payload.assignee_id)))


@seller_router.post("/conversations/{conversation_id}/close", response=responses({200: ConversationOut}),
                    auth=bearer)
def shop_close(request, conversation_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    return Status(200, conversation_out(conversations.close(actor=request.auth, shop=shop,
                                                            conversation_id=conversation_id)))


class CannedIn(InSchema):
    title: str | None = Field(None, max_length=TEXT)
    body: str | None = Field(None, max_length=TEXT)


class CannedOut(Schema):
    id: int
    title: str
    body: str


def canned_out(r) -> dict:
    return {"id": r.pk, "title": r.title, "body": r.body}


@seller_router.get("/canned-replies", response=responses({200: list[CannedOut]}), auth=bearer)
def canned_list(request):
    return Status(200, [canned_out(r) for r in queries.canned_replies(shop_for_seller(request.auth, perm="service"))])


@seller_router.post("/canned-replies", response=responses({201: CannedOut}), auth=bearer)
def canned_create(request, payload: CannedIn):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    return Status(201, canned_out(conversations.create_canned_reply(actor=request.auth, shop=shop,
                                                                    title=payload.title, body=payload.body)))


@seller_router.put("/canned-replies/{reply_id}", response=responses({200: CannedOut}), auth=bearer)
def canned_update(request, reply_id: Id, payload: CannedIn):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    return Status(200, canned_out(conversations.update_canned_reply(
        actor=request.auth, shop=shop, reply_id=reply_id, title=payload.title, body=payload.body)))


@seller_router.delete("/canned-replies/{reply_id}", response=responses({204: None}), auth=bearer)
def canned_delete(request, reply_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    conversations.delete_canned_reply(actor=request.auth, shop=shop, reply_id=reply_id)
    return Status(204, None)


# --- tickets --------------------------------------------------------------------------

class TicketMessageOut(Schema):
    id: int
    role: str
    author: str
    body: str
    internal: bool
    created_at: datetime


class TicketOut(Schema):
    id: int
    number: str
    shop_id: int | None
    order_id: int | None
    category: str
    category_label: str
    priority: str
    status: str
    subject: str
    assignee_id: int | None
    due_at: datetime
    overdue: bool
    sla_breached_at: datetime | None
    escalated_at: datetime | None
    created_at: datetime
    actions: list[str]


class TicketDetailOut(TicketOut):
    messages: list[TicketMessageOut]


class TicketPage(Schema):
    meta: PageMeta
    results: list[TicketOut]


def ticket_out(t, role) -> dict:
    return {"id": t.pk, "number": t.number, "shop_id": t.shop_id, "order_id": t.order_id, "category": t.category,
            "category_label": category_label(t.category), "priority": t.priority, "status": t.status,
            "subject": t.subject, "assignee_id": t.assignee_id, "due_at": t.due_at,
            "overdue": queries.is_overdue(t, timezone.now()), "sla_breached_at": t.sla_breached_at,
            "escalated_at": t.escalated_at, "created_at": t.created_at,
            "actions": sorted(ticket_actions(t.status, role))}


def ticket_detail_out(t, role) -> dict:
    internal = role != Role.SHOPPER
    return {**ticket_out(t, role), "messages": [
        {"id": m.pk, "role": m.role, "author": m.shown_author, "body": m.body, "internal": m.internal,
         "created_at": m.created_at} for m in queries.ticket_messages(t, include_internal=internal, viewer=role)]}


class TicketCategoryOut(Schema):
    code: str
    label: str


class TicketIn(InSchema):
    category: str | None = Field(None, max_length=TEXT, description="one of GET /service/ticket-categories")
    priority: str = Field("normal", max_length=TEXT, description="low, normal, high or urgent")
    subject: str | None = Field(None, max_length=TEXT)
    body: str | None = Field(None, max_length=TEXT)
    shop_id: int | None = Field(None, ge=1, le=2**53, description="the shop complained to; null: the platform")
    order_id: int | None = Field(None, ge=1, le=2**53, description="one of the shopper's orders (of that shop)")


class ServiceReplyIn(InSchema):
    body: str | None = Field(None, max_length=TEXT)
    internal: bool = Field(False, description="agents and operators: a note the shopper never sees")


class ActionIn(InSchema):
    action: str = Field(..., max_length=40, description="start, wait, resolve, close or reopen")
    note: str = Field("", max_length=TEXT)


@router.get("/service/ticket-categories", response=responses({200: list[TicketCategoryOut]}))
def ticket_categories(request):
    return Status(200, [{"code": code, "label": label} for code, label in categories()])


@router.get("/service/tickets", response=responses({200: TicketPage}), auth=bearer)
def my_tickets(request, paging: Query[ServicePaging]):
    items, meta = paginate(queries.shopper_tickets(request.auth), paging.page, paging.page_size)
    return Status(200, {"meta": meta, "results": [ticket_out(t, Role.SHOPPER) for t in items]})


@router.post("/service/tickets", response=responses({201: TicketDetailOut}), auth=bearer)
def open_ticket(request, payload: TicketIn):
    ticket = tickets.open_ticket(actor=request.auth, category=payload.category, priority=payload.priority,
                                 subject=payload.subject, body=payload.body, shop_id=payload.shop_id,
                                 order_id=payload.order_id)
    return Status(201, ticket_detail_out(ticket, Role.SHOPPER))


@router.get("/service/tickets/{ticket_id}", response=responses({200: TicketDetailOut}), auth=bearer)
def my_ticket(request, ticket_id: Id):
    ticket, role = tickets.scoped_ticket(request.auth, ticket_id)
    return Status(200, ticket_detail_out(ticket, role))


@router.post("/service/tickets/{ticket_id}/messages", response=responses({201: TicketDetailOut}), auth=bearer)
def my_ticket_reply(request, ticket_id: Id, payload: ServiceReplyIn):
    message = tickets.add_message(actor=request.auth, ticket_id=ticket_id, body=payload.body,
                                  internal=payload.internal)
    return Status(201, ticket_detail_out(message.ticket, Role.SHOPPER))


@router.post("/service/tickets/{ticket_id}/actions", response=responses({200: TicketDetailOut}), auth=bearer)
def my_ticket_action(request, ticket_id: Id, payload: ActionIn):
    ticket = tickets.act(actor=request.auth, ticket_id=ticket_id, action=payload.action, note=payload.note)
    return Status(200, ticket_detail_out(ticket, Role.SHOPPER))


@router.post("/service/tickets/{ticket_id}/escalate", response=responses({200: TicketDetailOut}), auth=bearer)
def my_ticket_escalate(request, ticket_id: Id, payload: HideReasonIn):
    """Ask the platform to step in on a shop's ticket (once)."""
    ticket = tickets.escalate(actor=request.auth, ticket_id=ticket_id, reason=payload.reason)
    return Status(200, ticket_detail_out(ticket, Role.SHOPPER))


class ShopTicketFilters(ServicePaging):
    view: str = Field("active", pattern="^(active|overdue|all)$")
    shop_id: int | None = Field(None, ge=1, le=2**53)


@seller_router.get("/tickets", response=responses({200: TicketPage}), auth=bearer)
def shop_ticket_list(request, filters: Query[ShopTicketFilters]):
    """The shop's tickets: active ones by SLA deadline, overdue ones, or all."""
    shop = shop_for_seller(request.auth, filters.shop_id, perm="service")
    items, meta = paginate(queries.shop_tickets(shop, view=filters.view), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [ticket_out(t, Role.AGENT) for t in items]})


@seller_router.get("/tickets/{ticket_id}", response=responses({200: TicketDetailOut}), auth=bearer)
def shop_ticket(request, ticket_id: Id):
    ticket, role = tickets.scoped_ticket(request.auth, ticket_id, shop=shop_for_seller(request.auth, perm="service"))
    return Status(200, ticket_detail_out(ticket, role))


@seller_router.post("/tickets/{ticket_id}/messages", response=responses({201: TicketDetailOut}), auth=bearer)
def shop_ticket_reply(request, ticket_id: Id, payload: ServiceReplyIn):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    message = tickets.add_message(actor=request.auth, shop=shop, ticket_id=ticket_id, body=payload.body,
                                  internal=payload.internal)
    return Status(201, ticket_detail_out(message.ticket, Role.AGENT))


@seller_router.post("/tickets/{ticket_id}/actions", response=responses({200: TicketDetailOut}), auth=bearer)
def shop_ticket_action(request, ticket_id: Id, payload: ActionIn):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    ticket = tickets.act(actor=request.auth, shop=shop, ticket_id=ticket_id, action=payload.action,
                         note=payload.note)
    return Status(200, ticket_detail_out(ticket, Role.AGENT))


@seller_router.post("/tickets/{ticket_id}/escalate", response=responses({200: TicketDetailOut}), auth=bearer)
def shop_ticket_escalate(request, ticket_id: Id, payload: HideReasonIn):
    shop = shop_for_seller(request.auth, write=True, perm="service")
    ticket = tickets.escalate(actor=request.auth, shop=shop, ticket_id=ticket_id, reason=payload.reason)
    return Status(200, ticket_detail_out(ticket, Role.AGENT))


class TicketAssignIn(InSchema):
    assignee_id: int | None = Field(None, ge=1, le=2**53, description="a member of the team; null: unassigned")


@seller_router.post("/tickets/{ticket_id}/assign", response=responses({200: TicketDetailOut}), auth=bearer)
def shop_ticket_assign(request, ticket_id: Id, payload: TicketAssignIn):
    """Give the ticket to a member of the shop."""
    shop = shop_for_seller(request.auth, write=True, perm="service")
    ticket = tickets.assign(actor=request.auth, shop=shop, ticket_id=ticket_id, assignee_id=payload.assignee_id)
    return Status(200, ticket_detail_out(ticket, Role.AGENT))


class OperatorTicketFilters(ServicePaging):
    view: str = Field("platform", pattern="^(platform|escalated|overdue|all)$")


@operator_router.get("/tickets", response=responses({200: TicketPage}), auth=bearer)
def operator_ticket_list(request, filters: Query[OperatorTicketFilters]):
    """Tickets to the platform and escalated ones (still active), escalated, overdue or all."""
    require_operator(request.auth)
    items, meta = paginate(queries.operator_tickets(view=filters.view), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [ticket_out(t, Role.OPERATOR) for t in items]})


@operator_router.get("/tickets/{ticket_id}", response=responses({200: TicketDetailOut}), auth=bearer)
def operator_ticket(request, ticket_id: Id):
    require_operator(request.auth)
    ticket, role = tickets.scoped_ticket(request.auth, ticket_id, operator=True)
    return Status(200, ticket_detail_out(ticket, role))


@operator_router.post("/tickets/{ticket_id}/messages", response=responses({201: TicketDetailOut}), auth=bearer)
def operator_ticket_reply(request, ticket_id: Id, payload: ServiceReplyIn):
    require_operator(request.auth)
    message = tickets.add_message(actor=request.auth, operator=True, ticket_id=ticket_id, body=payload.body,
                                  internal=payload.internal)
    return Status(201, ticket_detail_out(message.ticket, Role.OPERATOR))


@operator_router.post("/tickets/{ticket_id}/actions", response=responses({200: TicketDetailOut}), auth=bearer)
def operator_ticket_action(request, ticket_id: Id, payload: ActionIn):
    require_operator(request.auth)
    ticket = tickets.act(actor=request.auth, operator=True, ticket_id=ticket_id, action=payload.action,
                         note=payload.note)
    return Status(200, ticket_detail_out(ticket, Role.OPERATOR))


@operator_router.post("/tickets/{ticket_id}/assign", response=responses({200: TicketDetailOut}), auth=bearer)
def operator_ticket_assign(request, ticket_id: Id, payload: TicketAssignIn):
    """Give the ticket to an operator (a staff user)."""
    require_operator(request.auth)
    ticket = tickets.assign(actor=request.auth, operator=True, ticket_id=ticket_id, assignee_id=payload.assignee_id)
    return Status(200, ticket_detail_out(ticket, Role.OPERATOR))


class OperatorConversationFilters(ServicePaging):
    shop_id: int | None = Field(None, ge=1, le=2**53)
    user_id: int | None = Field(None, ge=1, le=2**53)


@operator_router.get("/conversations", response=responses({200: ConversationPage}), auth=bearer)
def operator_conversations(request, filters: Query[OperatorConversationFilters]):
    """Every conversation (operators), newest first, by shop or shopper."""
    require_operator(request.auth)
    qs = queries.all_conversations(shop_id=filters.shop_id, user_id=filters.user_id)
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [conversation_out(c) for c in items]})


@operator_router.get("/conversations/{conversation_id}", response=responses({200: ThreadOut}), auth=bearer)
def operator_conversation(request, conversation_id: Id):
    require_operator(request.auth)
    conversation = Conversation.objects.select_related("shop").filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound()
    return Status(200, _thread(conversation, "shop"))
