"""Group-buying pages (拼团): opening a group from a product page, the group
page a share link opens (/groups/<code>/), joining from it, and the shopper's
groups.

Opening works like buy now: the product page posts the SKU and quantity, the
view keeps them in the session and shows a confirmation priced by the
pipeline (checkout.group_buy.quote), and the confirmation posts the address
to place the order. Every amount on these pages is the pipeline's, so the
total shown is the total the payment charges."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shopyard.accounts.queries import addresses_of
from shopyard.checkout import group_buy
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.i18n import localized
from shopyard.core.validation import parse_id
from shopyard.promotions import group_queries, group_services

from . import seo
from .buying_views import _error_text, _redirect_to_gateway
from .templatetags.order_tags import time_left

GROUP_OPEN_KEY = "group_open"


def _message(request, text, status):
    return render(request, "storefront/message.html", {"message": text}, status=status)


def _addresses(request, chosen=None):
    addresses = addresses_of(request.user)
    if chosen is None:
        default = next((a for a in addresses if a.is_default), addresses[0] if addresses else None)
        chosen = default.pk if default else None
    return addresses, str(chosen or "")


def _confirm(request, *, quote, form_action, title, error="", errors=None, address_id=None, status=200):
    addresses, address_id = _addresses(request, address_id)
    campaign = quote.group.campaign
    return render(request, "storefront/group_checkout.html", {
        "quote": quote, "line": quote.line, "shop": quote.pricing.shops[0], "campaign": campaign,
        "product_label": localized(quote.line.sku.product, "title"), "form_action": form_action, "title": title,
        "addresses": addresses, "address_id": address_id, "error": error, "errors": errors or {},
        "explain": quote.line.explain(), "max_quantity": campaign.max_quantity, "token": uuid.uuid4().hex,
    }, status=status)


def _fields(exc):
    return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}


@require_http_methods(["GET", "POST"])
def group_open(request):
    """开团: the product page's group button posts sku_id and quantity (no address); the
    confirmation posts back here with an address to open the group and place the order."""
    if request.method == "POST" and "address_id" not in request.POST:
        sku_id = parse_id(request.POST.get("sku_id", ""))
        item = group_queries.live_items(sku_ids=[sku_id]).get(sku_id) if sku_id else None
        if item is None:
            return _message(request, _("This group buy is not running."), 404)
        request.session[GROUP_OPEN_KEY] = {"item_id": item.pk, "quantity": request.POST.get("quantity", "1")[:8]}
        return redirect("storefront:group_open")
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    chosen = request.session.get(GROUP_OPEN_KEY)
    if not isinstance(chosen, dict):
        messages.info(request, _("Choose an item to buy first."))
        return redirect("storefront:home")
    try:
        item = group_services.live_item(chosen.get("item_id"))
        quantity = group_services.check_member_quantity(item.campaign, chosen.get("quantity"))
        quote = group_buy.quote(user=request.user, item=item, quantity=quantity)
    except DomainError as exc:
        request.session.pop(GROUP_OPEN_KEY, None)
        return _message(request, _error_text(exc), exc.status)
    action = reverse("storefront:group_open")
    if request.method == "GET":
        return _confirm(request, quote=quote, form_action=action, title=_("Open a group"))
    address_id = request.POST.get("address_id", "")
    try:
        # the form's one-time token is the idempotency key: a double submit opens one group
        token = request.POST.get("token", "").strip()[:64] or None
        result = group_buy.open_group(actor=request.user, item_id=item.pk, quantity=quantity, address_id=address_id,
                                      idempotency_key=token)
    except DomainError as exc:
        return _confirm(request, quote=quote, form_action=action, title=_("Open a group"), error=_error_text(exc),
                        errors=_fields(exc), address_id=address_id, status=exc.status)
    request.session.pop(GROUP_OPEN_KEY, None)
    messages.success(request, _("Your group is open. Pay now, then share its link: %(url)s") % {
        "url": request.build_absolute_uri(reverse("storefront:group", args=[result.group.share_code]))})
    return _redirect_to_gateway(request, result.placed.payment_id)


def _group(code):
    try:
        return group_services.group_by_code(code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None


def group_page(request, code):
    """The share link: who has paid, places left, time left, and a join button."""
    group = _group(code)
    info = group_queries.group_info(group)
    member = group_queries.member_of(group, request.user)
    quote = group_buy.quote(user=request.user, group=group) if info.joinable else None
    seconds, left = time_left(group.expires_at)
    return render(request, "storefront/group.html", {
        "seconds": seconds if info.seconds_left else 0, "left": left,
        "group": group, "info": info, "member": member, "quote": quote,
        "product_label": localized(group.item.sku.product, "title"),
        "share_url": seo.share_url(request, reverse("storefront:group", args=[group.share_code]), "group"),
        "empty_places": range(info.places_left),
    })


@require_http_methods(["GET", "POST"])
def group_join(request, code):
    """参团: GET shows the confirmation (quantity ?quantity=), POST with an address joins."""
    group = _group(code)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    source = request.POST if request.method == "POST" else request.GET
    action = reverse("storefront:group_join", args=[group.share_code])
    try:
        group_services.check_joinable(group, user=request.user)
        quantity = group_services.check_member_quantity(group.campaign, source.get("quantity", "1"))
        quote = group_buy.quote(user=request.user, group=group, quantity=quantity)
    except DomainError as exc:
        return _message(request, _error_text(exc), exc.status)
    if request.method == "GET":
        return _confirm(request, quote=quote, form_action=action, title=_("Join the group"))
    address_id = request.POST.get("address_id", "")
    try:
        result = group_buy.join_group(actor=request.user, share_code=group.share_code, quantity=quantity,
                                      address_id=address_id)
    except DomainError as exc:
        return _confirm(request, quote=quote, form_action=action, title=_("Join the group"), error=_error_text(exc),
                        errors=_fields(exc), address_id=address_id, status=exc.status)
    return _redirect_to_gateway(request, result.placed.payment_id)


@login_required
def my_groups(request):
    memberships = list(group_queries.groups_of(request.user)[:50])
    for m in memberships:
        m.product_label = localized(m.group.item.sku.product, "title")
    return render(request, "storefront/my_groups.html", {"memberships": memberships})
