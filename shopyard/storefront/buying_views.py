"""Buying pages: cart, checkout, the shopper's orders and their actions.

Each view parses the request, calls one service and renders. Service errors
(DomainError) become a message on the page with the error's 4xx status; an
illegal order transition is a 409 and a foreign id a 404. Guests shop with a
session cart; the session is created when they first add to the cart.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.accounts.queries import addresses_of
from shopyard.accounts.views import safe_next
from shopyard.aftersales import queries as aftersales_queries
from shopyard.analytics.services import record
from shopyard.cart import services as cart_services
from shopyard.cart.queries import cart_view
from shopyard.catalog.models import Product
from shopyard.checkout import services as checkout_services
from shopyard.checkout.buy_now import buy_now_line, buy_now_view
from shopyard.checkout.limits import max_units_per_sku
from shopyard.checkout.pricing import AUTO
from shopyard.checkout.services import nothing_to_check_out, place_order
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.i18n import localized
from shopyard.core.money import format_price
from shopyard.core.validation import parse_id
from shopyard.orders import queries as order_queries
from shopyard.orders import services as order_services
from shopyard.orders.state import BUYER_TAB_LABELS, BUYER_TABS, Action, Role, allowed_actions
from shopyard.payments import queries as payment_queries
from shopyard.payments import services as payment_services
from shopyard.payments.state import is_open as payment_is_open
from shopyard.promotions.coupons import coupon_groups, coupon_problems
from shopyard.reviews import queries as review_queries

from .seo import product_path

ORDERS_PER_PAGE = 10


def _error_text(exc: DomainError) -> str:
    """The message plus the field details a shopper needs ("Only 3 left in stock")."""
    text = str(exc.message)
    details = [str(m) for v in exc.fields.values() for m in (v if isinstance(v, list | tuple) else [v])]
    extra = [d for d in dict.fromkeys(details) if d != text]
    if extra and text in {str(DomainError.default_message), _("Some fields are invalid.")}:
        return " ".join(extra)
    return " ".join([text, *extra]) if extra else text


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- cart -------------------------------------------------------------------


def _cart(request, *, create=False):
    if request.user.is_authenticated:
        return cart_services.get_cart(user=request.user, create=create)
    key = request.session.session_key
    if create and not key:
        # an empty session is never saved: give it something so the cookie sticks
        request.session["guest_cart"] = True
        request.session.save()
        key = request.session.session_key
    return cart_services.get_cart(session_key=key, create=create)


def _decorate_cart(view):
    cap = max_units_per_sku()
    for group in [*view.groups, *view.shops]:
        group.shop_label = localized(group.shop, "name")
        for v in group.lines:
            images = list(v.line.sku.product.images.all())
            v.image = images[0] if images else None
            v.max_quantity = max(min(v.stock, cap), 1)
            v.minus = v.line.quantity - 1 if v.line.quantity > 1 else None
            v.plus = v.line.quantity + 1 if v.line.quantity < v.max_quantity else None
            if v.price_change is not None:
                amount = format_price(v.price_change_abs.amount, v.price_change_abs.currency)
                v.price_change_label = (_("Price dropped by %(amount)s") if v.price_dropped
                                        else _("Price up by %(amount)s")) % {"amount": amount}
    for v in view.unavailable:
        images = list(v.line.sku.product.images.all())
        v.image = images[0] if images else None
    return view


def _cart_context(request, *, error="", view=None, address=None):
    # signed in, the cart is priced with the best coupons the shopper holds, as checkout preselects,
    # and shipping to `address` (else the shopper's default address)
    view = _decorate_cart(view or cart_view(_cart(request), user=request.user, address=address))
    return {"cart": view, "error": error, "has_problem": any(not v.available for g in view.groups for v in g.lines),
            "selected_ids": {v.line.pk for g in view.groups for v in g.lines}}


def _render_cart(request, *, error="", status=200, partial=False, back_url=None):
    context = _cart_context(request, error=error)
    context.update(partial=partial, back_url=back_url)
    template = "storefront/_cart_body.html" if partial else "storefront/cart.html"
    return render(request, template, context, status=status)


def cart(request):
    return _render_cart(request)


def _cart_error(request, exc: DomainError):
    status = exc.status
    text = _error_text(exc)
    if _is_htmx(request):
        return _render_cart(request, error=text, status=status, partial=True)
    return _render_cart(request, error=text, status=status)


def _cart_changed(request, message):
    if _is_htmx(request):
        response = _render_cart(request, partial=True)
        response["HX-Trigger"] = "cartUpdated"
        return response
    messages.success(request, message)
    return redirect("storefront:cart")


@require_POST
def cart_add(request):
    try:
        basket = _cart(request, create=True)
        line = cart_services.add_line(
            cart=basket, sku_id=request.POST.get("sku_id", ""), quantity=request.POST.get("quantity", "1")
        )
    except DomainError as exc:
        status, text = exc.status, _error_text(exc)
        if _is_htmx(request):
            return render(request, "storefront/_cart_added.html", {"error": text}, status=status)
        return _render_cart(request, error=text, status=status, back_url=safe_next(request))
    record(request, "cart", product_id=line.sku.product_id)
    if _is_htmx(request):
        response = render(request, "storefront/_cart_added.html", {"line": line})
        response["HX-Trigger"] = "cartUpdated"
        return response
    messages.success(request, _("Added to your cart: %(item)s") % {"item": line.sku.product.label})
    return redirect(safe_next(request, reverse("storefront:cart")))


@require_POST
def cart_line_update(request, pk):
    # the stepper's − / + buttons post `set` (the new quantity); the input posts `quantity`
    quantity = request.POST.get("set") or request.POST.get("quantity", "")
    try:
        cart_services.set_quantity(cart=_cart(request), line_id=pk, quantity=quantity)
    except DomainError as exc:
        return _cart_error(request, exc)
    return _cart_changed(request, _("Quantity updated."))


@require_POST
def cart_line_remove(request, pk):
    try:
        cart_services.remove_line(cart=_cart(request), line_id=pk)
    except DomainError as exc:
        return _cart_error(request, exc)
    return _cart_changed(request, _("Item removed from your cart."))


def _ids(values) -> list[int]:
    return [i for i in (parse_id(v) for v in values) if i is not None]


@require_POST
def cart_select(request):
    """The selection form (see cart.services.apply_selection_form); htmx posts it on every tick."""
    try:
        cart_services.apply_selection_form(
            cart=_cart(request), shown=_ids(request.POST.getlist("shown")), ticked=_ids(request.POST.getlist("line")),
            all_now=bool(request.POST.get("all")), all_was=request.POST.get("all_was") == "1",
            shops_now=_ids(request.POST.getlist("shop")), shops_was=_ids(request.POST.getlist("shop_was")),
        )
    except DomainError as exc:
        return _cart_error(request, exc)
    return _cart_changed(request, _("Selection updated."))


@require_POST
def cart_remove_selected(request):
    try:
        cart_services.remove_selected(cart=_cart(request))
    except DomainError as exc:
        return _cart_error(request, exc)
    return _cart_changed(request, _("Selected items removed."))


@require_POST
def cart_line_acknowledge(request, pk):
    try:
        cart_services.acknowledge_price(cart=_cart(request), line_id=pk)
    except DomainError as exc:
        return _cart_error(request, exc)
    return _cart_changed(request, _("Price noted."))


@login_required
@require_POST
def cart_line_favourite(request, pk):
    try:
        cart_services.move_to_favourites(cart=_cart(request), line_id=pk, actor=request.user)
    except DomainError as exc:
        return _cart_error(request, exc)
    return _cart_changed(request, _("Moved to your favourites."))


# --- checkout ---------------------------------------------------------------


def _chosen_address(request, address_id=None):
    """The shopper's addresses and the one the page prices shipping for: the one
    posted (`address_id`) or picked (?address_id=), else the default, else the first."""
    addresses = addresses_of(request.user)
    pk = parse_id(address_id if address_id is not None else request.GET.get("address_id"))
    chosen = next((a for a in addresses if a.pk == pk), None) if pk else None
    if chosen is None:
        chosen = next((a for a in addresses if a.is_default), addresses[0] if addresses else None)
    return addresses, chosen


def _checkout_context(request, *, line=None, error="", errors=None, address_id=None, notes=None, coupons=None):
    """The checkout page for the cart, or for `line` (a buy-now line priced like a cart),
    with shipping for the chosen address.

    Coupons: the page prices with AUTO (the best the shopper holds) to offer every coupon
    with its saving and preselect the best; `coupons` (the shopper's choice from the
    pickers) prices the amounts shown instead. The form posts the pickers back, so the
    order is placed with exactly the coupons the page showed."""
    addresses, chosen = _chosen_address(request, address_id)
    if line is None:
        auto = cart_view(_cart(request), user=request.user, address=chosen)
        view = auto if coupons is None else cart_view(_cart(request), user=request.user, coupons=_ids(coupons),
                                                       address=chosen)
        context = _cart_context(request, view=view)
    else:
        auto = buy_now_view(line, user=request.user, address=chosen)
        view = auto if coupons is None else buy_now_view(line, user=request.user, coupons=_ids(coupons),
                                                         address=chosen)
        view = _decorate_cart(view)
        context = {"cart": view, "has_problem": any(not v.available for g in view.groups for v in g.lines)}
    coupon_errors = []
    if coupons is not None and view.pricing is not None:
        problems = coupon_problems(view.pricing, user=request.user, coupon_ids=_ids(coupons))
        coupon_errors = [p.message for p in problems.values()]
    coupon_errors += [str(m) for k, v in (errors or {}).items() if k.startswith("coupons") for m in v]
    context["coupon_groups"] = coupon_groups(auto.pricing, user=request.user, chosen=coupons and _ids(coupons),
                                             lang=get_language() or "zh-hans") if auto.pricing else []
    context["coupon_errors"] = list(dict.fromkeys(coupon_errors))
    if address_id is None:
        address_id = chosen.pk if chosen else None
    notes = notes or {}
    for group in context["cart"].groups:
        group.note = notes.get(str(group.shop.pk), "")
        group.note_errors = (errors or {}).get(f"notes[{group.shop.pk}]", [])
    context.update(
        addresses=addresses, address_id=str(address_id or ""), error=error, errors=errors or {},
        token=uuid.uuid4().hex, empty=not context["cart"].groups, buy_now=line is not None,
        form_action=reverse("storefront:buy_now" if line is not None else "storefront:checkout"),
    )
    return context


def _posted_notes(request) -> dict:
    """The per-shop note fields (note_<shop id>) as {shop id: text}; the service checks the ids."""
    return {key.removeprefix("note_"): value for key, value in request.POST.items() if key.startswith("note_")}


def _redirect_to_gateway(request, payment_id):
    payment = payment_services.own_payment(actor=request.user, payment_id=payment_id)
    if not payment_is_open(payment.status):
        return redirect("payments:return", reference=payment.reference)
    return redirect(payment_services.gateway_url(payment))


def _posted_coupons(request) -> list | None:
    """The coupon pickers (coupon_<choice group>) as the chosen ids; None when the form had
    no pickers (the shopper holds no coupon for this order: AUTO finds none either)."""
    if request.POST.get("coupons_chosen") != "1":
        return None
    return [value for key, value in sorted(request.POST.items()) if key.startswith("coupon_") and value.strip()]


def _place(request, *, lines=None, line=None):
    address_id = request.POST.get("address_id", "")
    notes = _posted_notes(request)
    coupons = _posted_coupons(request)
    if request.POST.get("apply_coupons"):  # a picker changed: show the new amounts, place nothing
        context = _checkout_context(request, line=line, address_id=address_id, notes=notes, coupons=coupons)
        return render(request, "storefront/checkout.html", context)
    # the form's one-time token is the idempotency key: a double submit replays the first result
    token = request.POST.get("token", "").strip()[:64] or None
    try:
        placed = place_order(actor=request.user, address_id=address_id, lines=lines,
                             note=request.POST.get("note", ""), notes=notes, idempotency_key=token,
                             coupons=AUTO if coupons is None else coupons)
    except DomainError as exc:
        fields = {k: [str(m) for m in v] if isinstance(v, list | tuple) else [str(v)] for k, v in exc.fields.items()}
        context = _checkout_context(request, line=line, error=_error_text(exc), errors=fields, address_id=address_id,
                                    notes=notes, coupons=coupons)
        return render(request, "storefront/checkout.html", context, status=exc.status)
    if lines is not None:
        request.session.pop(BUY_NOW_KEY, None)
    return _redirect_to_gateway(request, placed.payment_id)


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    if request.method == "GET":
        context = _checkout_context(request)
        if context["empty"]:
            messages.info(request, nothing_to_check_out(request.user))
            return redirect("storefront:cart")
        return render(request, "storefront/checkout.html", context)
    return _place(request)


BUY_NOW_KEY = "buy_now"


@require_http_methods(["GET", "POST"])
def buy_now(request):
    """立即购买: the product page's second button. A POST with sku_id and quantity
    (and no address) keeps that one line in the session and shows it as a
    checkout; the checkout form posts back here with an address to place the
    order for that line only. The cart is never read or written."""
    if request.method == "POST" and "address_id" not in request.POST:
        try:
            line = buy_now_line(sku_id=request.POST.get("sku_id", ""), quantity=request.POST.get("quantity", "1"))
        except DomainError as exc:
            return render(request, "storefront/message.html",
                          {"message": _error_text(exc)}, status=exc.status)
        request.session[BUY_NOW_KEY] = line
        return redirect("storefront:buy_now")
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    line = request.session.get(BUY_NOW_KEY)
    if not isinstance(line, dict):
        messages.info(request, _("Choose an item to buy first."))
        return redirect("storefront:home")
    try:
        buy_now_line(sku_id=line.get("sku_id"), quantity=line.get("quantity"))
    except DomainError as exc:
        request.session.pop(BUY_NOW_KEY, None)
        return render(request, "storefront/message.html",
                      {"message": _error_text(exc)}, status=exc.status)
    if request.method == "GET":
        return render(request, "storefront/checkout.html", _checkout_context(request, line=line))
    return _place(request, lines=[line], line=line)


# --- orders -----------------------------------------------------------------
# What an order allows is asked of orders.state.allowed_actions (for the buyer);
# cancelling and confirming receipt take a confirmation step that works without
# JavaScript: GET shows the question, only a POST with confirm=yes acts.


def _decorate_order(order):
    order.shop_label = localized(order.shop, "name")
    order.actions = {str(a) for a in allowed_actions(order.status, Role.BUYER)}
    for line in order.lines.all():
        line.title_label = localized(line, "product_title")
        line.sku_label = localized(line, "sku_name")
    return order


def _line_thumbnail(line):
    """The product's first image, when the SKU still exists (lines keep a snapshot of text only)."""
    if line.sku is None:
        return None
    images = list(line.sku.product.images.all())
    return images[0] if images else None


