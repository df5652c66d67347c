"""Placing orders: a cart (or a buy-now list) becomes one order per shop and
one payment that covers them all, in one transaction.

Prices come from the catalogue at this moment, never from the client. Stock
is taken by conditional UPDATEs in SKU id order (so two checkouts never
deadlock), and an Idempotency-Key makes a retried request return the first
result instead of buying twice.
"""

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.accounts.models import Address, User
from shopyard.accounts.queries import owned_address
from shopyard.cart.services import buyable_sku, line_items, remove_purchased
from shopyard.core.bulk_sql import create_row_locking
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.events import batched, emit
from shopyard.core.i18n import localized
from shopyard.core.models import IdempotencyRecord
from shopyard.core.prepared import PreparedRead
from shopyard.core.validation import check_id, check_quantity
from shopyard.inventory import services as inventory
from shopyard.orders.queries import buyer_orders
from shopyard.orders.services import create_order
from shopyard.orders.state import Status as OrderStatus
from shopyard.promotions.coupon_queries import holds_usable
from shopyard.promotions.coupons import coupon_problems, refuse_problems
from shopyard.shipping.queries import province_name

from .limits import max_units_per_sku, max_unpaid_orders
from .pricing import AUTO, price_lines

MAX_KEY_LENGTH = 128


@dataclass
class PlacedCheckout:
    checkout_id: str
    order_ids: list
    payment_id: int
    replayed: bool = False
    # the rows just written (lines in `order.line_list`), so callers need not read them back
    orders: list | None = None
    payment: object | None = None


def _order_number():
    return f"{timezone.localtime():%Y%m%d}{secrets.randbelow(10**12):012d}"


def request_fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def normalise_lines(lines):
    if not isinstance(lines, list) or not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one item.")]})
    if len(lines) > 100:
        raise ValidationFailed(fields={"lines": [_("At most 100 lines per order.")]})
    merged: dict[int, int] = {}
    limit = max_units_per_sku()
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ValidationFailed(fields={f"lines[{i}]": [_("Give a SKU and a quantity.")]})
        sku_id = check_id(line.get("sku_id"), f"lines[{i}].sku_id")
        qty = check_quantity(line.get("quantity"), f"lines[{i}].quantity")
        merged[sku_id] = merged.get(sku_id, 0) + qty
        if merged[sku_id] > limit:
            # against stock hoarding: one order holds at most `limit` units of a SKU
            raise ValidationFailed(fields={f"lines[{i}].quantity": [
                _("At most %(limit)s units of one item per order.") % {"limit": limit}
            ]})
    return sorted(merged.items())


NOTE_MAX = 200


def _clean_note(text, field) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValidationFailed(fields={field: [_("Enter text.")]})
    text = text.strip()
    if "\x00" in text:
        raise ValidationFailed(fields={field: [_("Remove the NUL character.")]})
    if len(text) > NOTE_MAX:
        raise ValidationFailed(fields={field: [_("Use at most %(n)s characters.") % {"n": NOTE_MAX}]})
    return text


def _clean_notes(notes) -> dict:
    """Per-shop notes ({shop_id: text}); empty ones are dropped."""
    if notes is None:
        return {}
    if not isinstance(notes, dict):
        raise ValidationFailed(fields={"notes": [_("Give one note per shop id.")]})
    if len(notes) > 100:
        raise ValidationFailed(fields={"notes": [_("At most 100 notes per order.")]})
    cleaned = {}
    for key, text in notes.items():
        shop_id = check_id(key, "notes")
        text = _clean_note(text, f"notes[{shop_id}]")
        if text:
            cleaned[shop_id] = text
    return cleaned


def clean_coupons(coupons):
    """The shopper's coupon choice: AUTO (the best they hold) or a list of their coupon ids."""
    if coupons is None or coupons == AUTO:
        return AUTO
    if not isinstance(coupons, list) or len(coupons) > 20:
        raise ValidationFailed(fields={"coupons": [_("Give a list of at most 20 coupon ids.")]})
    return sorted({check_id(c, f"coupons[{i}]") for i, c in enumerate(coupons)})


