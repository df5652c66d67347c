"""Flash sales (秒杀): every write of sessions, items and reservations, and the
offer that prices a reserved line at the flash price.

Units: publishing a session moves each item's units out of normal stock
(inventory.set_aside_for_flash_sale, a stock movement) into the item's own
counter; during the sale only that counter moves, so normal stock is never
touched; when the session ends, the units not sold go back (a movement again).

Reserving (`reserve`) is the one way to take flash units. With Redis, one Lua
script first checks stock and the per-user limit and takes the units in one
step (flash_store.py), which turns the crowd away without a database query;
then, for Redis and the database path alike, two conditional UPDATEs take the
units in the database (the buyer's count row, `quantity <= limit - n`, then
the item, `available >= n`) and a reservation row records who holds them.
Checkout (checkout/flash.py) makes the order from the reservation; `release`
gives units back exactly once (a conditional status UPDATE decides which
caller does it) when placing fails, the buyer cancels or the order times out.

Lock order: a session row before its item rows; a buyer's count row before
the item row (docs/promotions.md, "Flash sales").
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.services import parse_price
from shopyard.core.access import is_operator
from shopyard.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shopyard.core.events import emit
from shopyard.core.money import Money, format_price
from shopyard.core.statemachine import actor_label, apply_transition, next_state
from shopyard.core.validation import check_id, check_quantity, parse_int
from shopyard.inventory import services as inventory
from shopyard.inventory.services import MAX_STOCK

from . import flash_store
from .flash_state import EDITABLE, HOLDS_STOCK, TRANSITIONS, Action, ReservationStatus, Status
from .kinds import Funding, Kind
from .models import (
    FlashPurchaseCount,
    FlashReservation,
    FlashSale,
    FlashSaleItem,
    FlashSaleStatusChange,
)
from .offers import Discount, Offer

log = logging.getLogger("shopyard.promotions.flash")

NAME_MAX = 100
MAX_SESSION_DAYS = 31
MAX_ITEMS = 200


# --- sessions and items ---------------------------------------------------------


def record_change(sale, from_status, to_status, action, actor, note=""):
    FlashSaleStatusChange.objects.create(
        sale=sale, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), note=note[:200],
    )


def _clean_name(data, field, errors, *, required):
    value = data.get(field)
    value = "" if value is None else value
    if not isinstance(value, str):
        errors[field] = [_("Enter text.")]
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = [_("This field is required.")]
    elif "\x00" in value:
        errors[field] = [_("Remove the NUL character.")]
    elif len(value) > NAME_MAX:
        errors[field] = [_("Use at most %(n)s characters.") % {"n": NAME_MAX}]
    return value


def _clean_time(data, field, errors):
    value = data.get(field)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        errors[field] = [_("Enter a date and time, such as 2026-11-11T20:00:00+08:00.")]
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def create_sale(*, actor, shop, data: dict, now=None) -> FlashSale:
    """Write a draft session for `shop` (None: a platform session, operators only).

    `data`: name, name_en, starts_at, ends_at. The session must end after it
    starts, in the future, and last at most MAX_SESSION_DAYS."""
    if shop is None and not is_operator(actor):
        raise PermissionDenied(_("Only platform operators run platform flash sales."))
    now = now or timezone.now()
    errors: dict = {}
    name = _clean_name(data, "name", errors, required=True)
    name_en = _clean_name(data, "name_en", errors, required=False)
    starts_at = _clean_time(data, "starts_at", errors)
    ends_at = _clean_time(data, "ends_at", errors)
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors["ends_at"] = [_("The session must end after it starts.")]
        elif ends_at <= now:
            errors["ends_at"] = [_("The session must end in the future.")]
        elif ends_at - starts_at > timedelta(days=MAX_SESSION_DAYS):
            errors["ends_at"] = [_("A session lasts at most %(n)s days.") % {"n": MAX_SESSION_DAYS}]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        sale = FlashSale.objects.create(shop=shop, name=name, name_en=name_en, starts_at=starts_at, ends_at=ends_at,
                                        status=Status.DRAFT, created_by=actor if getattr(actor, "pk", None) else None)
        record_change(sale, "", Status.DRAFT, "create", actor)
        emit("flash_sale.created", flash_sale_id=sale.pk, shop_id=getattr(shop, "pk", None))
    return sale


def _check_count(value, field, errors, *, low, high, message):
    number = parse_int(value, min_value=low, max_value=high) if not isinstance(value, float) else None
    if number is None:
        errors[field] = [message]
    return number


def add_item(*, actor, sale, data: dict) -> FlashSaleItem:
    """Add a SKU to a draft session: `data` has sku_id, flash_price (below the
    SKU's list price), flash_stock (1 to MAX_STOCK, and no more than is in
    stock now; taken from stock at publishing) and per_user_limit (at least 1)."""
    from shopyard.catalog.queries import visible_skus

    errors: dict = {}
    sku_id = check_id(data.get("sku_id"), "sku_id")
    skus = visible_skus().select_related("product", "stock")
    if sale.shop_id is not None:
        skus = skus.filter(product__shop_id=sale.shop_id)
    sku = skus.filter(pk=sku_id).first()
    if sku is None:
        raise NotFound(_("This product is not available."), fields={"sku_id": [_("Choose one of the shop's SKUs on sale.")]})
    currency = sku.product.currency
    price = parse_price(data.get("flash_price"), "flash_price", errors, currency=currency)
    if price is not None and price >= sku.price:
        errors["flash_price"] = [_("The flash price must be below the list price (%(price)s).")
                                 % {"price": format_price(sku.price, currency)}]
    stock = _check_count(data.get("flash_stock"), "flash_stock", errors, low=1, high=MAX_STOCK,
                         message=_("Enter a whole number of units from 1 to %(max)s.") % {"max": MAX_STOCK})
    on_hand = getattr(getattr(sku, "stock", None), "quantity", 0)
    if stock is not None and stock > on_hand:
        errors["flash_stock"] = [_("Only %(now)s units are in stock.") % {"now": on_hand}]
    limit = _check_count(data.get("per_user_limit", 1), "per_user_limit", errors, low=1,
                         high=settings.MAX_LINE_QUANTITY,
                         message=_("Enter a limit per buyer from 1 to %(max)s.") % {"max": settings.MAX_LINE_QUANTITY})
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        locked = FlashSale.objects.select_for_update().get(pk=sale.pk)
        if locked.status not in EDITABLE:
            raise Conflict(_("Items can only be changed while the session is a draft."),
                           fields={"sale_id": [_("This session is %(status)s.") % {"status": locked.get_status_display()}]})
        if locked.items.count() >= MAX_ITEMS:
            raise ValidationFailed(fields={"sku_id": [_("A session holds at most %(n)s items.") % {"n": MAX_ITEMS}]})
        if locked.items.filter(sku_id=sku.pk).exists():
            raise Conflict(fields={"sku_id": [_("This SKU is already in the session.")]}, code="duplicate_item")
        item = FlashSaleItem.objects.create(sale=locked, sku=sku, flash_price=price, currency=currency,
                                            quantity=stock, available=0, per_user_limit=limit)
        emit("flash_sale_item.added", flash_sale_id=locked.pk, item_id=item.pk, sku_id=sku.pk)
    return item


def _lock(sale_id) -> FlashSale:
    return FlashSale.objects.select_for_update().get(pk=sale_id)


def publish(*, actor, sale, now=None) -> FlashSale:
    """Schedule a draft session: set each item's units aside from normal stock
    (in SKU id order, like checkout, so no two writers deadlock)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(sale.pk)
        next_state(TRANSITIONS, locked.status, Action.PUBLISH)
        items = list(locked.items.select_related("sku").order_by("sku_id"))
        if not items:
            raise ValidationFailed(fields={"items": [_("Add at least one item before publishing.")]})
        if locked.ends_at <= now:
            raise ValidationFailed(fields={"ends_at": [_("The session must end in the future.")]})
        for item in items:
            inventory.set_aside_for_flash_sale(sku=item.sku, quantity=item.quantity, actor=_user(actor),
                                               field=f"items[{item.pk}].flash_stock")
        FlashSaleItem.objects.filter(sale=locked).update(available=F("quantity"))
        apply_transition(locked, Action.PUBLISH, transitions=TRANSITIONS, record=record_change, actor=actor,
                         published_at=now)
        emit("flash_sale.published", flash_sale_id=locked.pk)
        if flash_store.enabled():
            transaction.on_commit(lambda: [_load(item.pk) for item in items])
    return locked