def _tab_of_status(status):
    """Older links (the profile page) filter by ?status=: show the tab holding it."""
    return next((tab for tab, statuses in BUYER_TABS.items() if statuses and status in statuses), "all")


# The order centre's tabs: the order statuses' (orders.state.BUYER_TABS) and, composed
# here because orders must not import reviews or aftersales, 待评价 (to review) after "to
# receive" (completed orders with a line not reviewed yet: reviews.queries.awaiting_review)
# and, last, 退款售后 (the buyer's after-sales cases in progress: its own page).
TO_REVIEW = "to_review"
TAB_ORDER = [*list(BUYER_TABS)[:list(BUYER_TABS).index("to_receive") + 1], TO_REVIEW,
             *list(BUYER_TABS)[list(BUYER_TABS).index("to_receive") + 1:]]


def _tab_orders(user, tab):
    if tab == TO_REVIEW:
        return review_queries.awaiting_review(order_queries.buyer_tab_orders(user, "all"))
    return order_queries.buyer_tab_orders(user, tab)


def order_centre_tabs(user) -> list:
    """The order centre's tabs as (key, url, label, count), in TAB_ORDER, then 退款售后."""
    counts = {**order_queries.buyer_tab_counts(user), TO_REVIEW: review_queries.awaiting_review_count(user)}
    labels = {**BUYER_TAB_LABELS, TO_REVIEW: _("To review")}
    orders_url = reverse("storefront:orders")
    tabs = [(tab, f"{orders_url}?tab={tab}", labels[tab], counts[tab]) for tab in TAB_ORDER]
    tabs.append(("aftersales", reverse("storefront:cases"), _("Refunds & after-sales"),
                 aftersales_queries.cases_in_progress_count(user)))
    return tabs