def place_order(*, actor, address_id, lines=None, note="", notes=None, idempotency_key=None, coupons=AUTO,
                line_context=None) -> PlacedCheckout:
    """Place orders for `lines` ([{sku_id, quantity}]) or, when None, the actor's cart.

    `note` goes on every order; `notes` ({shop_id: text}) gives a shop's order its own note instead.
    `coupons` is AUTO (the best the shopper holds, as the checkout page preselects) or their
    chosen coupon ids. `line_context` ({sku_id: {...}}) is for callers inside the server only
    (a flash sale's reservation): it tells the pricing pipeline what else a line carries."""
    from_cart = lines is None
    if idempotency_key is not None:
        idempotency_key = str(idempotency_key).strip()
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            raise ValidationFailed(fields={"Idempotency-Key": [_("Use 1 to 128 characters.")]})
    note = _clean_note(note, "note")
    notes = _clean_notes(notes)
    chosen, coupons = coupons, clean_coupons(coupons)
    coupon_positions = {}  # a refused coupon's field error names it by its position in the request
    for i, raw in enumerate(chosen if coupons != AUTO else []):
        coupon_positions.setdefault(check_id(raw, f"coupons[{i}]"), i)
    address_id = check_id(address_id, "address_id")

    items = None if from_cart else normalise_lines(lines)
    # the fingerprint covers the request, not the cart (server state the first call empties),
    # so a retried cart checkout replays instead of failing with "your cart is empty"
    fingerprint = request_fingerprint({"address_id": address_id, "lines": items, "note": note, "cart": from_cart,
                                       **({"notes": sorted(notes.items())} if notes else {}),
                                       **({"coupons": coupons} if coupons != AUTO else {})})

    # no look-up of the key first: its INSERT below is the look-up (a taken key fails it and
    # is replayed then), so a new key costs one statement and a replay a rolled-back one
    if from_cart:
        lines = line_items(user=actor)
        if not lines:
            # a concurrent request with this key may have just emptied the cart
            earlier = _replay(actor, idempotency_key, fingerprint) if idempotency_key else None
            if earlier:
                return earlier
            message = nothing_to_check_out(actor)
            raise ValidationFailed(message, fields={"lines": [message]})
        items = normalise_lines(lines)
    # field errors name the line as the client sent it (items are sorted by SKU id)
    positions = {}
    for i, line in enumerate(lines):
        positions.setdefault(check_id(line["sku_id"], f"lines[{i}].sku_id"), i)
    checkout_id = uuid.uuid4()
    try:
        with transaction.atomic():
            if idempotency_key:
                # first statement of the transaction, so no savepoint is needed: a
                # duplicate key aborts this transaction, which is then rolled back.
                # The same statement takes the shopper's row lock (_lock_shopper's),
                # so on PostgreSQL a concurrent request with the same key waits here
                # until the first commits (then replays it) or rolls back (then
                # goes on). The result is the checkout id, known already: the
                # record needs no second write, and it exists exactly when the
                # orders do (one transaction)
                try:
                    create_row_locking(IdempotencyRecord(
                        user=actor, scope="place_order", key=idempotency_key, request_hash=fingerprint,
                        result={"checkout_id": str(checkout_id)},
                    ), "user")
                except IntegrityError:
                    raise _KeyTaken() from None
            else:
                _lock_shopper(actor)
            with batched():  # the checkout's events (order.placed, checkout.placed, …) in one INSERT
                return _place(actor=actor, address_id=address_id, items=items, note=note, notes=notes,
                              from_cart=from_cart, positions=positions, coupons=coupons, checkout_id=checkout_id,
                              line_context=line_context or {}, coupon_positions=coupon_positions)
    except _KeyTaken:
        # a concurrent request with the same key committed first: return its result
        earlier = _replay(actor, idempotency_key, fingerprint)
        if earlier:
            return earlier
        raise ValidationFailed(fields={"Idempotency-Key": [_("This key is being used by another request.")]}) from None


def nothing_to_check_out(user) -> str:
    """Why a cart checkout has no line: nothing ticked, or nothing that can be bought."""
    from shopyard.cart.services import buyable_lines, get_cart

    cart = get_cart(user=user)
    if cart is not None and buyable_lines(cart).exists():
        return _("Select at least one item to check out.")
    return _("Your cart is empty.")


class _KeyTaken(Exception):
    pass


def _replay(actor, key, fingerprint):
    record = IdempotencyRecord.objects.filter(user=actor, scope="place_order", key=key).first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise ValidationFailed(
            _("This Idempotency-Key was used with a different request."),
            fields={"Idempotency-Key": [_("This key was already used with a different request body.")]},
            code="idempotency_key_reused",
        )
    r = record.result
    if "order_ids" in r:  # written before the record held only the checkout id
        return PlacedCheckout(checkout_id=r["checkout_id"], order_ids=r["order_ids"], payment_id=r["payment_id"],
                              replayed=True)
    return placed_checkout(actor, r["checkout_id"])


def placed_checkout(actor, checkout_id) -> PlacedCheckout:
    """An earlier checkout of the actor's, as a replay answers it: its orders and their payment."""
    from shopyard.payments.models import Payment

    order_ids = list(buyer_orders(actor).filter(checkout_id=checkout_id).order_by("pk").values_list("pk", flat=True))
    payment_id = Payment.objects.filter(orders__in=order_ids).order_by("pk").values_list("pk", flat=True).first()
    return PlacedCheckout(checkout_id=str(checkout_id), order_ids=order_ids, payment_id=payment_id, replayed=True)


