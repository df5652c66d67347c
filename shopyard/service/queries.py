"""Customer-service reads, always scoped to the caller: the shopper's own
conversations and tickets, a shop's, or (operators) everything."""

from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery, Window
from django.db.models.functions import Coalesce

from shopyard.catalog.queries import visible_products
from shopyard.core.prepared import PreparedRead

from .models import (
    Answer,
    CannedReply,
    Conversation,
    ConversationMessage,
    Question,
    Ticket,
    TicketMessage,
)
from .state import ACTIVE_STATUSES

PRODUCT_PAGE_QUESTIONS = 3


# --- Q&A ------------------------------------------------------------------------------

def shown_questions(product_id):
    """The product's questions a shopper sees: answered and not hidden. `product_id` may be
    an OuterRef: the product page asks, in its product's own row, whether it has any
    (storefront.queries), and reads product_qa_block only when it does."""
    return Question.objects.filter(product_id=product_id, hidden_at__isnull=True, answer_count__gt=0)


def _qa_block(product_id):
    return (shown_questions(product_id).select_related("top_answer")
            .annotate(total=Window(Count("id"))).order_by("-id")[:PRODUCT_PAGE_QUESTIONS])


# compiled once (core.prepared): every product page not yet kept asks it
_QA_BLOCK = PreparedRead(Question, _qa_block)


def product_qa_block(product_id):
    """(count, questions) for the product page: answered, visible questions,
    newest first, each with its `top_answer`, in one query (the count is a
    window over the same rows)."""
    rows = _QA_BLOCK.objects(product_id)
    return (rows[0].total if rows else 0), rows


def product_questions(product_id):
    """Every answered, visible question of a visible product, newest first,
    with its visible answers (shop first)."""
    answers = Answer.objects.filter(hidden_at__isnull=True).select_related("author").order_by("-role", "id")
    return (shown_questions(product_id).filter(product__in=visible_products())
            .prefetch_related(Prefetch("answers", queryset=answers, to_attr="shown_answers")).order_by("-id"))


def shop_questions(shop, *, unanswered=False):
    qs = Question.objects.filter(shop=shop, hidden_at__isnull=True).select_related("product", "author")
    if unanswered:
        qs = qs.filter(answer_count=0)
    answers = Answer.objects.filter(hidden_at__isnull=True).order_by("id")
    return qs.prefetch_related(Prefetch("answers", queryset=answers, to_attr="shown_answers")).order_by("-id")


def moderation_questions(*, hidden=False):
    """Operators' moderation list: every question with all its answers."""
    qs = Question.objects.filter(hidden_at__isnull=not hidden).select_related("product", "author", "shop")
    return qs.prefetch_related(Prefetch("answers", queryset=Answer.objects.select_related("author").order_by("id"),
                                        to_attr="all_answers")).order_by("-id")


# --- conversations --------------------------------------------------------------------

def _with_unread(qs, *, read_field, other_side):
    return qs.annotate(unread=Count(
        "messages", filter=Q(messages__side=other_side, messages__id__gt=F(read_field),
                             messages__hidden_at__isnull=True)))


def shopper_conversations(user):
    """The shopper's conversations with how many shop messages they have not
    read and the last message, newest first."""
    last = ConversationMessage.objects.filter(conversation=OuterRef("pk"), hidden_at__isnull=True).order_by("-id")
    qs = Conversation.objects.filter(user=user).select_related("shop").annotate(last_body=Subquery(last.values("body")[:1]))
    return _with_unread(qs, read_field="shopper_read_id",
                        other_side=ConversationMessage.Side.SHOP).order_by(
        Coalesce("last_message_at", "created_at").desc(), "-id")


def shopper_unread_total(user) -> int:
    return ConversationMessage.objects.filter(
        conversation__user=user, side=ConversationMessage.Side.SHOP, hidden_at__isnull=True,
        id__gt=F("conversation__shopper_read_id")).count()


QUEUE_VIEWS = ("unassigned", "mine", "open", "all")


def shop_conversations(shop, *, view="open", user=None):
    """The shop's queue: `unassigned` (open, nobody assigned), `mine` (open,
    assigned to `user`), `open`, or `all`; each with its unread count (the
    shopper's messages after the shop's read receipt)."""
    qs = Conversation.objects.filter(shop=shop).select_related("user", "assignee")
    if view in ("unassigned", "mine", "open"):
        qs = qs.filter(status=Conversation.Status.OPEN)
    if view == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif view == "mine":
        qs = qs.filter(assignee=user)
    last = ConversationMessage.objects.filter(conversation=OuterRef("pk"), hidden_at__isnull=True).order_by("-id")
    qs = qs.annotate(last_body=Subquery(last.values("body")[:1]))
    return _with_unread(qs, read_field="shop_read_id",
                        other_side=ConversationMessage.Side.SHOPPER).order_by(
        Coalesce("last_message_at", "created_at").desc(), "-id")


