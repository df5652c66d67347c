"""Operator pages: platform tickets and escalations, and moderation of Q&A and
conversation messages (hiding with a reason). Staff only; each POST calls one
service."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.core.validation import parse_id

from . import conversations, qa, queries, tickets
from .kinds import category_label
from .state import Role, action_choices
from .views import paged, refused

PER_PAGE = 30


@staff_member_required
def ticket_queue(request):
    view = request.GET.get("view", "platform")
    if view not in queries.OPERATOR_VIEWS:
        view = "platform"
    page = paged(request, queries.operator_tickets(view=view), PER_PAGE, f"?view={view}&page=")
    return render(request, "service/operator_tickets.html", {
        "page": page, "items": page.object_list, "view": view, "now": timezone.now(),
        "views": [("platform", _("Platform queue")), ("escalated", _("Escalated")), ("overdue", _("Past SLA")),
                  ("all", _("All"))]})


@staff_member_required
def ticket(request, pk):
    return _ticket_page(request, pk)


def _ticket_page(request, pk, *, errors=(), form=None, which="", status=200):
    try:
        found, role = tickets.scoped_ticket(request.user, pk, operator=True)
    except NotFound:
        raise Http404 from None
    return render(request, "service/operator_ticket.html", {
        "ticket": found, "items": queries.ticket_messages(found, include_internal=True),
        "category": category_label(found.category), "actions": action_choices(found.status, Role.OPERATOR),
        "overdue": queries.is_overdue(found, timezone.now()),
        "errors": errors, "form": form or {}, "which": which}, status=status)


@staff_member_required
@require_POST
def ticket_reply(request, pk):
    try:
        tickets.add_message(actor=request.user, ticket_id=pk, body=request.POST.get("body", ""),
                            internal=request.POST.get("internal") == "1", operator=True)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _ticket_page, pk, exc=exc, which="reply")
    return redirect("service:operator_ticket", pk)


@staff_member_required
@require_POST
def ticket_action(request, pk):
    try:
        tickets.act(actor=request.user, ticket_id=pk, action=request.POST.get("action", ""),
                    note=request.POST.get("note", ""), operator=True)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _ticket_page, pk, exc=exc, which="reply")
    return redirect("service:operator_ticket", pk)


@staff_member_required
def moderation(request):
    return _moderation_page(request)


def _moderation_page(request, *, errors=(), form=None, which="", status=200):
    hidden = request.GET.get("hidden") == "1"
    page = paged(request, queries.moderation_questions(hidden=hidden), PER_PAGE,
                 "?hidden=1&page=" if hidden else "?page=")
    return render(request, "service/operator_moderation.html", {
        "page": page, "items": page.object_list, "hidden": hidden, "recent_messages": queries.recent_messages(),
        "errors": errors, "form": form or {}, "which": which}, status=status)


HIDE = {"question": qa.hide_question, "answer": qa.hide_answer, "message": conversations.hide_message}
ARG = {"question": "question_id", "answer": "answer_id", "message": "message_id"}


@staff_member_required
@require_POST
def hide(request, kind):
    if kind not in HIDE:
        raise Http404
    target = parse_id(request.POST.get("id"))
    if target is None:
        raise Http404
    try:
        HIDE[kind](actor=request.user, reason=request.POST.get("reason", ""), **{ARG[kind]: target})
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return refused(request, _moderation_page, exc=exc, which=f"{kind}-{target}")
    messages.success(request, _("Hidden."))
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/service/") else
                    "service:operator_moderation")