# both run on every checkout: compiled once (core.prepared)
_LOCK_USER = PreparedRead(User, lambda pk: User.objects.select_for_update().filter(pk=pk).values_list("pk")[:1])


def _unpaid_count(user_id):
    return (buyer_orders(User(pk=user_id), status=OrderStatus.PENDING_PAYMENT).order_by()
            .values("user_id").annotate(n=Count("pk")).values("n"))


# the address to deliver to, with the shopper's unpaid orders counted (`unpaid_orders`) and
# whether they hold a coupon usable now (`holds_coupons`)
_ADDRESS_AND_UNPAID = PreparedRead(Address, lambda pk, user_id, now: owned_address(pk, user_id).annotate(
    unpaid_orders=Coalesce(Subquery(_unpaid_count(user_id)), 0), holds_coupons=holds_usable(user_id, now)),
    kinds=("id", "id", "moment"))


def _lock_shopper(actor):
    """The shopper's row lock, held to the end of the checkout's transaction: it serialises
    their concurrent checkouts, so two cannot both pass the unpaid-order count. A checkout
    with an Idempotency-Key takes it in its key's INSERT (`create_row_locking`). SQLite has
    no row locks: a Shopyard transaction there holds the write lock from its BEGIN IMMEDIATE."""
    if connections[router.db_for_write(User)].features.has_select_for_update:
        _LOCK_USER.rows(actor.pk)


def _check_unpaid_orders(actor, *, new_orders, open_now):
    """Against stock hoarding: an account holds at most MAX_UNPAID_ORDERS orders awaiting payment.
    `open_now` is their count, read with the address after `_lock_shopper`'s lock was granted:
    in a statement of its own after the locking one, not in it, as a count folded into the
    locking statement would be read with the snapshot taken before the lock was granted
    (PostgreSQL), missing the order of the checkout that held it."""
    limit = max_unpaid_orders()
    if open_now + new_orders > limit:
        message = _("You have %(n)s unpaid orders (at most %(limit)s). Pay or cancel some before placing more.") % {
            "n": open_now, "limit": limit}
        raise Conflict(message, fields={"orders": [message]}, code="too_many_unpaid_orders")


def _place(*, actor, address_id, items, note, notes=None, from_cart, positions=None, coupons=AUTO,
           line_context=None, coupon_positions=None, checkout_id=None) -> PlacedCheckout:
    from shopyard.payments.services import create_payment

    now = timezone.now()  # the moment the coupons are judged at, in both reads below
    found = _ADDRESS_AND_UNPAID.objects(address_id, actor.pk, now)  # after the lock (place_order)
    address = found[0] if found else None
    if address is None:
        raise NotFound(_("Address not found."), fields={"address_id": [_("Choose one of your addresses.")]})
    skus = []
    for index, (sku_id, qty) in enumerate(items):
        index = (positions or {}).get(sku_id, index)
        sku = buyable_sku(sku_id, field=f"lines[{index}].sku_id")
        skus.append((sku, qty, index, (line_context or {}).get(sku_id)))

    # the amounts the cart showed: the same pipeline, the same offers, the same rounding
    # the best coupon held (AUTO) of a shopper who holds none usable now: none to read
    pricing = price_lines(skus, user=actor, coupons=[] if coupons == AUTO and not address.holds_coupons else coupons,
                          address=address, now=now)
    if pricing.mixed_currencies:
        raise ValidationFailed(fields={"lines": [_("Items priced in different currencies must be ordered separately.")]})
    refused = [amounts for amounts in pricing.shops if amounts.undeliverable]
    if refused:
        messages = [_("%(shop)s does not deliver to %(province)s.") % {
            "shop": localized(a.shop, "name"), "province": province_name(pricing.province_code)} for a in refused]
        raise ValidationFailed(refused[0].undeliverable, fields={"address_id": messages}, code="undeliverable_region")
    if coupons != AUTO:  # every chosen coupon applies, or the checkout is refused with the reason
        refuse_problems(coupon_problems(pricing, user=actor, coupon_ids=coupons), coupon_positions or {})
    unknown = sorted(set(notes or {}) - {amounts.shop.pk for amounts in pricing.shops})
    if unknown:
        raise ValidationFailed(fields={f"notes[{k}]": [_("No item in this order comes from this shop.")] for k in unknown})
    _check_unpaid_orders(actor, new_orders=len(pricing.shops), open_now=address.unpaid_orders)

    checkout_id = checkout_id or uuid.uuid4()
    snapshot = address.snapshot()
    orders = []
    for amounts in pricing.shops:
        order = create_order(
            actor=actor, shop=amounts.shop, checkout_id=checkout_id, number=_order_number(),
            currency=amounts.currency, subtotal=amounts.subtotal.to_storage(),
            discount_total=amounts.discount.to_storage(), shipping_fee=amounts.shipping_fee.to_storage(),
            shipping_discount=amounts.shipping_discount.to_storage(), total=amounts.total.to_storage(),
            address=snapshot, note=(notes or {}).get(amounts.shop.pk, note),
            lines=[{
                "sku": p.sku, "product_id_snapshot": p.sku.product_id, "product_title": p.sku.product.title,
                "product_title_en": p.sku.product.title_en, "sku_code": p.sku.code, "sku_name": p.sku.name,
                "sku_name_en": p.sku.name_en, "unit_price": p.unit_price.to_storage(), "quantity": p.quantity,
                "line_total": p.line_total.to_storage(), "discount": p.discount.to_storage(),
                "net_total": p.net_total.to_storage(), "is_gift": p.is_gift,
            } for p in amounts.lines],
            adjustments=[[_adjustment_row(a) for a in p.adjustments] for p in amounts.lines],
            shipping_adjustments=[_adjustment_row(a) for a in amounts.shipping_adjustments],
            pay_within_minutes=amounts.pay_within_minutes,
        )
        orders.append((order, amounts.lines))
    # take stock in global SKU order across all shops: no lock-order deadlocks; lines whose
    # units an offer brings (a flash sale's own stock) take none
    takes = [(o, p) for o, ps in orders for p in ps if not p.own_stock]
    for order, priced in sorted(takes, key=lambda x: x[1].sku.pk):
        field = f"lines[{priced.ref}].quantity" if isinstance(priced.ref, int) else "lines"
        inventory.take(sku=priced.sku, quantity=priced.quantity, order=order, field=field)
    # the offers that priced these orders are taken now (a coupon marked used, a
    # reservation consumed); one that is gone meanwhile rolls the checkout back
    orders_by_shop = {o.shop_id: o for o, _p in orders}
    for offer in pricing.offers:
        offer.claim(actor=actor, orders_by_shop=orders_by_shop, checkout_id=checkout_id)
    payment = create_payment(actor=actor, orders=[o for o, _p in orders])
    if from_cart:
        remove_purchased(user=actor, sku_ids=[sku.pk for sku, _q, _i, _c in skus])
    emit("checkout.placed", checkout_id=str(checkout_id), order_ids=[o.pk for o, _p in orders], user_id=actor.pk)
    return PlacedCheckout(checkout_id=str(checkout_id), order_ids=[o.pk for o, _p in orders], payment_id=payment.pk,
                          orders=[o for o, _p in orders], payment=payment)