def cancel(*, actor, sale, now=None) -> FlashSale:
    """Cancel a draft, or a scheduled session before it starts (its units go back)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(sale.pk)
        next_state(TRANSITIONS, locked.status, Action.CANCEL)
        if locked.status == Status.SCHEDULED and locked.starts_at <= now:
            raise InvalidTransition(_("The session has started: it can no longer be cancelled."),
                           fields={"status": [_("Started sessions end by themselves.")]}, code="flash_started")
        held = locked.status in HOLDS_STOCK
        item_ids = _give_back_unsold(locked, actor) if held else []
        apply_transition(locked, Action.CANCEL, transitions=TRANSITIONS, record=record_change, actor=actor,
                         cancelled_at=now)
        emit("flash_sale.cancelled", flash_sale_id=locked.pk)
        _forget_after_commit(item_ids)
    return locked


def _give_back_unsold(sale, actor) -> list:
    """Return every item's units left to normal stock; the sale row is locked."""
    items = list(FlashSaleItem.objects.select_for_update().filter(sale=sale).order_by("sku_id"))
    for item in items:
        if item.available:
            inventory.return_from_flash_sale(sku_id=item.sku_id, quantity=item.available, actor=_user(actor))
            FlashSaleItem.objects.filter(pk=item.pk).update(returned=F("returned") + item.available, available=0)
    return [item.pk for item in items]


