"""Buying in a flash sale: reserve flash units, then place the order for that
one line, priced by the pipeline at the flash price.

Two paths, one result:

- Without Redis, the units are reserved by conditional UPDATEs in the
  database and the order is placed in the same request.
- With Redis, the units are *held* by one Lua step that also records the
  purchase (promotions.flash.hold), and the order is made from that hold by
  `place_held`. With a Celery broker that runs in a worker, so the buyer is
  answered (202, a hold token to poll) as soon as the units are theirs: at
  the stroke of the hour the web processes only hand out units, and orders
  follow as fast as the workers make them. Without a broker it runs in the
  request, which then answers with the order as the database path does.

With a broker, each hold is queued in Redis and a worker's drain task makes the
orders of every queued hold (`drain_held`); one drain task is published per
batch of holds, not one task per hold.

`place_held` first writes the database record (promotions.flash.take_held:
the same conditional UPDATEs, keyed by the hold token so a second worker
stops there), then places the order. Whatever refuses the purchase on the
way gives the units back and marks the hold failed with the reason, in the
buyer's language, for them to read (`held_purchase`). A hold whose task was
lost is made by the periodic sweep (`place_stale_holds`).

The reservation travels to the pipeline in the line's context
(`{"flash": reservation}`); promotions' FlashOffer prices the line, takes no
normal stock for it (own_stock) and ties the reservation to the order inside
place_order's transaction. A retried request with the same Idempotency-Key
returns the first result without reserving again.
"""

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from shopyard.accounts.queries import has_address
from shopyard.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from shopyard.core.validation import check_id, check_quantity
from shopyard.promotions import flash, flash_store
from shopyard.promotions.flash_state import ReservationStatus
from shopyard.promotions.models import FlashReservation

from .services import MAX_KEY_LENGTH, PlacedCheckout, place_order, replay

log = logging.getLogger("shopyard.checkout.flash")

# a hold with no order after this long was lost on its way to a worker: the sweep makes it
HOLD_RETRY_SECONDS = 30
# a failed hold is kept this long for its buyer to read, then dropped
FAILED_HOLD_KEEP_SECONDS = 24 * 3600


@dataclass
class HeldPurchase:
    """Units held for the buyer; the order is being made (poll `held_purchase`)."""

    token: str
    item_id: int


def buy_flash(*, actor, item_id, quantity, address_id, idempotency_key=None, now=None):
    """Take `quantity` units of flash item `item_id` for `actor` and place the
    order (one line, one payment): a PlacedCheckout, or a HeldPurchase when a
    worker makes the order. Raises the reservation's 409s (sold out, limit
    reached, not open) and place_order's errors; nothing stays reserved when
    it raises."""
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
    if flash_store.enabled():
        try:
            return _buy_held(actor=actor, item_id=item_id, quantity=quantity, address_id=address_id,
                             idempotency_key=idempotency_key, now=now)
        except flash_store.Unavailable:
            log.warning("Redis unavailable: flash item %s bought on the database path", item_id)
    reservation = flash.reserve(actor=actor, item_id=item_id, quantity=quantity, now=now)
    return _place(actor, reservation, address_id, idempotency_key)


def _place(actor, reservation, address_id, idempotency_key) -> PlacedCheckout:
    sku_id = reservation.item.sku_id
    quantity = reservation.quantity
    try:
        placed = place_order(actor=actor, address_id=address_id, lines=[{"sku_id": sku_id, "quantity": quantity}],
                             line_context={sku_id: {"flash": reservation}}, idempotency_key=idempotency_key)
    except BaseException:
        flash.release(reservation=reservation, reason="placing the order failed", actor=actor)
        raise
    if placed.replayed:  # a concurrent request with the same key won: its order stands, ours is not needed
        flash.release(reservation=reservation, reason="duplicate request", actor=actor)
    return placed


def _key_ref(actor, idempotency_key) -> str | None:
    """The buyer's idempotency key as the hold remembers it (hashed: keys are the client's text)."""
    if idempotency_key is None:
        return None
    return hashlib.sha256(f"{actor.pk}:{idempotency_key}".encode()).hexdigest()[:40]


