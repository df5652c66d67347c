"""Stock moves only here, by conditional UPDATEs, so concurrent buyers can
never take the same unit twice and stock never drops below zero."""

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.bulk_sql import insert_rows, update_rows
from shopyard.core.errors import OutOfStock, ValidationFailed
from shopyard.core.events import emit

from .models import StockLevel, StockMovement

MAX_STOCK = 10_000_000


def set_stock(*, sku, quantity: int, actor=None) -> StockLevel:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0 or quantity > MAX_STOCK:
        raise ValidationFailed(fields={"stock": [_("Stock must be a whole number from 0 to %(max)s.") % {"max": MAX_STOCK}]})
    with transaction.atomic():
        level, _created = StockLevel.objects.select_for_update().get_or_create(sku=sku, defaults={"quantity": 0})
        delta = quantity - level.quantity
        if delta:
            StockLevel.objects.filter(pk=level.pk).update(quantity=quantity)
            StockMovement.objects.create(sku=sku, delta=delta, reason=StockMovement.Reason.ADJUST, actor=actor)
            level.quantity = quantity
            emit("stock.changed", sku_id=sku.pk, product_id=sku.product_id, quantity=quantity)
    return level


STOCK_BATCH = 1000  # SKUs per statement in set_stock_many (well under SQLite's bound-parameter limit)


def set_stock_many(*, quantities: dict, actor=None) -> int:
    """Set the stock on hand of many SKUs at once ({sku_id: quantity}), for the
    bulk catalogue import and edit: the rule of `set_stock` (0 to MAX_STOCK, one
    ledger row per change) in a few statements instead of a few per SKU, so
    10,000 SKUs take seconds. The rows are locked in SKU id order (the order
    every other stock write takes them in), inside the caller's transaction.
    No `stock.changed` per SKU: the caller emits one event for its batch
    (catalog's `products.changed`), which the search index follows. Returns the
    number of SKUs whose stock changed."""
    bad = [sku_id for sku_id, q in quantities.items()
           if isinstance(q, bool) or not isinstance(q, int) or q < 0 or q > MAX_STOCK]
    if bad:
        raise ValidationFailed(fields={"stock": [_("Stock must be a whole number from 0 to %(max)s.") % {"max": MAX_STOCK}]})
    ids = sorted(quantities)
    changed_levels, movements = [], []
    with transaction.atomic():
        for start in range(0, len(ids), STOCK_BATCH):
            chunk = ids[start:start + STOCK_BATCH]
            current = dict(StockLevel.objects.select_for_update().filter(sku_id__in=chunk).order_by("sku_id")
                           .values_list("sku_id", "quantity"))
            missing = [StockLevel(sku_id=i, quantity=quantities[i]) for i in chunk if i not in current]
            insert_rows(StockLevel, missing)
            for sku_id in chunk:
                before = current.get(sku_id, 0)
                delta = quantities[sku_id] - before
                if not delta:
                    continue
                if sku_id in current:
                    changed_levels.append(StockLevel(sku_id=sku_id, quantity=quantities[sku_id]))
                movements.append(StockMovement(sku_id=sku_id, delta=delta, reason=StockMovement.Reason.ADJUST,
                                               actor=actor))
        update_rows(StockLevel, changed_levels, ["quantity"])
        insert_rows(StockMovement, movements)
    return len(movements)


def adjust_stock(*, sku, delta: int, actor=None, field="stock") -> None:
    """Add `delta` (may be negative) to what is on hand now, whatever sold
    meanwhile; refused if it would go below zero."""
    if not delta:
        return
    StockLevel.objects.get_or_create(sku=sku, defaults={"quantity": 0})
    changed = StockLevel.objects.filter(sku=sku, quantity__gte=-delta if delta < 0 else 0).update(
        quantity=F("quantity") + delta
    )
    if not changed:
        now = StockLevel.objects.get(sku=sku).quantity
        raise ValidationFailed(fields={field: [
            _("Stock changed while you were editing: %(now)s on hand now, so it cannot go down by %(n)s.")
            % {"now": now, "n": -delta}
        ]})
    StockMovement.objects.create(sku=sku, delta=delta, reason=StockMovement.Reason.ADJUST, actor=actor)
    emit("stock.changed", sku_id=sku.pk, product_id=sku.product_id, delta=delta)


def take(*, sku, quantity: int, order, field="quantity") -> None:
    """Take `quantity` units for `order` or raise OutOfStock. Must run inside the order's transaction."""
    if connection.vendor == "postgresql":
        taken = _take_and_log(sku_id=sku.pk, quantity=quantity, order_id=order.pk)
    else:
        taken = StockLevel.objects.filter(sku_id=sku.pk, quantity__gte=quantity).update(quantity=F("quantity") - quantity)
        if taken:
            StockMovement.objects.create(sku_id=sku.pk, delta=-quantity, reason=StockMovement.Reason.ORDER, order=order)
    if not taken:
        raise OutOfStock(
            _("%(name)s is out of stock.") % {"name": f"{sku.product.label} {sku.label}".strip()},
            fields={field: [_("Not enough stock for SKU %(code)s.") % {"code": sku.code}]},
        )