def _forget_after_commit(item_ids):
    if flash_store.enabled() and item_ids:
        transaction.on_commit(lambda: [flash_store.forget(pk) for pk in item_ids])


def end_finished_sales(*, now=None) -> int:
    """The periodic job: end sessions whose time is over and give their unsold
    units back to normal stock. Idempotent; each session is re-checked under its lock."""
    now = now or timezone.now()
    ids = list(FlashSale.objects.filter(status__in=HOLDS_STOCK, ends_at__lte=now).values_list("pk", flat=True)[:200])
    done = 0
    for sale_id in sorted(ids):
        with transaction.atomic():
            locked = FlashSale.objects.select_for_update().filter(pk=sale_id, status__in=HOLDS_STOCK).first()
            if locked is None:
                continue
            item_ids = _give_back_unsold(locked, None)
            apply_transition(locked, Action.END, transitions=TRANSITIONS, record=record_change, actor=None,
                             note=_("The session is over"), ended_at=now)
            emit("flash_sale.ended", flash_sale_id=locked.pk)
            _forget_after_commit(item_ids)
            done += 1
    return done


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


# --- reserving and releasing ----------------------------------------------------


def _load(item_id) -> None:
    """Write an item's Redis counters from the database (at publishing, or when Redis lost them)."""
    item = FlashSaleItem.objects.select_related("sale").filter(pk=item_id).first()
    if item is None:
        return
    buyers = dict(FlashPurchaseCount.objects.filter(item_id=item_id, quantity__gt=0).values_list("user_id", "quantity"))
    expire_at = int((item.sale.ends_at + timedelta(days=1)).timestamp())
    flash_store.load(item_id=item_id, available=item.available, buyers=buyers, expire_at=expire_at)


def sold_out_error() -> Conflict:
    message = _("Sold out.")
    return Conflict(_("This flash sale item is sold out."), fields={"item_id": [message]}, code="sold_out")


