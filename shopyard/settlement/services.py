"""Settlement writes: the ledger postings of a completed order and of a refund, the
weekly statements (close, mark paid) and the commission rates.

The rules, written once (docs/settlement.md, "How money flows"):

- **When:** a line's sale is recorded when its order completes (`order.completed`);
  money the shopper paid before that is held by payments and is not yet the seller's.
- **What the seller earns on a line:** what the shopper paid for it (`net_total`)
  plus the part of its discounts the platform funded (the platform's promotion cost);
  a discount the shop funded is simply money the shop never received.
- **Commission:** `round(paid × rate / 100)` per line, half up to the currency's minor
  unit (Money.quantize), on what the shopper paid (not on the platform's subsidy);
  shipping pays no commission. The rate is `commission_rate` (shop override, else the
  nearest category's, else the default).
- **Refunds:** a refund of `r` on a line that paid `p` takes back `r`, and the
  commission and platform subsidy in proportion, cumulatively: after refunds totalling
  `R`, the reversed commission is `round(c × R / p)` (same rounding), so a line refunded
  in full returns exactly its commission `c` and subsidy `d`, never a cent more.
  A refund that succeeds before the order completes is posted when it completes.
- **Idempotent:** each posting has a unique key (source, line); an event delivered again
  finds it and writes nothing.

Lock order: the order row, then the shop's open statement (postings); a statement
alone (close, mark paid).
"""

import logging
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.access import require_operator
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import Money, money_str
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id
from shopyard.orders.models import OrderAdjustment
from shopyard.orders.state import Status as OrderStatus
from shopyard.payments.state import RefundStatus

from .models import (
    Account,
    CategoryCommission,
    Entry,
    Kind,
    Posting,
    ShopCommission,
    Source,
    Statement,
    StatementStatusChange,
)
from .state import EVENTS, STAMPS, TRANSITIONS, Action, Status

log = logging.getLogger("shopyard.settlement")

ZERO = Decimal("0")
HUNDRED = Decimal("100")


# ---------------------------------------------------------------------------- rules


def round_money(amount: Decimal, currency: str) -> Decimal:
    """The ledger's one rounding: half up to the currency's minor unit."""
    return Money(amount, currency).quantize().amount


