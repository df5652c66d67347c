"""Seller console: the shop's messages and its webhook endpoints (register,
secret shown once, delivery log with response codes, replay, delete). The
rules are notifications.services' and notifications.webhooks'."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.notifications import queries as notes
from shopyard.notifications import services as note_services
from shopyard.notifications import webhooks
from shopyard.notifications.kinds import WEBHOOK_EVENTS

from .access import seller_required
from .views import _messages_of, _page, _render


@seller_required("overview")
def shop_messages(request):
    shop = request.console.shop
    page = _page(request, notes.messages_for(request.user, shop_id=shop.pk))
    return _render(request, "console/messages.html", {
        "nav": "messages", "page": page, "items": page.object_list,
        "unread": notes.unread_count(request.user, shop_id=shop.pk)})


@seller_required("overview")
@require_POST
def shop_messages_read(request):
    note_services.mark_all_read(actor=request.user, shop_id=request.console.shop.pk)
    return redirect("console:messages")


@seller_required("shop_settings")
def webhook_list(request):
    shop, errors, created = request.console.shop, [], None
    form = {"url": "", "event_types": [], "description": ""}
    if request.method == "POST":
        form = {"url": request.POST.get("url", ""), "event_types": request.POST.getlist("event_types"),
                "description": request.POST.get("description", "")}
        try:
            endpoint, secret = webhooks.register_endpoint(actor=request.user, shop=shop, **form)
        except DomainError as exc:
            errors = _messages_of(exc)
        else:
            created = {"endpoint": endpoint, "secret": secret}  # shown on this page only, never again
            form = {"url": "", "event_types": [], "description": ""}
    return _render(request, "console/webhooks.html", {
        "nav": "webhooks", "endpoints": notes.endpoints_for(shop), "event_types": WEBHOOK_EVENTS,
        "form": form, "errors": errors, "created": created}, status=400 if errors else 200)


@seller_required("shop_settings")
def webhook_detail(request, pk):
    try:
        endpoint = webhooks.endpoint_for(shop=request.console.shop, endpoint_id=pk)
    except NotFound:
        raise Http404 from None
    return _render(request, "console/webhook_detail.html", {
        "nav": "webhooks", "endpoint": endpoint, "deliveries": notes.deliveries_for(endpoint)})


@seller_required("shop_settings")
@require_POST
def webhook_delete(request, pk):
    try:
        webhooks.delete_endpoint(actor=request.user, shop=request.console.shop, endpoint_id=pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The webhook endpoint is deleted."))
    return redirect("console:webhooks")


@seller_required("shop_settings")
@require_POST
def webhook_replay(request, pk):
    try:
        delivery = webhooks.replay(actor=request.user, shop=request.console.shop, delivery_id=pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The delivery is queued to be sent again."))
    return redirect("console:webhook_detail", delivery.endpoint_id)