def _limit_error(limit) -> Conflict:
    message = _("You may buy at most %(n)s of this item in the flash sale.") % {"n": limit}
    return Conflict(message, fields={"quantity": [message]}, code="flash_limit_reached")


def _not_enough_error(left) -> Conflict:
    message = _("Only %(n)s left.") % {"n": left}
    return Conflict(message, fields={"quantity": [message]}, code="out_of_stock")


def check_open(item, now) -> None:
    """Buying is open from the start second to the end second (server time)."""
    sale = item.sale
    if sale.status != Status.SCHEDULED or now >= sale.ends_at:
        message = _("This flash sale has ended.")
        raise Conflict(message, fields={"item_id": [message]}, code="flash_ended")
    if now < sale.starts_at:
        message = _("This flash sale starts at %(time)s.") % {
            "time": timezone.localtime(sale.starts_at).strftime("%Y-%m-%d %H:%M:%S")}
        raise Conflict(message, fields={"item_id": [message]}, code="flash_not_started")


def buyable_item(item_id, *, related=("sale", "sku__product__shop")) -> FlashSaleItem:
    """An item of a published (or ended) session, for buyers; others are 404. `related`:
    the rows read with it (a hold needs only the session: fewer columns, a cheaper query)."""
    item_id = check_id(item_id, "item_id")
    item = (FlashSaleItem.objects.select_related(*related)
            .filter(pk=item_id, sale__status__in=[Status.SCHEDULED, Status.ENDED]).first())
    if item is None:
        raise NotFound(_("This flash sale item does not exist."), fields={"item_id": [_("Unknown flash sale item.")]})
    return item


# Items of live sessions, per process: id -> the item with its session. A live
# session (published, started, not ended) can no longer change: its items are
# not editable once published and it cannot be cancelled after the start
# (flash_state.EDITABLE, `cancel`), so until `ends_at` the row read once is the
# row. This takes the item's query off the buying path at the stroke of the hour.
_LIVE: dict = {}
_LIVE_MAX = 1000


def forget_live_items() -> None:
    """Empty this process's cache of live items (tests that reuse ids start clean)."""
    _LIVE.clear()


def live_item(item_id, now) -> FlashSaleItem:
    """`buyable_item(item_id, related=("sale",))`, remembered while its session is live."""
    item = _LIVE.get(parse_int(item_id))
    if item is not None and now < item.sale.ends_at:
        return item
    item = buyable_item(item_id, related=("sale",))
    sale = item.sale
    if sale.status == Status.SCHEDULED and sale.starts_at <= now < sale.ends_at:
        if len(_LIVE) >= _LIVE_MAX:
            _LIVE.clear()
        _LIVE[item.pk] = item
    return item


def _open_item(item_id, quantity, now, related=("sale", "sku__product__shop")):
    """The item, if a buyer may take `quantity` of it now (else the 404/409/422 they get).
    `related=None`: the hold path, where the Lua step itself answers "sold out" and
    the item of a live session comes from the process's cache."""
    quantity = check_quantity(quantity, "quantity")
    now = now or timezone.now()
    if related is None:
        item = live_item(item_id, now)
    else:
        if known_sold_out(parse_int(item_id) or 0):
            raise sold_out_error()
        item = buyable_item(item_id, related=related)
    check_open(item, now)
    if quantity > item.per_user_limit:
        raise ValidationFailed(fields={"quantity": [_("At most %(n)s per buyer.") % {"n": item.per_user_limit}]})
    return item, quantity


def reserve(*, actor, item_id, quantity, now=None) -> FlashReservation:
    """Take `quantity` flash units of an item for `actor`, or raise: sold out,
    over the per-user limit, not open now (all 409), or bad input (422/404).
    Commits on its own: the units are held until the order made from the
    reservation is paid, cancelled or times out, or `release` is called."""
    item, quantity = _open_item(item_id, quantity, now)
    in_redis = False
    if flash_store.enabled():
        try:
            _reserve_in_redis(item, actor, quantity)
            in_redis = True
        except flash_store.Unavailable:
            # Redis is down: the database's conditional UPDATEs alone still never oversell
            log.warning("Redis unavailable: flash item %s reserved on the database path", item.pk)
    try:
        reservation = _take_in_database(item, actor, quantity)
    except Exception:
        if in_redis:
            _release_in_redis(item.pk, actor.pk, quantity)
        raise
    return reservation