def shop_queue_counts(shop, user) -> dict:
    """How many conversations each queue view holds, and the unread total, in one query."""
    open_ = Q(status=Conversation.Status.OPEN)
    counts = Conversation.objects.filter(shop=shop).aggregate(
        unassigned=Count("pk", filter=open_ & Q(assignee__isnull=True)),
        mine=Count("pk", filter=open_ & Q(assignee=user)),
        open=Count("pk", filter=open_), all=Count("pk"))
    counts["unread"] = ConversationMessage.objects.filter(
        conversation__shop=shop, side=ConversationMessage.Side.SHOPPER, hidden_at__isnull=True,
        id__gt=F("conversation__shop_read_id")).count()
    return counts


def all_conversations(*, shop_id=None, user_id=None):
    """Operators: every conversation, newest first (no unread count: neither side is the reader)."""
    qs = Conversation.objects.select_related("shop", "user")
    if shop_id is not None:
        qs = qs.filter(shop_id=shop_id)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    return qs.order_by(Coalesce("last_message_at", "created_at").desc(), "-id")


def recent_messages(limit=30):
    """Operators' moderation: the newest visible conversation messages of every shop."""
    return list(ConversationMessage.objects.filter(hidden_at__isnull=True)
                .select_related("conversation__shop", "sender").order_by("-id")[:limit])


def conversation_messages(conversation):
    """What both sides see: the visible messages with their cards."""
    return (conversation.messages.filter(hidden_at__isnull=True).select_related("product", "order", "sender")
            .prefetch_related("product__images").order_by("id"))


def canned_replies(shop):
    return CannedReply.objects.filter(shop=shop).order_by("title", "id")


# --- tickets --------------------------------------------------------------------------

def shopper_tickets(user):
    return Ticket.objects.filter(user=user).select_related("shop", "order").order_by("-id")


def shop_tickets(shop, *, view="active"):
    """A shop's tickets: `active` (still being worked on, deadline first), `overdue` or `all`."""
    qs = Ticket.objects.filter(shop=shop).select_related("user", "assignee", "order")
    return _ticket_view(qs, view)


def _ticket_view(qs, view):
    if view == "active":
        return qs.filter(status__in=ACTIVE_STATUSES).order_by("due_at", "id")
    if view == "overdue":
        return qs.filter(sla_breached_at__isnull=False, status__in=ACTIVE_STATUSES).order_by("due_at", "id")
    return qs.order_by("-id")


OPERATOR_VIEWS = ("platform", "escalated", "overdue", "all")


def operator_tickets(*, view="platform"):
    """Operators: `platform` (to the platform or escalated, still active),
    `escalated` (every escalated one), `overdue` or `all`."""
    qs = Ticket.objects.select_related("user", "shop", "assignee", "order")
    if view == "platform":
        return qs.filter(Q(shop__isnull=True) | Q(escalated_at__isnull=False),
                         status__in=ACTIVE_STATUSES).order_by("due_at", "id")
    if view == "escalated":
        return qs.filter(escalated_at__isnull=False).order_by("-escalated_at", "-id")
    return _ticket_view(qs, view)


def ticket_messages(ticket, *, include_internal, viewer=None) -> list:
    """The messages `viewer` (a Role; default: the shopper without internal notes, else an
    operator) reads, each with `shown_author`. The shopper never sees internal notes, nor a staff
    login name: an agent's reply is the shop's, an operator's the platform's; only operators
    see an operator's login name."""
    from django.utils.translation import gettext as _

    from shopyard.core.i18n import localized

    from .state import Role

    viewer = viewer or (Role.OPERATOR if include_internal else Role.SHOPPER)
    qs = TicketMessage.objects.filter(ticket=ticket).select_related("ticket__shop").order_by("id")
    messages = list(qs if include_internal else qs.filter(internal=False))
    for m in messages:
        if m.role == Role.OPERATOR and viewer != Role.OPERATOR:
            m.shown_author = _("the platform")
        elif m.role == Role.AGENT and viewer == Role.SHOPPER and m.ticket.shop_id:
            m.shown_author = localized(m.ticket.shop, "name")
        else:
            m.shown_author = m.author_label
    return messages


def is_overdue(ticket, now) -> bool:
    return ticket.status in ACTIVE_STATUSES and ticket.due_at <= now

