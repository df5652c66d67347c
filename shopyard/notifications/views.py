"""The shopper's message centre and notification preferences (pages); they
parse input and call a service."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.core.errors import DomainError, NotFound

from . import queries, services
from .kinds import Channel, Kind

PER_PAGE = 20


@login_required
def message_list(request):
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(queries.messages_for(request.user, unread_only=unread_only), PER_PAGE).get_page(
        request.GET.get("page"))
    page.link_base = "?unread=1&page=" if unread_only else "?page="
    page.elided = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return render(request, "notifications/messages.html", {
        "page": page, "items": page.object_list, "unread_only": unread_only})


@login_required
@require_POST
def mark_read(request, pk):
    try:
        message = services.mark_read(actor=request.user, message_id=pk)
    except NotFound:
        raise Http404 from None
    if request.POST.get("open") and message.link:
        return redirect(message.link)
    return redirect("notifications:messages")


@login_required
@require_POST
def mark_all_read(request):
    services.mark_all_read(actor=request.user)
    return redirect("notifications:messages")


@login_required
def preferences(request):
    errors = []
    if request.method == "POST":
        choices = {kind: request.POST.getlist(f"kind-{kind}") for kind in Kind.values}
        try:
            services.set_preferences(actor=request.user, choices=choices, language=request.POST.get("language"))
        except DomainError as exc:
            errors = [m for field in exc.fields.values() for m in field] or [str(exc.message)]
        else:
            flash.success(request, _("Your notification choices are saved."))
            return redirect("notifications:preferences")
    current = queries.preferences(request.user)
    rows = [(kind, label, [(c, c in current["choices"][kind]) for c in Channel.values]) for kind, label in Kind.choices]
    return render(request, "notifications/preferences.html", {
        "rows": rows, "channels": Channel.choices, "language": current["language"], "errors": errors},
        status=400 if errors else 200)
