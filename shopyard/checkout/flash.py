"""Buying in a flash sale: reserve flash units, then place the order for that
one line, priced by the pipeline at the flash price.

The reservation travels to the pipeline in the line's context
(`{"flash": reservation}`); promotions' FlashOffer prices the line, takes no
normal stock for it (own_stock) and ties the reservation to the order inside
place_order's transaction. If placing fails for any reason, the units go
back at once. A retried request with the same Idempotency-Key returns the
first result without reserving again.
"""

from django.utils.translation import gettext as _

from shopyard.core.errors import ValidationFailed
from shopyard.core.validation import check_id, check_quantity
from shopyard.promotions import flash

from .services import MAX_KEY_LENGTH, PlacedCheckout, place_order, replay


def buy_flash(*, actor, item_id, quantity, address_id, idempotency_key=None, now=None) -> PlacedCheckout:
    """Reserve `quantity` units of flash item `item_id` for `actor` and place the
    order (one line, one payment). Raises the reservation's 409s (sold out,
    limit reached, not open) and place_order's errors; nothing stays reserved
    when it raises."""
    quantity = check_quantity(quantity, "quantity")
    address_id = check_id(address_id, "address_id")
    if idempotency_key is not None:
        idempotency_key = str(idempotency_key).strip()
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            raise ValidationFailed(fields={"Idempotency-Key": [_("Use 1 to 128 characters.")]})
        item = flash.buyable_item(item_id)
        earlier = replay(actor, idempotency_key, address_id=address_id,
                         lines=[{"sku_id": item.sku_id, "quantity": quantity}])
        if earlier is not None:
            return earlier
    reservation = flash.reserve(actor=actor, item_id=item_id, quantity=quantity, now=now)
    sku_id = reservation.item.sku_id
    try:
        placed = place_order(actor=actor, address_id=address_id, lines=[{"sku_id": sku_id, "quantity": quantity}],
                             line_context={sku_id: {"flash": reservation}}, idempotency_key=idempotency_key)
    except BaseException:
        flash.release(reservation=reservation, reason="placing the order failed", actor=actor)
        raise
    if placed.replayed:  # a concurrent request with the same key won: its order stands, ours is not needed
        flash.release(reservation=reservation, reason="duplicate request", actor=actor)
    return placed