def _orders_page(request, *, error="", status=200):
    current = request.GET.get("tab") or _tab_of_status(request.GET.get("status", ""))
    if current not in TAB_ORDER:
        current = "all"
    page = Paginator(_tab_orders(request.user, current), ORDERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for order in page.object_list:
        _decorate_order(order)
        for line in order.lines.all():
            line.image = _line_thumbnail(line)
    context = {
        "page": page,
        "orders": page.object_list,
        "current": current,
        "tabs": order_centre_tabs(request.user),
        "error": error,
        "has_pending": any(Action.PAY in o.actions for o in page.object_list),
    }
    return render(request, "storefront/orders.html", context, status=status)


@login_required
def orders(request):
    return _orders_page(request)


def _buyer_order(request, pk):
    order = order_queries.buyer_order_detail(request.user, pk)
    if order is None:
        raise Http404(_("Order not found."))
    return _decorate_order(order)


def _order_page(request, pk, *, error="", status=200):
    order = _buyer_order(request, pk)
    parcels = list(order.shipments.all())
    history = list(order.history.all())
    for change in history:
        change.by = order_queries.history_label_for_buyer(change, order)
    context = {
        "order": order,
        "parcels": parcels,
        "history": history,
        "address": order.shipping_address or {},
        "can_pay": Action.PAY in order.actions,
        "can_cancel": Action.CANCEL in order.actions,
        "can_confirm": Action.CONFIRM_RECEIPT in order.actions,
        "refunds": payment_queries.refunds_for_order(order),
        # 申请退款 (paid, nothing shipped) / 申请售后 (shipped, a window open): aftersales decides
        "case_offers": aftersales_queries.order_offers(order),
        "cases": aftersales_queries.cases_of_order(order),
        "error": error,
    }
    # 评价 per line while it may be reviewed, 追评 later, and the review itself
    states = review_queries.line_states(order)
    lines = list(order.lines.all())
    # each line links its product's canonical page (one query for the slugs)
    slugs = dict(Product.objects.filter(pk__in={ln.product_id_snapshot for ln in lines if ln.product_id_snapshot})
                 .values_list("pk", "slug"))
    for line in lines:
        line.review_state = states[line.pk]
        pid = line.product_id_snapshot
        line.product_href = product_path(pid, slugs.get(pid) or "") if pid in slugs else ""
    return render(request, "storefront/order_detail.html", context, status=status)


@login_required
def order_detail(request, pk):
    return _order_page(request, pk)


CONFIRM_STEPS = {
    Action.CANCEL: {
        "title": gettext_lazy("Cancel this order?"),
        "text": gettext_lazy("The items go back on sale and any pending payment for it is closed. This cannot be undone."),
        "button": gettext_lazy("Yes, cancel the order"),
        "done": gettext_lazy("The order was cancelled."),
        "url": "storefront:order_cancel",
    },
    Action.CONFIRM_RECEIPT: {
        "title": gettext_lazy("Confirm that you received this order?"),
        "text": gettext_lazy("Confirm only once the parcel has arrived and its contents are right: the order is then completed."),
        "button": gettext_lazy("Yes, I received it"),
        "done": gettext_lazy("Thank you! The order is completed."),
        "url": "storefront:order_confirm",
    },
}


def _order_action(request, pk, action, service):
    step = CONFIRM_STEPS[action]
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        order = _buyer_order(request, pk)
        context = {"order": order, "step": step, "action_url": reverse(step["url"], args=[order.pk]),
                   "allowed": action in order.actions}
        return render(request, "storefront/order_confirm.html", context)
    try:
        service(actor=request.user, order_id=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    except DomainError as exc:
        return _order_page(request, pk, error=_error_text(exc), status=exc.status)
    messages.success(request, str(step["done"]))
    return redirect("storefront:order_detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request, pk):
    return _order_action(request, pk, Action.CANCEL, order_services.cancel_by_buyer)


@login_required
@require_http_methods(["GET", "POST"])
def order_confirm(request, pk):
    return _order_action(request, pk, Action.CONFIRM_RECEIPT, order_services.confirm_receipt)


@login_required
@require_POST
def order_pay(request):
    order_ids = [parse_id(r) for r in request.POST.getlist("order_ids")]
    if not order_ids or None in order_ids:
        return _orders_page(request, error=_("Choose the orders to pay."), status=400)
    try:
        payment = payment_services.start_payment(actor=request.user, order_ids=order_ids)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    except DomainError as exc:
        return _orders_page(request, error=_error_text(exc), status=exc.status)
    return redirect(payment_services.gateway_url(payment))


@login_required
@require_POST
def order_buy_again(request, pk):
    try:
        result = checkout_services.buy_again(actor=request.user, order_id=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    except DomainError as exc:
        return _orders_page(request, error=_error_text(exc), status=exc.status)
    if result.added:
        messages.success(request, _("%(n)s item(s) added to your cart.") % {"n": len(result.added)})
    if result.skipped:
        names = "; ".join(f"{localized(line, 'product_title')} ({reason})" for line, reason in result.skipped)
        messages.warning(request, _("Not added, no longer available: %(items)s") % {"items": names})
    return redirect("storefront:cart")
