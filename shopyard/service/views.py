"""Shopper pages of customer service: product Q&A, conversations with shops
and tickets. They parse input, call one service, render; a foreign or
malformed id is a 404 (the services scope every read to the caller)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.catalog.queries import visible_products
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.validation import page_number, parse_id
from shopyard.shops.queries import active_shops

from . import conversations, qa, queries, tickets
from .kinds import categories, category_label
from .models import Conversation
from .state import Priority, Role, TicketStatus, action_choices

PER_PAGE = 20


def _errors(exc) -> list[str]:
    """A domain error as lines a page shows (a field's message may be one text or a list)."""
    lines = [str(m) for msgs in exc.fields.values() for m in (msgs if isinstance(msgs, list | tuple) else [msgs])]
    return lines or [str(exc.message)]


def refused(request, page, *args, exc, which):
    """A refused POST: the page the form lives on again, the error(s) beside
    form `which`, what the user typed kept, and the error's status (422, 409...)."""
    return page(request, *args, errors=_errors(exc), form=request.POST, which=which, status=exc.status)


def paged(request, qs, per_page=PER_PAGE, link_base="?page="):
    """One page of `qs` as storefront/_pagination.html shows it."""
    page = Paginator(qs, per_page).get_page(page_number(request.GET.get("page")))
    page.link_base = link_base
    page.elided = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def optional_id(value):
    """A form's optional id: blank is None; anything else must be an id (else 404)."""
    if value in (None, ""):
        return None
    parsed = parse_id(value)
    if parsed is None:
        raise Http404
    return parsed


# --- product Q&A ----------------------------------------------------------------------

def product_questions(request, pk):
    return _questions_page(request, pk)


def _questions_page(request, pk, *, errors=(), form=None, which="", status=200):
    product = get_object_or_404(visible_products().select_related("shop"), pk=pk)
    page = paged(request, queries.product_questions(product.pk))
    for q in page.object_list:
        q.answer_form = f"answer-{q.pk}"
    can_answer = request.user.is_authenticated and qa.has_bought(request.user, product.pk)
    return render(request, "service/product_questions.html", {
        "product": product, "page": page, "items": page.object_list, "can_answer": can_answer,
        "errors": errors, "form": form or {}, "which": which,
        "form_keys": {"ask"} | ({q.answer_form for q in page.object_list} if can_answer else set())}, status=status)


@login_required
@require_POST
def ask(request, pk):
    try:
        qa.ask_question(actor=request.user, product_id=pk, text=request.POST.get("text", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _questions_page, pk, exc=exc, which="ask")
    messages.success(request, _("Your question was sent. It shows here once it is answered."))
    return redirect("service:product_questions", pk)


@login_required
@require_POST
def answer_as_buyer(request, pk):
    try:
        answer = qa.answer_question(actor=request.user, question_id=pk, text=request.POST.get("text", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        product_id = parse_id(request.POST.get("product"))
        if product_id is None:
            raise Http404 from None
        return refused(request, _questions_page, product_id, exc=exc, which=f"answer-{pk}")
    messages.success(request, _("Thank you for your answer."))
    return redirect("service:product_questions", answer.question.product_id)


# --- conversations --------------------------------------------------------------------

@login_required
def contact(request):
    """联系客服: GET shows what will be sent (after a login, say); POST opens
    the conversation with the product or order card and shows it."""
    source = request.POST if request.method == "POST" else request.GET
    shop_id = parse_id(source.get("shop"))
    product_id, order_id = optional_id(source.get("product")), optional_id(source.get("order"))
    if shop_id is None:
        raise Http404
    if request.method != "POST":
        shop = get_object_or_404(active_shops(), pk=shop_id)
        return render(request, "service/contact.html", {"shop": shop, "product_id": product_id, "order_id": order_id})
    try:
        conversation = conversations.open_conversation(actor=request.user, shop_id=shop_id, product_id=product_id,
                                                       order_id=order_id)
    except NotFound:
        raise Http404 from None
    return redirect("service:conversation", conversation.pk)


@login_required
def conversation_list(request):
    page = paged(request, queries.shopper_conversations(request.user))
    return render(request, "service/conversations.html", {"page": page, "items": page.object_list})


def _shopper_conversation(request, pk):
    conversation = Conversation.objects.select_related("shop").filter(user=request.user, pk=pk).first()
    if conversation is None:
        raise Http404
    return conversation


@login_required
def conversation(request, pk):
    """The thread; viewing it is reading it (the read receipt moves)."""
    conv = _shopper_conversation(request, pk)
    conversations.mark_read(actor=request.user, conversation_id=conv.pk)
    return _conversation_page(request, conv.pk, conv=conv)


def _conversation_page(request, pk, *, conv=None, errors=(), form=None, which="", status=200):
    conv = conv or _shopper_conversation(request, pk)
    return render(request, "service/conversation.html", {
        "conversation": conv, "items": queries.conversation_messages(conv), "side": "shopper",
        "orders": _recent_orders(request.user, conv.shop_id),
        "poll_url": reverse("service:conversation_messages", args=[conv.pk]),
        "send_url": reverse("service:conversation_send", args=[conv.pk]),
        "errors": errors, "form": form or {}, "which": which}, status=status)


def _recent_orders(user, shop_id):
    from shopyard.orders.queries import buyer_orders

    return list(buyer_orders(user).filter(shop_id=shop_id)[:10])


@login_required
def conversation_messages(request, pk):
    """The messages partial htmx polls every few seconds."""
    conv = _shopper_conversation(request, pk)
    conversations.mark_read(actor=request.user, conversation_id=conv.pk)
    return render(request, "service/_messages.html", {
        "conversation": conv, "items": queries.conversation_messages(conv), "side": "shopper"})


@login_required
@require_POST
def conversation_send(request, pk):
    try:
        conversations.send_message(
            actor=request.user, conversation_id=pk, body=request.POST.get("body", ""),
            product_id=optional_id(request.POST.get("product")), order_id=optional_id(request.POST.get("order")),
            image=request.FILES.get("image"))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _conversation_page, pk, exc=exc, which="send")
    return redirect(reverse("service:conversation", args=[pk]) + "#composer")


# --- tickets --------------------------------------------------------------------------

@login_required
def ticket_list(request):
    page = paged(request, queries.shopper_tickets(request.user))
    return render(request, "service/tickets.html", {"page": page, "items": page.object_list})


@login_required
def ticket_new(request):
    data = request.POST if request.method == "POST" else request.GET
    form = {k: data.get(k, "") for k in ("shop", "order", "category", "priority", "subject", "body")}
    errors, status = [], 200
    if request.method == "POST":
        try:
            ticket = tickets.open_ticket(
                actor=request.user, category=form["category"], priority=form["priority"] or Priority.NORMAL,
                subject=form["subject"], body=form["body"], shop_id=optional_id(form["shop"]),
                order_id=optional_id(form["order"]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors, status = _errors(exc), exc.status
        else:
            messages.success(request, _("Your ticket %(number)s was opened.") % {"number": ticket.number})
            return redirect("service:ticket", ticket.pk)
    shop = active_shops().filter(pk=parse_id(form["shop"])).first() if form["shop"] else None
    return render(request, "service/ticket_new.html", {
        "form": form, "errors": errors, "shop": shop, "categories": categories(),
        "priorities": Priority.choices}, status=status)


@login_required
def ticket(request, pk):
    return _ticket_page(request, pk)


def _ticket_page(request, pk, *, errors=(), form=None, which="", status=200):
    try:
        found, role = tickets.scoped_ticket(request.user, pk)
    except NotFound:
        raise Http404 from None
    return render(request, "service/ticket.html", {
        "ticket": found, "items": queries.ticket_messages(found, include_internal=False),
        "category": category_label(found.category), "actions": action_choices(found.status, Role.SHOPPER),
        "can_escalate": tickets.can_escalate(found),
        "overdue": queries.is_overdue(found, timezone.now()), "closed": found.status == TicketStatus.CLOSED,
        "errors": errors, "form": form or {}, "which": which}, status=status)


@login_required
@require_POST
def ticket_reply(request, pk):
    try:
        tickets.add_message(actor=request.user, ticket_id=pk, body=request.POST.get("body", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _ticket_page, pk, exc=exc, which="reply")
    return redirect("service:ticket", pk)


@login_required
@require_POST
def ticket_action(request, pk):
    try:
        if request.POST.get("action") == "escalate":
            tickets.escalate(actor=request.user, ticket_id=pk, reason=request.POST.get("reason", ""))
        else:
            tickets.act(actor=request.user, ticket_id=pk, action=request.POST.get("action", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        which = "escalate" if request.POST.get("action") == "escalate" else "action"
        return refused(request, _ticket_page, pk, exc=exc, which=which)
    return redirect("service:ticket", pk)