def _take_and_log(*, sku_id, quantity, order_id) -> int:
    """The conditional UPDATE and its ledger row in one round trip (PostgreSQL: the
    ledger INSERT reads the UPDATE's RETURNING, so no row is written when no unit
    was taken): one statement per order line instead of two. The rows taken (0 or 1)."""
    level, movement = StockLevel._meta.db_table, StockMovement._meta.db_table
    sql = (
        f'WITH taken AS (UPDATE "{level}" SET "quantity" = "quantity" - %s '
        f'WHERE "sku_id" = %s AND "quantity" >= %s RETURNING "sku_id") '
        f'INSERT INTO "{movement}" ("sku_id", "delta", "reason", "order_id", "actor_id", "created_at") '
        'SELECT "sku_id", %s, %s, %s, NULL, %s FROM taken'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [quantity, sku_id, quantity, -quantity, StockMovement.Reason.ORDER.value, order_id,
                             timezone.now()])
        return cursor.rowcount


def release_for_order(*, order) -> None:
    """Give back the stock a cancelled order took, as its ledger rows say (so a
    line that took no normal stock, such as a flash-sale unit, gives none back,
    and a second release gives back nothing), in SKU id order like `take`, so
    two releases never wait on each other in a cycle."""
    taken: dict[int, int] = {}
    for sku_id, delta in StockMovement.objects.filter(
        order=order, reason__in=[StockMovement.Reason.ORDER, StockMovement.Reason.RELEASE]
    ).values_list("sku_id", "delta"):
        taken[sku_id] = taken.get(sku_id, 0) - delta
    for sku_id in sorted(taken):
        quantity = taken[sku_id]
        if quantity <= 0:
            continue
        StockLevel.objects.filter(sku_id=sku_id).update(quantity=F("quantity") + quantity)
        StockMovement.objects.create(sku_id=sku_id, delta=quantity, reason=StockMovement.Reason.RELEASE, order=order)


def set_aside_for_flash_sale(*, sku, quantity: int, actor=None, field="flash_stock") -> None:
    """Move `quantity` units out of normal stock into a flash sale (its own
    counter), or refuse when fewer are on hand. Runs in the caller's transaction."""
    taken = StockLevel.objects.filter(sku_id=sku.pk, quantity__gte=quantity).update(quantity=F("quantity") - quantity)
    if not taken:
        now = available([sku.pk]).get(sku.pk, 0)
        raise ValidationFailed(fields={field: [
            _("Only %(now)s units of %(code)s are in stock; set aside at most that many.") % {"now": now, "code": sku.code}
        ]})
    StockMovement.objects.create(sku_id=sku.pk, delta=-quantity, reason=StockMovement.Reason.FLASH_SET_ASIDE,
                                 actor=actor)


def return_from_flash_sale(*, sku_id, quantity: int, actor=None) -> None:
    """Give flash-sale units that were not sold back to normal stock."""
    if quantity <= 0:
        return
    StockLevel.objects.get_or_create(sku_id=sku_id, defaults={"quantity": 0})
    StockLevel.objects.filter(sku_id=sku_id).update(quantity=F("quantity") + quantity)
    StockMovement.objects.create(sku_id=sku_id, delta=quantity, reason=StockMovement.Reason.FLASH_RETURNED, actor=actor)


def restock_returned(*, sku_id, quantity: int, order, actor=None) -> None:
    """Units a buyer sent back that inspection found resaleable go back on sale (after-sales)."""
    if quantity <= 0:
        return
    StockLevel.objects.get_or_create(sku_id=sku_id, defaults={"quantity": 0})
    StockLevel.objects.filter(sku_id=sku_id).update(quantity=F("quantity") + quantity)
    StockMovement.objects.create(sku_id=sku_id, delta=quantity, reason=StockMovement.Reason.AFTERSALES_RETURN,
                                 order=order, actor=actor)


def take_for_replacement(*, sku, quantity: int, order, actor=None, field="quantity") -> None:
    """Units a shop sends as an after-sales replacement leave stock, or OutOfStock."""
    taken = StockLevel.objects.filter(sku_id=sku.pk, quantity__gte=quantity).update(quantity=F("quantity") - quantity)
    if not taken:
        raise OutOfStock(_("Not enough stock for SKU %(code)s.") % {"code": sku.code},
                         fields={field: [_("Not enough stock for SKU %(code)s.") % {"code": sku.code}]})
    StockMovement.objects.create(sku_id=sku.pk, delta=-quantity, reason=StockMovement.Reason.AFTERSALES_REPLACEMENT,
                                 order=order, actor=actor)


def available(sku_ids) -> dict:
    return dict(StockLevel.objects.filter(sku_id__in=list(sku_ids)).values_list("sku_id", "quantity"))