def _take_in_database(item, actor, quantity, token=None) -> FlashReservation:
    """The record and the last guard: the buyer's count row (`quantity <= limit
    - n`), then the item (`available >= n`), then the reservation row; all or
    nothing. Raises the limit / sold-out / not-enough 409s."""
    limit = item.per_user_limit
    with transaction.atomic():
        if token is not None:
            # first statement: a second worker with the same hold stops here (unique token)
            reservation = FlashReservation.objects.create(item=item, user=actor, quantity=quantity, token=token)
        FlashPurchaseCount.objects.bulk_create([FlashPurchaseCount(item=item, user=actor, quantity=0)],
                                               ignore_conflicts=True)
        counted = FlashPurchaseCount.objects.filter(item=item, user=actor, quantity__lte=limit - quantity).update(
            quantity=F("quantity") + quantity)
        if not counted:
            raise _limit_error(limit)
        taken = FlashSaleItem.objects.filter(pk=item.pk, available__gte=quantity).update(
            available=F("available") - quantity)
        if not taken:
            left = FlashSaleItem.objects.filter(pk=item.pk).values_list("available", flat=True).first() or 0
            if left <= 0:
                flash_store.mark_sold_out(item.pk)
                raise sold_out_error()
            raise _not_enough_error(left)
        if token is None:
            reservation = FlashReservation.objects.create(item=item, user=actor, quantity=quantity)
    reservation.item = item
    return reservation


def hold(*, actor, item_id, quantity, token: str, entry: dict, key_ref=None, now=None) -> tuple[FlashSaleItem, str]:
    """Take flash units in Redis alone and record the purchase as held under
    `token` (flash_store.hold), for a worker to make the order from; returns
    the item and the token the purchase is held under: with `key_ref` (a
    hashed idempotency key) used before, the first request's, and nothing
    more is taken. Raises what `reserve` raises, and flash_store.Unavailable
    when Redis cannot be asked (the caller then reserves on the database path)."""
    item, quantity = _open_item(item_id, quantity, now, related=None)
    entry = {**entry, "item": item.pk, "user": actor.pk, "quantity": quantity, "key_ref": key_ref}
    held = {}

    def script():
        result, held["token"] = flash_store.hold(item_id=item.pk, user_id=actor.pk, quantity=quantity,
                                                 limit=item.per_user_limit, token=token, entry=entry, key_ref=key_ref)
        return result

    _take_in_redis(item, script)
    return item, held["token"]


def take_held(*, token: str, actor, item_id, quantity) -> tuple[FlashReservation | None, bool]:
    """Write the database record of held purchase `token`: (reservation,
    True) when this call wrote it, (the existing one, False) when another
    worker did. When the database refuses (its counts are the record), the
    Redis units go back and the refusal is raised. Tokens are never reused,
    so a record found here is this very hold's, taken once in Redis."""
    existing = FlashReservation.objects.filter(token=token).first()
    if existing is not None:
        return existing, False
    item = FlashSaleItem.objects.select_related("sale", "sku__product__shop").get(pk=item_id)
    try:
        return _take_in_database(item, actor, quantity, token=token), True
    except IntegrityError:
        return FlashReservation.objects.filter(token=token).first(), False
    except Exception:
        _release_in_redis(item.pk, actor.pk, quantity)
        raise


def known_sold_out(item_id) -> bool:
    """Whether the item is known to be sold out, without a database query (Redis, or the
    process's sold-out marker); False when Redis cannot be asked."""
    try:
        return flash_store.sold_out(item_id)
    except flash_store.Unavailable:
        return False