def _buy_held(*, actor, item_id, quantity, address_id, idempotency_key, now):
    # what the worker could only refuse later is refused now, with nothing held
    if not has_address(actor, address_id):
        raise NotFound(_("Address not found."), fields={"address_id": [_("Choose one of your addresses.")]})
    entry = {"address": address_id, "key": idempotency_key, "at": time.time(), "lang": translation.get_language()}
    item, token = flash.hold(actor=actor, item_id=item_id, quantity=quantity, token=secrets.token_hex(16),
                             entry=entry, key_ref=_key_ref(actor, idempotency_key), now=now)
    if settings.CELERY_TASK_ALWAYS_EAGER:  # no worker: make the order now and answer with it
        placed = place_held(token=token, raise_errors=True)
        if placed is not None:
            return placed
        earlier = _earlier_result(actor, token)
        return earlier if earlier is not None else HeldPurchase(token=token, item_id=item.pk)
    _enqueue(token)
    return HeldPurchase(token=token, item_id=item.pk)


def _enqueue(token):
    """Queue the hold for a drain, and publish a drain task only when none is on its way: at
    the stroke of the hour a few tasks carry hundreds of holds (a publish cost the buyer's
    request about as much CPU as the Lua hold and the address check together)."""
    from .tasks import drain_held_flash_orders

    try:
        if not flash_store.queue_hold(token):
            return
    except flash_store.Unavailable:  # the hold is in the pending hash still: the periodic sweep makes it
        log.warning("could not queue flash hold %s; the periodic sweep will place it", token, exc_info=True)
        return
    try:
        drain_held_flash_orders.delay()
    except Exception:  # the broker is down: the next hold tries again, and the periodic sweep makes the order
        log.warning("could not publish a drain for flash hold %s; the periodic sweep will place it", token,
                    exc_info=True)
        try:
            flash_store.drain_unscheduled()
        except flash_store.Unavailable:  # the flag expires by itself
            pass


# holds a drain pops at a time; a drain that pops a full batch publishes one more drain, so
# several workers share a long queue (each batch goes to one of them)
DRAIN_BATCH = 20


def drain_held(*, batch: int = DRAIN_BATCH) -> int:
    """A worker's drain: make the orders of the queued holds until the queue is empty; returns
    the orders made. Each popped hold goes through `place_held` (idempotent), so a hold
    also placed by the sweep or an older per-hold task is made once. A hold whose placing
    raised stays pending for the periodic sweep."""
    from .tasks import drain_held_flash_orders

    flash_store.drain_started()
    made = 0
    helped = False
    while True:
        tokens = flash_store.take_queued(batch)
        if not tokens:
            return made
        if not helped and len(tokens) == batch and flash_store.queued():
            helped = True  # a long queue: another worker may take the next batches
            try:
                drain_held_flash_orders.delay()
            except Exception:
                log.warning("could not publish a second flash drain", exc_info=True)
        for token in tokens:
            try:
                made += place_held(token=token) is not None
            except Exception:
                log.exception("could not place flash hold %s; the periodic sweep will retry", token)


def _earlier_result(actor, token):
    """What an earlier request with this hold token came to: its order, or its refusal raised again."""
    state = held_purchase(actor=actor, token=token)
    if state["status"] == "failed":
        error = state["error"]
        raise Conflict(error["message"], fields=error.get("fields"), code=error["code"])
    return state.get("placed")