def _adjustment_row(adjustment) -> dict:
    return {"kind": adjustment.kind, "source": adjustment.source, "source_id": adjustment.source_id,
            "label": adjustment.label[:200], "label_en": adjustment.label_en[:200],
            "amount": adjustment.amount.to_storage(), "funded_by": adjustment.funded_by}


def replay(actor, key, *, address_id, lines, note=""):
    """The result of an earlier place_order with this Idempotency-Key and request, or
    None (checkout.flash asks before reserving, so a retry does not reserve again)."""
    items = normalise_lines(lines)
    fingerprint = request_fingerprint({"address_id": address_id, "lines": items, "note": note, "cart": False})
    return _replay(actor, key, fingerprint)


@dataclass
class BoughtAgain:
    added: list  # the cart lines written
    skipped: list  # (order line, reason) for lines that can no longer be bought


def buy_again(*, actor, order_id) -> BoughtAgain:
    """Put an order's lines back into the actor's cart, through the cart's own
    add_line (so visibility, stock and the per-line cap are the cart's rules);
    lines that cannot be bought any more are skipped and reported, not fatal."""
    from shopyard.cart.services import add_line, get_cart
    from shopyard.core.errors import DomainError
    from shopyard.orders.queries import buyer_order_detail

    order = buyer_order_detail(actor, order_id)
    if order is None:
        raise NotFound(_("Order not found."))
    cart = get_cart(user=actor, create=True)
    added, skipped = [], []
    with transaction.atomic():
        for line in order.lines.all():
            if line.sku_id is None:
                skipped.append((line, _("This item is no longer sold.")))
                continue
            try:  # add_line's own atomic block is a savepoint: a refused line leaves no trace
                added.append(add_line(cart=cart, sku_id=line.sku_id, quantity=line.quantity))
            except DomainError as exc:
                skipped.append((line, _error_text(exc)))
        if added:
            emit("cart.refilled", order_id=order.pk, user_id=actor.pk, sku_ids=[ln.sku_id for ln in added])
    return BoughtAgain(added=added, skipped=skipped)


def _error_text(exc) -> str:
    details = [str(m) for v in exc.fields.values() for m in (v if isinstance(v, list | tuple) else [v])]
    return details[0] if details else str(exc.message)