def _reserve_in_redis(item, actor, quantity) -> None:
    _take_in_redis(item, lambda: flash_store.reserve(item_id=item.pk, user_id=actor.pk, quantity=quantity,
                                                     limit=item.per_user_limit))


def _take_in_redis(item, script) -> None:
    """Run a taking script (reserve or hold); load the counters once when Redis has
    none; turn its refusals into the 409s buyers get. A duplicate hold is no error."""
    for _attempt in range(2):
        result = script()
        if result == flash_store.NOT_LOADED:
            _load(item.pk)
            continue
        if result == flash_store.SOLD_OUT:
            raise sold_out_error()
        if result == flash_store.OVER_LIMIT:
            raise _limit_error(item.per_user_limit)
        if result == flash_store.NOT_ENOUGH:
            raise _not_enough_error(flash_store.left(item.pk) or 0)
        return
    raise sold_out_error()  # the counters could not be loaded: the session has no units to sell


def _release_in_redis(item_id, user_id, quantity, to_stock=True) -> None:
    try:
        flash_store.release(item_id=item_id, user_id=user_id, quantity=quantity, to_stock=to_stock)
    except Exception:  # Redis down: its counters are rebuilt from the database when they expire
        log.exception("could not give %s flash units of item %s back in Redis", quantity, item_id)


def release(*, reservation, reason: str, actor=None, now=None) -> bool:
    """Give a reservation's units back exactly once; True if this call did it.

    While the session runs they return to the flash stock (database and Redis)
    and to the buyer's allowance; after it ended (or was cancelled) they go to
    normal stock instead. Locks the session row, then the item row."""
    now = now or timezone.now()
    pk = getattr(reservation, "pk", reservation)
    with transaction.atomic():
        row = FlashReservation.objects.select_related("item").filter(pk=pk).first()
        if row is None or row.status == ReservationStatus.RELEASED:
            return False
        sale = FlashSale.objects.select_for_update().get(pk=row.item.sale_id)
        changed = FlashReservation.objects.filter(
            pk=pk, status__in=[ReservationStatus.RESERVED, ReservationStatus.ORDERED]
        ).update(status=ReservationStatus.RELEASED, released_at=now, release_reason=reason[:100])
        if not changed:
            return False
        FlashPurchaseCount.objects.filter(item_id=row.item_id, user_id=row.user_id).update(
            quantity=F("quantity") - row.quantity)
        to_flash_stock = sale.status in HOLDS_STOCK
        if to_flash_stock:
            FlashSaleItem.objects.filter(pk=row.item_id).update(available=F("available") + row.quantity)
        else:
            FlashSaleItem.objects.filter(pk=row.item_id).update(returned=F("returned") + row.quantity)
            inventory.return_from_flash_sale(sku_id=row.item.sku_id, quantity=row.quantity, actor=_user(actor))
        emit("flash_reservation.released", reservation_id=pk, item_id=row.item_id, quantity=row.quantity,
             reason=reason[:100])
        item_id, user_id, quantity = row.item_id, row.user_id, row.quantity

        def _after():
            flash_store.clear_sold_out(item_id)
            if flash_store.enabled():
                _release_in_redis(item_id, user_id, quantity, to_stock=to_flash_stock)

        transaction.on_commit(_after)
    return True


def claim(*, reservation, order) -> None:
    """Tie a reservation to the order made from it (inside place_order's
    transaction); refuses a reservation that was released meanwhile."""
    changed = FlashReservation.objects.filter(pk=reservation.pk, status=ReservationStatus.RESERVED).update(
        status=ReservationStatus.ORDERED, order=order)
    if not changed:
        message = _("Your flash sale reservation has expired. Try again.")
        raise Conflict(message, fields={"item_id": [message]}, code="flash_reservation_gone")
    reservation.status, reservation.order = ReservationStatus.ORDERED, order


def on_order_cancelled(payload) -> int:
    """`order.cancelled` subscriber: the flash units of a cancelled order go back
    (once: a reservation already released is skipped)."""
    order_id = payload.get("order_id")
    ids = list(FlashReservation.objects.filter(order_id=order_id, status=ReservationStatus.ORDERED)
               .values_list("pk", flat=True))
    return sum(1 for pk in ids if release(reservation=pk, reason="order cancelled"))