def place_held(*, token: str, raise_errors=False) -> PlacedCheckout | None:
    """Make the order for held purchase `token` (a worker's task, the sweep, or the
    request itself without a broker); None when there is nothing (more) to do:
    another worker has it, it was made already, or it failed. Idempotent."""
    entry = flash_store.held(token)
    if entry is None or entry.get("failed"):
        return None
    actor = get_user_model().objects.filter(pk=entry["user"]).first()
    with translation.override(entry.get("lang") or settings.LANGUAGE_CODE):
        try:
            if actor is None:
                raise NotFound(_("Not found."))
            reservation, mine = flash.take_held(token=token, actor=actor, item_id=entry["item"],
                                                quantity=entry["quantity"])
            if not mine:
                _settle_taken(token, reservation)
                return None
            placed = _place(actor, reservation, entry["address"], entry.get("key"))
        except DomainError as exc:
            _fail(token, entry, exc, dropped=raise_errors)
            if raise_errors:
                raise
            return None
        except BaseException:
            _fail(token, entry, Conflict(_("Your order could not be made. Try again."), code="flash_order_failed"))
            raise
    flash_store.finish_hold(token)
    return placed


def _fail(token, entry, exc, *, dropped=False):
    """Record why a hold's order was not made (its units went back already); a refusal the
    buyer got at once (`dropped`) leaves nothing to read later."""
    if dropped:
        flash_store.finish_hold(token)
        if entry.get("key_ref"):
            flash_store.forget_key(entry["key_ref"])
    else:
        flash_store.fail_hold(token, {**entry, "failed": {**exc.as_dict(), "status": exc.status}})


def _settle_taken(token, reservation):
    """Another worker wrote this hold's record: drop the hold once its order exists, or mark
    it failed once the record was released without one (the order never came)."""
    if reservation is None:
        return
    if reservation.order_id:
        flash_store.finish_hold(token)
    elif reservation.status == ReservationStatus.RELEASED:
        entry = flash_store.held(token)
        if entry is not None and not entry.get("failed"):
            _fail(token, entry, _reservation_gone())


def _reservation_gone() -> Conflict:
    message = _("Your flash sale reservation has expired. Try again.")
    return Conflict(message, fields={"item_id": [message]}, code="flash_reservation_gone")


def held_purchase(*, actor, token) -> dict:
    """Where the actor's held purchase stands: {"status": "pending"}, {"status":
    "ordered", "placed": PlacedCheckout}, or {"status": "failed", "error": {code,
    message, fields}}. Another buyer's token, or an unknown one, is 404."""
    from shopyard.payments.models import Payment

    token = str(token or "").strip()
    if not token or len(token) > 64:
        raise NotFound(_("Not found."))
    row = FlashReservation.objects.filter(token=token, user=actor).select_related("order").first()
    if row is not None:
        if row.order_id:
            payment_id = Payment.objects.filter(orders=row.order_id).order_by("pk").values_list("pk", flat=True).first()
            return {"status": "ordered", "placed": PlacedCheckout(
                checkout_id=str(row.order.checkout_id), order_ids=[row.order_id], payment_id=payment_id, replayed=True)}
        if row.status != ReservationStatus.RELEASED:
            return {"status": "pending"}
    entry = flash_store.held(token) if flash_store.enabled() else None
    if row is not None:  # released without an order: why, if the hold still says
        failed = (entry or {}).get("failed")
        return {"status": "failed", "error": failed or _reservation_gone().as_dict()}
    if entry is None or entry.get("user") != actor.pk:
        raise NotFound(_("Not found."))
    if entry.get("failed"):
        return {"status": "failed", "error": entry["failed"]}
    return {"status": "pending"}


def place_stale_holds(*, now=None) -> int:
    """The periodic sweep: make the orders of holds older than HOLD_RETRY_SECONDS
    (their task was lost) and drop failed holds after FAILED_HOLD_KEEP_SECONDS.
    Returns the orders made. Idempotent: place_held stops at a hold already taken."""
    if not flash_store.enabled():
        return 0
    at = now.timestamp() if now is not None else time.time()
    made = 0
    for token, entry in flash_store.all_held().items():
        age = at - float(entry.get("at") or 0)
        if entry.get("failed"):
            if age > FAILED_HOLD_KEEP_SECONDS:
                flash_store.finish_hold(token)
        elif age > HOLD_RETRY_SECONDS:
            try:
                made += place_held(token=token) is not None
            except Exception:
                log.exception("could not place flash hold %s", token)
    return made
