"""The flash-sale page (秒杀): the live or next session's items with a
countdown, and the buy button that opens at the start second. The page shows
what the server's clock says; the button is only a convenience, the
reservation checks the time, the stock and the limit again."""

import uuid

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.accounts.queries import addresses_of
from shopyard.checkout.flash import HeldPurchase, buy_flash, held_purchase
from shopyard.core.errors import DomainError
from shopyard.core.i18n import localized
from shopyard.core.money import format_price
from shopyard.promotions import flash_queries

from .buying_views import _error_text, _redirect_to_gateway


def _seconds(delta) -> int:
    return max(0, int(delta.total_seconds() + 0.999))


def countdown_text(seconds: int) -> str:
    """As countdown.js shows it: H:MM:SS, or MM:SS under an hour."""
    h, rest = divmod(seconds, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def flash_sale(request):
    now = timezone.now()
    sale = flash_queries.featured_session(now)
    context = {"sale": sale, "items": [], "token": uuid.uuid4().hex}
    if sale is not None:
        phase = flash_queries.phase(sale, now)
        opens_in = _seconds(sale.starts_at - now) if phase == "upcoming" else 0
        items = []
        for item in sale.items.all():
            sku = item.sku
            items.append({
                "item": item, "label": f"{localized(sku.product, 'title')} {sku.label}".strip(),
                "flash_price": format_price(item.flash_price, item.currency),
                "list_price": format_price(sku.price, item.currency),
                "left": item.available, "sold_out": item.available <= 0 and phase == "live",
                "sold_percent": 100 - (100 * item.available // item.quantity if item.quantity else 0),
            })
        context.update(
            items=items, phase=phase, sale_name=localized(sale, "name") or sale.name, opens_in=opens_in,
            ends_in=_seconds(sale.ends_at - now), opens_in_text=countdown_text(opens_in),
            ends_in_text=countdown_text(_seconds(sale.ends_at - now)), starts_at=timezone.localtime(sale.starts_at),
            ends_at=timezone.localtime(sale.ends_at),
        )
    return render(request, "storefront/flash_sale.html", context)


@login_required
@require_POST
def flash_buy(request, pk):
    """Buy one flash item with the shopper's default address (or the one posted);
    the form's one-time token is the idempotency key, so a double click buys once."""
    addresses = addresses_of(request.user)
    address_id = request.POST.get("address_id") or (addresses[0].pk if addresses else None)
    if address_id is None:
        return render(request, "storefront/message.html",
                      {"message": _("Add a delivery address before buying in a flash sale.")}, status=422)
    token = request.POST.get("token", "").strip()[:64] or None
    try:
        placed = buy_flash(actor=request.user, item_id=pk, quantity=request.POST.get("quantity", "1"),
                           address_id=address_id, idempotency_key=token)
    except DomainError as exc:
        return render(request, "storefront/message.html", {"message": _error_text(exc)}, status=exc.status)
    if isinstance(placed, HeldPurchase):  # the units are the shopper's; a worker is making the order
        return redirect("storefront:flash_hold", token=placed.token)
    return _redirect_to_gateway(request, placed.payment_id)


@login_required
def flash_hold(request, token):
    """The page a shopper waits on while a worker makes the order of their flash
    purchase: it reloads itself every second, then opens the payment (or says why
    the order could not be made; the units went back)."""
    try:
        state = held_purchase(actor=request.user, token=token)
    except DomainError as exc:
        return render(request, "storefront/message.html", {"message": _error_text(exc)}, status=exc.status)
    if state["status"] == "ordered":
        return _redirect_to_gateway(request, state["placed"].payment_id)
    if state["status"] == "failed":
        return render(request, "storefront/message.html", {"message": state["error"]["message"]}, status=409)
    return render(request, "storefront/flash_hold.html", {"retry_seconds": 1})


def product_flash_badges(product_id, now=None, rows=None):
    """What the product page shows for its SKUs in a live session ({sku_id: badge}),
    and when that changes by itself (a session starting or ending), or None. `rows`:
    flash_queries.product_sessions' answer at `now`, when the caller has it."""
    now = now or timezone.now()
    live, changes_at = flash_queries.flash_for_product(product_id, now, rows=rows)
    badges = {}
    for sku_id, item in live.items():
        left_seconds = _seconds(item.sale.ends_at - now)
        badges[sku_id] = {"item": item, "price": format_price(item.flash_price, item.currency), "left": item.available,
                          "ends_in": left_seconds, "ends_in_text": countdown_text(left_seconds)}
    return badges, changes_at
