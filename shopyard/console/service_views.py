"""Seller console: customer service. The conversation queue (unassigned /
mine / open / all, with unread counts), a conversation with canned replies
and cards, canned replies, product questions to answer, and the ticket queue
with SLA deadlines and internal notes. The rules are shopyard.service's;
these views parse, call one service and render."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.orders.models import Order
from shopyard.service import conversations, qa, queries, tickets
from shopyard.service.kinds import category_label
from shopyard.service.models import Conversation
from shopyard.service.state import Role, action_choices
from shopyard.service.views import optional_id, refused

from .access import seller_required
from .views import _page, _render

QUEUE_LABELS = {"unassigned": gettext_lazy("Unassigned"), "mine": gettext_lazy("Mine"),
                "open": gettext_lazy("Not closed"), "all": gettext_lazy("All")}


# --- conversations --------------------------------------------------------------------

@seller_required("service")
def conversation_queue(request):
    shop = request.console.shop
    view = request.GET.get("view", "unassigned")
    if view not in queries.QUEUE_VIEWS:
        view = "unassigned"
    page = _page(request, queries.shop_conversations(shop, view=view, user=request.user))
    counts = queries.shop_queue_counts(shop, request.user)
    return _render(request, "console/service_conversations.html", {
        "nav": "service", "page": page, "items": page.object_list, "view": view, "counts": counts,
        "views": [(code, str(QUEUE_LABELS[code]), counts[code]) for code in queries.QUEUE_VIEWS]})


def _conversation(request, pk):
    found = (Conversation.objects.select_related("user", "assignee", "shop")
             .filter(shop=request.console.shop, pk=pk).first())
    if found is None:
        raise Http404
    return found


@seller_required("service")
def conversation(request, pk):
    """The thread; the shop's read receipt moves as the agent views it."""
    shop = request.console.shop
    conv = _conversation(request, pk)
    if not request.console.read_only:
        conversations.mark_read(actor=request.user, shop=shop, conversation_id=conv.pk)
    return _conversation_page(request, conv.pk, conv=conv)


def _conversation_page(request, pk, *, conv=None, errors=(), form=None, which="", status=200):
    shop = request.console.shop
    conv = conv or _conversation(request, pk)
    return _render(request, "console/service_conversation.html", {
        "nav": "service", "conversation": conv, "items": queries.conversation_messages(conv), "side": "shop",
        "canned": queries.canned_replies(shop), "members": [m.user for m in shop.members.select_related("user")],
        "orders": Order.objects.filter(shop=shop, user=conv.user).order_by("-id")[:10],
        "poll_url": reverse("console:service_conversation_messages", args=[conv.pk]),
        "closed": conv.status == Conversation.Status.CLOSED,
        "errors": errors, "form": form or {}, "which": which}, status=status)


@seller_required("service")
def conversation_messages(request, pk):
    conv = _conversation(request, pk)
    if not request.console.read_only:
        conversations.mark_read(actor=request.user, shop=request.console.shop, conversation_id=conv.pk)
    return _render(request, "service/_messages.html", {
        "conversation": conv, "items": queries.conversation_messages(conv), "side": "shop"})


@seller_required("service")
@require_POST
def conversation_send(request, pk):
    shop = request.console.shop
    body = request.POST.get("body", "")
    canned_id = optional_id(request.POST.get("canned"))
    if canned_id is not None and not body.strip():
        reply = queries.canned_replies(shop).filter(pk=canned_id).first()
        if reply is None:
            raise Http404
        body = reply.body
    product_id = optional_id(request.POST.get("product"))
    try:
        conversations.send_message(actor=request.user, shop=shop, conversation_id=pk, body=body,
                                   product_id=product_id, order_id=optional_id(request.POST.get("order")),
                                   image=request.FILES.get("image"))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _conversation_page, pk, exc=exc, which="send")
    return redirect(reverse("console:service_conversation", args=[pk]) + "#composer")


@seller_required("service")
@require_POST
def conversation_assign(request, pk):
    try:
        conversations.assign(actor=request.user, shop=request.console.shop, conversation_id=pk,
                             assignee_id=optional_id(request.POST.get("assignee")))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _conversation_page, pk, exc=exc, which="assign")
    return redirect("console:service_conversation", pk)


@seller_required("service")
@require_POST
def conversation_close(request, pk):
    try:
        conversations.close(actor=request.user, shop=request.console.shop, conversation_id=pk)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _conversation_page, pk, exc=exc, which="close")
    messages.success(request, _("Conversation closed."))
    return redirect("console:service_conversations")


# --- canned replies -------------------------------------------------------------------

