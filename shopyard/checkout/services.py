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

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.accounts.queries import own_address
from shopyard.cart.queries import shipping_fee_for
from shopyard.cart.services import buyable_sku, line_items, remove_purchased
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.models import IdempotencyRecord
from shopyard.core.money import CurrencyMismatch, Money
from shopyard.core.validation import check_id, check_quantity
from shopyard.inventory import services as inventory
from shopyard.orders.services import create_order

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


def _normalise_lines(lines):
    if not isinstance(lines, list) or not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one item.")]})
    if len(lines) > 100:
        raise ValidationFailed(fields={"lines": [_("At most 100 lines per order.")]})
    merged: dict[int, int] = {}
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ValidationFailed(fields={f"lines[{i}]": [_("Give a SKU and a quantity.")]})
        sku_id = check_id(line.get("sku_id"), f"lines[{i}].sku_id")
        qty = check_quantity(line.get("quantity"), f"lines[{i}].quantity")
        merged[sku_id] = merged.get(sku_id, 0) + qty
        check_quantity(merged[sku_id], f"lines[{i}].quantity")
    return sorted(merged.items())


def place_order(*, actor, address_id, lines=None, note="", idempotency_key=None) -> PlacedCheckout:
    """Place orders for `lines` ([{sku_id, quantity}]) or, when None, the actor's cart."""
    from_cart = lines is None
    if idempotency_key is not None:
        idempotency_key = str(idempotency_key).strip()
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            raise ValidationFailed(fields={"Idempotency-Key": [_("Use 1 to 128 characters.")]})
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed(fields={"note": [_("Use at most %(n)s characters.") % {"n": 200}]})
    address_id = check_id(address_id, "address_id")

    items = None if from_cart else _normalise_lines(lines)
    # the fingerprint covers the request, not the cart (server state the first call empties),
    # so a retried cart checkout replays instead of failing with "your cart is empty"
    fingerprint = request_fingerprint({"address_id": address_id, "lines": items, "note": note, "cart": from_cart})

    if idempotency_key:
        earlier = _replay(actor, idempotency_key, fingerprint)
        if earlier:
            return earlier
    if from_cart:
        lines = line_items(user=actor)
        if not lines:
            # a concurrent request with this key may have just emptied the cart
            earlier = _replay(actor, idempotency_key, fingerprint) if idempotency_key else None
            if earlier:
                return earlier
            raise ValidationFailed(_("Your cart is empty."), fields={"lines": [_("Your cart is empty.")]})
        items = _normalise_lines(lines)
    # field errors name the line as the client sent it (items are sorted by SKU id)
    positions = {}
    for i, line in enumerate(lines):
        positions.setdefault(check_id(line["sku_id"], f"lines[{i}].sku_id"), i)
    try:
        with transaction.atomic():
            record = None
            if idempotency_key:
                # first statement of the transaction, so no savepoint is needed: a
                # duplicate key aborts this transaction, which is then rolled back
                try:
                    record = IdempotencyRecord.objects.create(
                        user=actor, scope="place_order", key=idempotency_key, request_hash=fingerprint
                    )
                except IntegrityError:
                    raise _KeyTaken() from None
            result = _place(actor=actor, address_id=address_id, items=items, note=note, from_cart=from_cart,
                            positions=positions)
            if record is not None:
                record.result = {"checkout_id": result.checkout_id, "order_ids": result.order_ids, "payment_id": result.payment_id}
                record.save(update_fields=["result"])
            return result
    except _KeyTaken:
        # a concurrent request with the same key committed first: return its result
        earlier = _replay(actor, idempotency_key, fingerprint)
        if earlier:
            return earlier
        raise ValidationFailed(fields={"Idempotency-Key": [_("This key is being used by another request.")]}) from None


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
    return PlacedCheckout(checkout_id=r["checkout_id"], order_ids=r["order_ids"], payment_id=r["payment_id"], replayed=True)


def _place(*, actor, address_id, items, note, from_cart, positions=None) -> PlacedCheckout:
    from shopyard.payments.services import create_payment

    address = own_address(actor, address_id)
    if address is None:
        raise NotFound(_("Address not found."), fields={"address_id": [_("Choose one of your addresses.")]})
    skus = []
    for index, (sku_id, qty) in enumerate(items):
        index = (positions or {}).get(sku_id, index)
        sku = buyable_sku(sku_id, field=f"lines[{index}].sku_id")
        skus.append((index, sku, qty))

    by_shop: dict[int, list] = {}
    for entry in skus:
        by_shop.setdefault(entry[1].product.shop_id, []).append(entry)
    currencies = {sku.product.currency for _i, sku, _q in skus}
    if len(currencies) > 1:
        raise ValidationFailed(fields={"lines": [_("Items priced in different currencies must be ordered separately.")]})

    checkout_id = uuid.uuid4()
    snapshot = address.snapshot()
    orders = []
    for shop_id in sorted(by_shop):
        entries = by_shop[shop_id]
        shop = entries[0][1].product.shop
        currency = entries[0][1].product.currency
        subtotal = Money.zero(currency)
        priced = []
        for index, sku, qty in entries:
            unit = Money(sku.price, currency)
            line_total = (unit * qty).quantize()
            subtotal = subtotal + line_total
            priced.append((index, sku, qty, unit, line_total))
        try:
            fee = shipping_fee_for(shop, subtotal).quantize()
        except CurrencyMismatch:
            raise ValidationFailed(fields={"lines": [_("Currency mismatch.")]}) from None
        total = subtotal + fee
        order = create_order(
            actor=actor, shop=shop, checkout_id=checkout_id, number=_order_number(), currency=currency,
            subtotal=subtotal.to_storage(), shipping_fee=fee.to_storage(), total=total.to_storage(),
            address=snapshot, note=note,
            lines=[{
                "sku": sku, "product_id_snapshot": sku.product_id, "product_title": sku.product.title,
                "product_title_en": sku.product.title_en, "sku_code": sku.code, "sku_name": sku.name,
                "sku_name_en": sku.name_en, "unit_price": unit.to_storage(), "quantity": qty,
                "line_total": line_total.to_storage(),
            } for _i, sku, qty, unit, line_total in priced],
        )
        orders.append((order, priced))
    # take stock in global SKU order across all shops: no lock-order deadlocks
    for order, priced in sorted(((o, p) for o, ps in orders for p in ps), key=lambda x: x[1][1].pk):
        index, sku, qty = priced[0], priced[1], priced[2]
        inventory.take(sku=sku, quantity=qty, order=order, field=f"lines[{index}].quantity")
    payment = create_payment(user=actor, orders=[o for o, _p in orders])
    if from_cart:
        remove_purchased(user=actor, sku_ids=[sku.pk for _i, sku, _q in skus])
    emit("checkout.placed", checkout_id=str(checkout_id), order_ids=[o.pk for o, _p in orders], user_id=actor.pk)
    return PlacedCheckout(checkout_id=str(checkout_id), order_ids=[o.pk for o, _p in orders], payment_id=payment.pk,
                          orders=[o for o, _p in orders], payment=payment)