def commission_for(paid: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The commission on a line: round(paid × rate / 100), half up to the minor unit."""
    return round_money(paid * rate / HUNDRED, currency)


def reversed_share(whole: Decimal, refunded: Decimal, paid: Decimal, currency: str) -> Decimal:
    """How much of `whole` (a line's commission or platform subsidy) is reversed once
    `refunded` of the `paid` amount has gone back: round(whole × refunded / paid),
    capped at `whole` (cumulative, so the parts of several refunds add up exactly)."""
    if paid <= 0 or whole == 0:
        return ZERO
    return min(round_money(whole * min(refunded, paid) / paid, currency), whole)


def default_rate() -> Decimal:
    return Decimal(str(getattr(settings, "SETTLEMENT_DEFAULT_COMMISSION_RATE", "5")))


def commission_rates(shop_id, category_ids) -> dict:
    """{category_id: rate (percent)} for lines of `shop_id` in `category_ids`: the one place
    that says which rate applies. The shop's override wins; else the rate of the category
    or of its nearest ancestor that has one; else settings.SETTLEMENT_DEFAULT_COMMISSION_RATE."""
    from shopyard.catalog.models import Category

    override = ShopCommission.objects.filter(shop_id=shop_id).values_list("rate", flat=True).first()
    if override is not None:
        return {cid: override for cid in category_ids}
    rates = dict(CategoryCommission.objects.values_list("category_id", "rate"))
    parents = dict(Category.objects.values_list("pk", "parent_id")) if rates else {}
    found = {}
    for cid in category_ids:
        node, seen = cid, set()
        while node is not None and node not in rates and node not in seen:
            seen.add(node)
            node = parents.get(node)
        found[cid] = rates.get(node, default_rate()) if node is not None else default_rate()
    return found


def commission_rate(*, shop_id, category_id) -> Decimal:
    """The rate (percent) a line of `shop_id` in `category_id` pays."""
    return commission_rates(shop_id, [category_id])[category_id]


def parse_rate(value, field="rate") -> Decimal:
    """A commission rate in percent from input: 0 to 100, at most two decimals."""
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(fields={field: [_("Enter a rate between 0 and 100, such as 5 or 2.5.")]})
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={field: [_("Enter a rate between 0 and 100, such as 5 or 2.5.")]}) from None
    if not rate.is_finite():
        raise ValidationFailed(fields={field: [_("Enter a rate between 0 and 100, such as 5 or 2.5.")]})
    if rate < 0 or rate > HUNDRED:
        raise ValidationFailed(fields={field: [_("The rate must be between 0 and 100.")]})
    if rate.as_tuple().exponent < -2:
        raise ValidationFailed(fields={field: [_("Use at most 2 decimal places.")]})
    return rate.quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------- periods and statements


def period_bounds(at) -> tuple[datetime, datetime]:
    """The settlement week containing `at`: Monday 00:00 to the next Monday 00:00 in
    settings.TIME_ZONE (the platform's business day, as the console's "today")."""
    tz = ZoneInfo(settings.TIME_ZONE)
    day = timezone.localtime(at, tz).date()
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time.min, tzinfo=tz)
    return start, datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)


def open_statement(*, shop_id, currency, now=None) -> Statement:
    """The shop's statement that new entries land in, locked: the one of the period
    containing `now`, or the next open one when that was closed early."""
    start, end = period_bounds(now or timezone.now())
    while True:
        statement, _created = Statement.objects.get_or_create(
            shop_id=shop_id, currency=currency, period_start=start, defaults={"period_end": end})
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        if statement.status == Status.OPEN:
            return statement
        start, end = end, period_bounds(end)[1]


def _record(statement, from_status, to_status, action, actor, note=""):
    StatementStatusChange.objects.create(
        statement=statement, from_status=from_status, to_status=to_status, action=action, note=note[:200],
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor))


def event_payload(statement) -> dict:
    return {
        "statement_id": statement.pk, "shop_id": statement.shop_id, "status": statement.status,
        "currency": statement.currency, "payable": money_str(statement.payable, statement.currency),
        "period_start": statement.period_start.isoformat(), "period_end": statement.period_end.isoformat(),
    }


def statement_totals(statement) -> dict:
    """The statement's figures from its seller-payable entries (payouts aside), as the
    seller reads them (positive: owed to the seller)."""
    rows = dict(
        Entry.objects.filter(statement=statement, account=Account.SELLER_PAYABLE).exclude(kind=Kind.PAYOUT)
        .values("kind").annotate(total=Sum("amount")).values_list("kind", "total"))

    def credit(*kinds):
        return -sum((rows.get(k) or ZERO for k in kinds), ZERO)

    sales = credit(Kind.SALE, Kind.SHIPPING)
    discounts = credit(Kind.PLATFORM_DISCOUNT, Kind.DISCOUNT_REVERSAL)
    commission = -credit(Kind.COMMISSION)
    returned = credit(Kind.COMMISSION_REVERSAL)
    refunds = -credit(Kind.REFUND)
    orders = (Entry.objects.filter(statement=statement, account=Account.SELLER_PAYABLE, kind__in=[Kind.SALE,
                                                                                                  Kind.SHIPPING])
              .aggregate(n=Count("order_id", distinct=True))["n"])
    return {
        "order_count": orders, "sales": sales, "platform_discounts": discounts, "commission": commission,
        "commission_returned": returned, "refunds": refunds,
        "payable": sales + discounts - commission + returned - refunds,
    }


def close_statement(*, actor, statement_id, now=None) -> Statement:
    """Close a statement whose period has ended: its figures are frozen and it waits to be
    paid. Closing it again, or before its period ends, is refused (409) with nothing changed.
    The periodic job closes every due statement; operators may close one themselves."""
    now = now or timezone.now()
    if actor is not None:
        require_operator(actor)
    with transaction.atomic():
        statement = Statement.objects.select_for_update().filter(pk=check_id(statement_id, "statement_id")).first()
        if statement is None:
            raise NotFound(_("Statement not found."))
        return _close(statement, actor=actor, now=now)


def _close(statement, *, actor, now):
    if statement.status == Status.OPEN and statement.period_end > now:
        message = _("This statement's period ends at %(end)s; it can be closed after that.") % {
            "end": timezone.localtime(statement.period_end).strftime("%Y-%m-%d %H:%M")}
        raise Conflict(message, fields={"status": [message]}, code="period_not_ended")
    totals = statement_totals(statement)
    apply_transition(statement, Action.CLOSE, transitions=TRANSITIONS, record=_record, actor=actor,
                     **{STAMPS[Status.CLOSED]: now}, **totals)
    emit(EVENTS[Status.CLOSED], **event_payload(statement))
    return statement


def close_due_statements(now=None) -> int:
    """The weekly job: close every open statement whose period has ended (one per shop and
    period; a second run finds none left). Returns how many it closed."""
    now = now or timezone.now()
    ids = list(Statement.objects.filter(status=Status.OPEN, period_end__lte=now).order_by("pk")
               .values_list("pk", flat=True))
    closed = 0
    for pk in ids:
        with transaction.atomic():
            statement = Statement.objects.select_for_update().filter(pk=pk, status=Status.OPEN).first()
            if statement is None:  # another run closed it meanwhile
                continue
            _close(statement, actor=None, now=now)
            closed += 1
    return closed


def mark_paid(*, actor, statement_id, reference="", now=None) -> Statement:
    """An operator paid the seller what a closed statement says: the statement is paid and
    the payout is posted (seller payable debited, payouts credited; a negative statement,
    refunds exceeding sales, is the seller paying the platform back). A second call, or one
    on an open statement, is refused (409) and changes nothing."""
    require_operator(actor)
    reference = (reference or "").strip()
    if len(reference) > 64:
        raise ValidationFailed(fields={"reference": [_("Use at most 64 characters.")]})
    now = now or timezone.now()
    with transaction.atomic():
        statement = Statement.objects.select_for_update().filter(pk=check_id(statement_id, "statement_id")).first()
        if statement is None:
            raise NotFound(_("Statement not found."))
        if statement.status == Status.CLOSED and statement.payable:
            _post(key=f"statement:{statement.pk}:payout", source=Source.STATEMENT, source_id=statement.pk,
                  shop_id=statement.shop_id, currency=statement.currency, statement=statement,
                  legs=[(Kind.PAYOUT, Account.SELLER_PAYABLE, statement.payable),
                        (Kind.PAYOUT, Account.PAYOUTS, -statement.payable)])
        apply_transition(statement, Action.MARK_PAID, transitions=TRANSITIONS, record=_record, actor=actor,
                         note=reference, **{STAMPS[Status.PAID]: now}, paid_by=actor, payout_reference=reference)
        emit(EVENTS[Status.PAID], **event_payload(statement))
    return statement


# ---------------------------------------------------------------------------- postings


def _post(*, key, source, source_id, shop_id, currency, legs, order=None, line_id=None, rate=None, statement=None,
          now=None):
    """Write one balanced posting unless its key exists; zero legs are left out.
    Returns the posting, or None when it existed or had nothing to say."""
    legs = [(kind, account, amount) for kind, account, amount in legs if amount]
    if sum((amount for _k, _a, amount in legs), ZERO) != 0:
        raise AssertionError(f"unbalanced posting {key}: {legs}")  # a bug, never input
    if not legs or Posting.objects.filter(key=key).exists():
        return None
    statement = statement or open_statement(shop_id=shop_id, currency=currency, now=now)
    posting = Posting.objects.create(
        key=key, source=source, source_id=source_id, shop_id=shop_id, order=order, order_line_id=line_id,
        statement=statement, currency=currency, rate=rate)
    Entry.objects.bulk_create([
        Entry(posting=posting, account=account, kind=kind, amount=amount, currency=currency, shop_id=shop_id,
              order=order, order_line_id=line_id, statement=statement)
        for kind, account, amount in legs])
    return posting


def _platform_funded(adjustments) -> Decimal:
    return sum((a.amount for a in adjustments if a.funded_by == OrderAdjustment.Funding.PLATFORM), ZERO)


def on_order_completed(payload) -> None:
    record_order_completed(order_id=payload.get("order_id"))


def record_order_completed(*, order_id, now=None) -> int:
    """Post a completed order's sale: per line the shopper's payment and the platform's
    subsidy to the seller, and the commission from the seller to the platform; then the
    shipping; then any refund that succeeded before completion. Returns postings written."""
    from shopyard.catalog.models import Product
    from shopyard.orders.models import Order
    from shopyard.payments.models import Refund

    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != OrderStatus.COMPLETED:
            return 0
        cur = order.currency
        lines = list(order.lines.prefetch_related("adjustments").order_by("pk"))
        categories = dict(Product.objects.filter(pk__in=[ln.product_id_snapshot for ln in lines])
                          .values_list("pk", "category_id"))
        rates = commission_rates(order.shop_id, {categories.get(ln.product_id_snapshot) for ln in lines})
        written = 0
        for line in lines:
            paid, subsidy = line.net_total, _platform_funded(line.adjustments.all())
            rate = rates[categories.get(line.product_id_snapshot)]
            commission = commission_for(paid, rate, cur)
            written += bool(_post(
                key=f"order:{order.pk}:line:{line.pk}", source=Source.ORDER, source_id=order.pk,
                shop_id=order.shop_id, currency=cur, order=order, line_id=line.pk, rate=rate, now=now, legs=[
                    (Kind.SALE, Account.CLEARING, paid), (Kind.SALE, Account.SELLER_PAYABLE, -paid),
                    (Kind.PLATFORM_DISCOUNT, Account.PROMOTION_COST, subsidy),
                    (Kind.PLATFORM_DISCOUNT, Account.SELLER_PAYABLE, -subsidy),
                    (Kind.COMMISSION, Account.SELLER_PAYABLE, commission),
                    (Kind.COMMISSION, Account.COMMISSION_REVENUE, -commission),
                ]))
        shipping_paid = order.shipping_fee - order.shipping_discount
        shipping_subsidy = _platform_funded(order.adjustments.filter(line__isnull=True))
        written += bool(_post(
            key=f"order:{order.pk}:shipping", source=Source.ORDER, source_id=order.pk, shop_id=order.shop_id,
            currency=cur, order=order, now=now, legs=[
                (Kind.SHIPPING, Account.CLEARING, shipping_paid), (Kind.SHIPPING, Account.SELLER_PAYABLE, -shipping_paid),
                (Kind.PLATFORM_DISCOUNT, Account.PROMOTION_COST, shipping_subsidy),
                (Kind.PLATFORM_DISCOUNT, Account.SELLER_PAYABLE, -shipping_subsidy),
            ]))
        for refund_id in Refund.objects.filter(order=order, status=RefundStatus.SUCCEEDED).order_by("pk").values_list("pk",
                                                                                                           flat=True):
            written += _post_refund(order, refund_id, now=now)
    return written


def on_refund_succeeded(payload) -> None:
    record_refund(refund_id=payload.get("refund_id"))


def record_refund(*, refund_id, now=None) -> int:
    """Post a succeeded refund against a completed order's sale (reversal entries in the
    shop's open statement, whichever statement the sale was in). A refund of an order not
    completed yet waits: record_order_completed posts it. Returns postings written."""
    from shopyard.orders.models import Order
    from shopyard.payments.models import Refund

    order_id = Refund.objects.filter(pk=refund_id, status=RefundStatus.SUCCEEDED).values_list("order_id", flat=True).first()
    if order_id is None:
        return 0
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if not Posting.objects.filter(source=Source.ORDER, source_id=order.pk).exists():
            return 0
        return _post_refund(order, refund_id, now=now)


def _post_refund(order, refund_id, *, now=None) -> int:
    """The refund's postings, per line and for shipping: what went back to the shopper is
    taken from the seller, with the commission and platform subsidy in proportion."""
    from shopyard.payments.models import Refund

    refund = Refund.objects.prefetch_related("lines").get(pk=refund_id)
    cur = order.currency
    parts = [(rl.line_id, rl.amount) for rl in refund.lines.all()]
    if refund.shipping_amount > 0:
        parts.append((None, refund.shipping_amount))
    line_paid = dict(order.lines.values_list("pk", "net_total"))
    written = 0
    for line_id, amount in parts:
        key = f"refund:{refund.pk}:line:{line_id}" if line_id else f"refund:{refund.pk}:shipping"
        if Posting.objects.filter(key=key).exists():
            continue
        paid = line_paid.get(line_id, ZERO) if line_id else order.shipping_fee - order.shipping_discount
        done = _line_totals(order, line_id)
        commission, subsidy = done.get(Kind.COMMISSION, ZERO), -done.get(Kind.PLATFORM_DISCOUNT, ZERO)
        refunded = done.get(Kind.REFUND, ZERO) + amount
        commission_back = reversed_share(commission, refunded, paid, cur) + done.get(Kind.COMMISSION_REVERSAL, ZERO)
        subsidy_back = reversed_share(subsidy, refunded, paid, cur) - done.get(Kind.DISCOUNT_REVERSAL, ZERO)
        written += bool(_post(
            key=key, source=Source.REFUND, source_id=refund.pk, shop_id=order.shop_id, currency=cur, order=order,
            line_id=line_id, now=now, legs=[
                (Kind.REFUND, Account.SELLER_PAYABLE, amount), (Kind.REFUND, Account.CLEARING, -amount),
                (Kind.DISCOUNT_REVERSAL, Account.SELLER_PAYABLE, subsidy_back),
                (Kind.DISCOUNT_REVERSAL, Account.PROMOTION_COST, -subsidy_back),
                (Kind.COMMISSION_REVERSAL, Account.COMMISSION_REVENUE, commission_back),
                (Kind.COMMISSION_REVERSAL, Account.SELLER_PAYABLE, -commission_back),
            ]))
    return written


def _line_totals(order, line_id) -> dict:
    """{kind: sum} of the seller-payable entries posted so far for one line of `order`
    (or its shipping, `line_id` None)."""
    rows = Entry.objects.filter(order=order, order_line_id=line_id, account=Account.SELLER_PAYABLE)
    return dict(rows.values("kind").annotate(total=Sum("amount")).values_list("kind", "total"))


# ---------------------------------------------------------------------------- commission rates


def _operator(actor):
    require_operator(actor)


def set_category_rate(*, actor, category_id, rate) -> CategoryCommission:
    """Set a platform category's commission rate (0–100 %); it applies to lines that
    complete from now on (a sale keeps the rate it was posted with)."""
    from shopyard.catalog.models import Category

    _operator(actor)
    rate = parse_rate(rate)
    with transaction.atomic():
        category = Category.objects.filter(pk=check_id(category_id, "category_id")).first()
        if category is None:
            raise NotFound(_("Category not found."))
        row, _created = CategoryCommission.objects.update_or_create(
            category=category, defaults={"rate": rate, "updated_by": actor})
        emit("commission_rate.changed", category_id=category.pk, shop_id=None, rate=str(rate), actor_id=actor.pk)
    return row


def clear_category_rate(*, actor, category_id) -> None:
    _operator(actor)
    with transaction.atomic():
        deleted, _rows = CategoryCommission.objects.filter(category_id=check_id(category_id, "category_id")).delete()
        if not deleted:
            raise NotFound(_("This category has no rate of its own."))
        emit("commission_rate.changed", category_id=category_id, shop_id=None, rate=None, actor_id=actor.pk)


def set_shop_rate(*, actor, shop_id, rate) -> ShopCommission:
    """Give a shop its own rate (0–100 %), which wins over every category's."""
    from shopyard.shops.models import Shop

    _operator(actor)
    rate = parse_rate(rate)
    with transaction.atomic():
        shop = Shop.objects.filter(pk=check_id(shop_id, "shop_id")).first()
        if shop is None:
            raise NotFound(_("Shop not found."))
        row, _created = ShopCommission.objects.update_or_create(shop=shop, defaults={"rate": rate,
                                                                                     "updated_by": actor})
        emit("commission_rate.changed", category_id=None, shop_id=shop.pk, rate=str(rate), actor_id=actor.pk)
    return row


def clear_shop_rate(*, actor, shop_id) -> None:
    _operator(actor)
    with transaction.atomic():
        deleted, _rows = ShopCommission.objects.filter(shop_id=check_id(shop_id, "shop_id")).delete()
        if not deleted:
            raise NotFound(_("This shop has no rate of its own."))
        emit("commission_rate.changed", category_id=None, shop_id=shop_id, rate=None, actor_id=actor.pk)