@seller_required("service")
def canned_replies(request):
    if request.method != "POST":
        return _canned_page(request)
    shop = request.console.shop
    fields = {"title": request.POST.get("title", ""), "body": request.POST.get("body", "")}
    reply_id = optional_id(request.POST.get("id"))
    try:
        if reply_id is None:
            conversations.create_canned_reply(actor=request.user, shop=shop, **fields)
        else:
            conversations.update_canned_reply(actor=request.user, shop=shop, reply_id=reply_id, **fields)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _canned_page, exc=exc, which="new" if reply_id is None else f"canned-{reply_id}")
    messages.success(request, _("Canned reply saved."))
    return redirect("console:service_canned")


def _canned_page(request, *, errors=(), form=None, which="", status=200):
    items = list(queries.canned_replies(request.console.shop))
    for reply in items:
        reply.form_key = f"canned-{reply.pk}"
    return _render(request, "console/service_canned.html", {
        "nav": "service", "items": items, "form": form or {}, "errors": errors, "which": which},
        status=status)


@seller_required("service")
@require_POST
def canned_delete(request, pk):
    try:
        conversations.delete_canned_reply(actor=request.user, shop=request.console.shop, reply_id=pk)
    except NotFound:
        raise Http404 from None
    return redirect("console:service_canned")


# --- product questions ----------------------------------------------------------------

@seller_required("service")
def questions(request):
    return _questions_page(request)


def _questions_page(request, *, errors=(), form=None, which="", status=200):
    unanswered = request.GET.get("all") != "1"
    page = _page(request, queries.shop_questions(request.console.shop, unanswered=unanswered))
    for q in page.object_list:
        q.answer_form = f"answer-{q.pk}"
    return _render(request, "console/service_questions.html", {
        "nav": "service", "page": page, "items": page.object_list, "unanswered": unanswered,
        "errors": errors, "form": form or {}, "which": which}, status=status)


@seller_required("service")
@require_POST
def question_answer(request, pk):
    try:
        qa.answer_question(actor=request.user, shop=request.console.shop, question_id=pk,
                           text=request.POST.get("text", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _questions_page, exc=exc, which=f"answer-{pk}")
    messages.success(request, _("Answer published."))
    return redirect("console:service_questions")


# --- tickets --------------------------------------------------------------------------

TICKET_VIEWS = {"active": gettext_lazy("Unresolved"), "overdue": gettext_lazy("Past SLA"), "all": gettext_lazy("All")}


@seller_required("service")
def ticket_queue(request):
    view = request.GET.get("view", "active")
    if view not in TICKET_VIEWS:
        view = "active"
    page = _page(request, queries.shop_tickets(request.console.shop, view=view))
    return _render(request, "console/service_tickets.html", {
        "nav": "service", "page": page, "items": page.object_list, "view": view, "now": timezone.now(),
        "views": [(code, str(label)) for code, label in TICKET_VIEWS.items()]})


@seller_required("service")
def ticket(request, pk):
    return _ticket_page(request, pk)


def _ticket_page(request, pk, *, errors=(), form=None, which="", status=200):
    try:
        found, role = tickets.scoped_ticket(request.user, pk, shop=request.console.shop)
    except NotFound:
        raise Http404 from None
    return _render(request, "console/service_ticket.html", {
        "nav": "service", "ticket": found, "items": queries.ticket_messages(found, include_internal=True, viewer=role),
        "category": category_label(found.category),
        "actions": [] if found.escalated_at else action_choices(found.status, Role.AGENT),
        "can_escalate": tickets.can_escalate(found),
        "overdue": queries.is_overdue(found, timezone.now()),
        "errors": errors, "form": form or {}, "which": which}, status=status)


@seller_required("service")
@require_POST
def ticket_reply(request, pk):
    try:
        tickets.add_message(actor=request.user, shop=request.console.shop, ticket_id=pk,
                            body=request.POST.get("body", ""), internal=request.POST.get("internal") == "1")
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _ticket_page, pk, exc=exc, which="reply")
    return redirect("console:service_ticket", pk)


@seller_required("service")
@require_POST
def ticket_action(request, pk):
    shop = request.console.shop
    try:
        if request.POST.get("action") == "escalate":
            tickets.escalate(actor=request.user, shop=shop, ticket_id=pk, reason=request.POST.get("reason", ""))
        else:
            tickets.act(actor=request.user, shop=shop, ticket_id=pk, action=request.POST.get("action", ""),
                        note=request.POST.get("note", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        which = "escalate" if request.POST.get("action") == "escalate" else "action"
        return refused(request, _ticket_page, pk, exc=exc, which=which)
    return redirect("console:service_ticket", pk)