def expire_unpaid_orders(*, now=None) -> int:
    """The periodic job for flash orders' shorter payment time
    (FLASH_UNPAID_TIMEOUT_MINUTES): expire the order through the order state
    machine and give its units back; also release reservations whose order was
    never made (the process placing it died). Idempotent."""
    from shopyard.orders.services import transition
    from shopyard.orders.state import Action as OrderAction
    from shopyard.orders.state import Status as OrderStatus

    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.FLASH_UNPAID_TIMEOUT_MINUTES)
    rows = list(FlashReservation.objects.filter(
        status=ReservationStatus.ORDERED, order__status=OrderStatus.PENDING_PAYMENT, order__placed_at__lt=cutoff,
    ).values_list("pk", "order_id")[:1000])
    done = 0
    for pk, order_id in sorted(rows, key=lambda r: r[1]):
        with transaction.atomic():
            from shopyard.orders.models import Order

            order = Order.objects.select_for_update().filter(pk=order_id, status=OrderStatus.PENDING_PAYMENT).first()
            if order is not None:
                transition(order, OrderAction.EXPIRE, actor=None, note=_("Flash sale order not paid in time"))
            if release(reservation=pk, reason="not paid in time", now=now):
                done += 1
    stale = list(FlashReservation.objects.filter(status=ReservationStatus.RESERVED, created_at__lt=cutoff)
                 .values_list("pk", flat=True)[:1000])
    done += sum(1 for pk in stale if release(reservation=pk, reason="no order was made", now=now))
    return done


# --- the offer -----------------------------------------------------------------


class FlashOffer(Offer):
    """Prices the one line its reservation was made for at the flash price. The
    line's units come from the flash stock (own_stock), and the offer stands
    alone (Kind.FLASH_SALE stacks with nothing)."""

    kind = Kind.FLASH_SALE
    source = "flash"
    own_stock = True

    def __init__(self, reservation):
        item = reservation.item
        sale = item.sale
        super().__init__(
            source_id=item.pk, shop_id=sale.shop_id, reservation=reservation,
            funded_by=Funding.SHOP if sale.shop_id else Funding.PLATFORM,
            label=f"秒杀 {sale.name}", label_en=f"Flash sale {sale.name_en or sale.name}",
            # the order's countdown and the unpaid-order job use this shorter time (Order.pay_by)
            pay_within_minutes=settings.FLASH_UNPAID_TIMEOUT_MINUTES,
        )
        self.unit_price = Money(item.flash_price, item.currency)

    def eligible(self, line) -> bool:
        reservation = self.reservation
        return (line.context.get("flash") is reservation and line.sku.pk == reservation.item.sku_id
                and line.quantity == reservation.quantity)

    def discounts(self, lines) -> list:
        out = []
        for line in lines:
            if not self.eligible(line) or line.currency != self.unit_price.currency:
                continue
            target = (self.unit_price * line.quantity).quantize()
            if line.amount > target:
                out.append(Discount(line=line.index, amount=line.amount - target))
        return out

    def claim(self, *, actor, orders_by_shop: dict, checkout_id) -> None:
        order = orders_by_shop.get(self.reservation.item.sku.product.shop_id)
        if order is None:  # the line did not make it into an order: nothing to claim
            return
        claim(reservation=self.reservation, order=order)


def load_offers(context) -> list:
    """A FlashOffer per line whose context carries a reservation of the buyer's
    that is still held; costs no query (the reservation arrives loaded)."""
    user_id = getattr(context.user, "pk", None)
    offers = []
    for line in context.lines:
        reservation = line.context.get("flash") if line.context else None
        if (isinstance(reservation, FlashReservation) and reservation.user_id == user_id
                and reservation.status == ReservationStatus.RESERVED):
            offers.append(FlashOffer(reservation))
    return offers
