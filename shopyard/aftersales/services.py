"""Every write to an after-sales case: opening it, each side's steps, the
platform's decision and the deadline job. Each moves the case through its
type's table in state.py (row locked, checked, recorded as a CaseEvent).

Money goes back ONLY through payments.refunds.refund_order_lines, which holds
the payment and order locks and refuses to return more than a line's paid
amount (net_total) or the payment's capture, across every refund of the order:
two cases racing cannot overdraw it.

Lock order: the case row, then (inside the refund) the payment, then the order.
Opening a case locks the order row only, so the two never wait on each other in
a cycle.
"""

import logging
import secrets
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from shopyard.core.access import is_operator
from shopyard.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.images import check_upload
from shopyard.core.money import Money, allocate, format_price, money_str
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id, check_quantity

# the order statuses a case may be opened on: every status of a paid order (payments' rule)
from shopyard.payments.refunds import REFUNDABLE_ORDER_STATUSES, parse_amount

from .models import Case, CaseEvent, CaseLine, CasePhoto, CreditEntry, Reason, ShopPolicy
from .state import (
    DEADLINES,
    LATE_ROLE,
    PERFORMERS,
    RETURNING_KINDS,
    TRANSITIONS,
    VOID,
    Action,
    Kind,
    Role,
    Status,
    deadline_action,
    is_final,
)

log = logging.getLogger("shopyard.aftersales")

MAX_PHOTOS = 9
# the most photos one side adds to one case by "add photos" (each step adds at most MAX_PHOTOS)
MAX_CASE_PHOTOS = 27
MAX_LINES = 50

# ---------------------------------------------------------------------------- policy


def policy_for(shop) -> dict:
    """The shop's after-sales windows (days) and deadlines, settings' defaults where the
    shop's policy leaves a field empty."""
    row = ShopPolicy.objects.filter(shop=shop).first()
    windows = settings.AFTERSALES_WINDOW_DAYS

    def pick(field, default):
        value = getattr(row, field, None) if row else None
        return default if value is None else value

    return {
        "changed_mind": pick("changed_mind_days", windows["changed_mind"]),
        "quality": pick("quality_days", windows["quality"]),
        "warranty": pick("warranty_days", windows["warranty"]),
        "price_protection": pick("price_protection_days", windows["price_protection"]),
        "respond_hours": pick("respond_hours", settings.AFTERSALES_RESPOND_HOURS),
        "return_ship_days": pick("return_ship_days", settings.AFTERSALES_RETURN_SHIP_DAYS),
        "inspect_days": pick("inspect_days", settings.AFTERSALES_INSPECT_DAYS),
    }


# the policy fields a shop may set, with their bounds (days, or hours for the respond deadline)
POLICY_LIMITS = {
    "changed_mind_days": (0, 90), "quality_days": (1, 365), "warranty_days": (1, 1095),
    "price_protection_days": (0, 90), "respond_hours": (1, 720), "return_ship_days": (1, 60),
    "inspect_days": (1, 60),
}


def save_policy(*, actor, shop, data) -> ShopPolicy:
    """A shop sets its after-sales windows and deadlines; an empty field takes the platform
    default. Each value is a whole number within POLICY_LIMITS, or a 422 naming the field."""
    from shopyard.core.validation import parse_int

    errors, values = {}, {}
    for field, (low, high) in POLICY_LIMITS.items():
        raw = data.get(field)
        if raw in (None, ""):
            values[field] = None
            continue
        number = parse_int(raw, min_value=low, max_value=high)
        if number is None:
            errors[field] = [_("Enter a whole number from %(low)s to %(high)s, or leave it empty.")
                             % {"low": low, "high": high}]
        values[field] = number
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        policy, _created = ShopPolicy.objects.select_for_update().get_or_create(shop=shop)
        for field, value in values.items():
            setattr(policy, field, value)
        policy.save()
        emit("aftersales_policy.changed", shop_id=shop.pk, actor_id=getattr(actor, "pk", None),
             **{k: v for k, v in values.items()})
    return policy


def window_closes(order, reason, policy=None):
    """The moment the window for `reason` on `order` closes (open before it, closed from it
    on), or None while it has not started (nothing received yet). Counted from receipt
    (delivered or confirmed, whichever came first), the price-protection window from payment,
    in whole local days after that day (七天无理由: from the day after receipt): goods
    received on 1 November have a 7-day window to the end of 8 November, local time."""
    from datetime import datetime, time

    policy = policy or policy_for(order.shop)
    if reason.window == Reason.Window.PRICE_PROTECTION:
        start = order.paid_at
    else:
        stamps = [s for s in (order.delivered_at, order.completed_at) if s]
        start = min(stamps) if stamps else None
    if start is None:
        return None
    last_day = timezone.localdate(start) + timedelta(days=policy[reason.window])
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


def window_open(closes, now) -> bool:
    """Whether a window closing at `closes` (window_closes) is open at `now`."""
    return closes is None or now < closes


def deadline_length(policy, status) -> timedelta | None:
    rule = DEADLINES.get(status)
    if rule is None:
        return None
    field = rule[0]
    return timedelta(hours=policy[field]) if field.endswith("hours") else timedelta(days=policy[field])


# ---------------------------------------------------------------------------- moving a case

# what each action stamps on the case (the statistics read them)
_STAMPS = {
    Action.APPROVE: "responded_at", Action.AUTO_APPROVE: "responded_at", Action.REJECT: "responded_at",
    Action.SHIP_RETURN: "return_shipped_at", Action.RECEIVE: "received_at",
    Action.INSPECT: "inspected_at", Action.AUTO_INSPECT: "inspected_at",
    Action.ESCALATE: "escalated_at", Action.DECIDE_FULL: "decided_at", Action.DECIDE_PARTIAL: "decided_at",
    Action.DECIDE_REJECT: "decided_at", Action.REFUND_DONE: "refunded_at",
}


def _record_factory(role, photos):
    def record(case, from_status, to_status, action, actor, note):
        event = CaseEvent.objects.create(
            case=case, action=action, from_status=from_status, to_status=to_status, role=role,
            actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), note=note[:500])
        _save_photos(case, photos, role=role, actor=actor, event=event)
    return record


def _move(case, action, *, actor, role, note="", photos=(), now=None, **fields):
    """Move a locked case along `action` (its type's table), stamp the step, set the deadline
    the new status runs against, write the timeline row and emit `aftersales_case.changed`."""
    if role not in PERFORMERS[action]:
        raise PermissionDenied(_("You may not do this to the case."))
    now = now or timezone.now()
    if (case.deadline is not None and now > case.deadline and LATE_ROLE.get(case.status) == role
            and deadline_action(case.kind, case.status)):
        raise Conflict(_("The deadline for this step passed: the system takes it now."), code="deadline_passed")
    stamp = _STAMPS.get(action)
    if stamp and getattr(case, stamp) is None:
        fields[stamp] = now
    target = TRANSITIONS[case.kind].get((case.status, action))
    length = deadline_length(policy_for(case.shop), target) if target else None
    fields["deadline"] = now + length if length and deadline_action(case.kind, target) else None
    if target and is_final(case.kind, target):
        fields["closed_at"] = now
    apply_transition(case, action, transitions=TRANSITIONS[case.kind], record=_record_factory(role, photos),
                     actor=actor, note=note, **fields)
    emit("aftersales_case.changed", **event_payload(case), action=str(action), role=str(role))
    return case


def event_payload(case) -> dict:
    return {
        "case_id": case.pk, "number": case.number, "kind": case.kind, "status": case.status,
        "order_id": case.order_id, "shop_id": case.shop_id, "user_id": case.buyer_id,
        "reason": case.reason.code, "currency": case.currency,
        "requested_amount": money_str(case.requested_amount, case.currency),
        "approved_amount": money_str(case.approved_amount, case.currency) if case.approved_amount is not None else None,
    }


def _note(value, *, required=False, field="note", limit=500) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if required and not value:
        raise ValidationFailed(fields={field: [_("Say why.")]})
    if len(value) > limit:
        message = (_("Keep it under 1000 characters.") if limit == 1000 else _("Keep it under 500 characters."))
        raise ValidationFailed(fields={field: [message]})
    return value


def _checked_photos(photos, field="photos") -> list:
    """(bytes, extension) of every upload, all checked before anything is written."""
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(fields={field: [_("Add at most %(n)s photos.") % {"n": MAX_PHOTOS}]})
    return [check_upload(upload, field=field) for upload in photos]


def _save_photos(case, checked, *, role, actor, event=None):
    for data, ext in checked:
        photo = CasePhoto(case=case, event=event, role=role, uploaded_by=actor if getattr(actor, "pk", None) else None)
        photo.image.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
        photo.save()


def _lookup(qs, case_id, *, lock=True) -> Case:
    pk = check_id(case_id, "case_id")
    qs = qs.select_related("shop", "reason", "order")
    case = (qs.select_for_update(of=("self",)) if lock else qs).filter(pk=pk).first()
    if case is None:
        raise NotFound(_("After-sales case not found."))
    return case


def buyer_case(actor, case_id, *, lock=True) -> Case:
    return _lookup(Case.objects.filter(buyer=actor), case_id, lock=lock)


def shop_case(shop, case_id, *, lock=True) -> Case:
    return _lookup(Case.objects.filter(shop=shop), case_id, lock=lock)


def operator_case(actor, case_id, *, lock=True) -> Case:
    if not is_operator(actor):
        raise NotFound(_("After-sales case not found."))
    return _lookup(Case.objects.all(), case_id, lock=lock)


# ---------------------------------------------------------------------------- opening


def _parse_case_lines(lines) -> list:
    if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
        raise ValidationFailed(fields={"lines": [_("Choose at least one line of the order.")]})
    errors, parsed, seen = {}, [], set()
    for i, item in enumerate(lines):
        if not isinstance(item, dict):
            errors[f"lines[{i}]"] = [_("Give a line id and a quantity.")]
            continue
        try:
            line_id = check_id(item.get("line_id"), f"lines[{i}].line_id")
            quantity = check_quantity(item.get("quantity"), f"lines[{i}].quantity")
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        if line_id in seen:
            errors[f"lines[{i}].line_id"] = [_("Each line can be named once.")]
            continue
        seen.add(line_id)
        parsed.append((i, line_id, quantity))
    if errors:
        raise ValidationFailed(fields=errors)
    return parsed


def _amount(value, currency, field) -> Decimal:
    errors = {}
    amount = parse_amount(value, currency, field, errors)
    if amount is None:
        raise ValidationFailed(fields=errors)
    return amount


def in_cases(lines) -> dict:
    """Per order line id: (units, amount, allotted) that cases not void already claim.
    units: for every type but compensation (which returns no goods), plus units the shop
    refunded itself; amount: of cases not refunded yet (a refunded case's money is in payments'
    refund rows), exchanges and repairs aside; allotted: the share each case returning goods
    was given for its units (refunded, decided in part, or kept by an exchange or a repair),
    plus the proportional share of units the shop refunded itself: the line's last units are
    never given it again."""
    from shopyard.payments.models import RefundLine

    rows = CaseLine.objects.filter(line__in=lines).exclude(case__status__in=VOID)
    goods = rows.exclude(case__kind=Kind.COMPENSATION).values("line_id")
    units = dict(goods.annotate(n=Sum("quantity")).values_list("line_id", "n"))
    allotted = dict(goods.annotate(total=Sum("amount")).values_list("line_id", "total"))
    # units the shop refunded itself (payments' refunds no case made) are gone too, with
    # their share of the line (whatever amount the shop gave for them)
    of_cases = Case.objects.filter(refund__isnull=False, lines__line__in=lines).values("refund_id")
    by_pk = {line.pk: line for line in lines}
    for line_id, n in (RefundLine.objects.filter(line__in=lines, quantity__isnull=False)
                       .exclude(refund_id__in=of_cases).values("line_id").annotate(n=Sum("quantity"))
                       .values_list("line_id", "n")):
        line = by_pk[line_id]
        units[line_id] = (units.get(line_id) or 0) + n
        share = Money(line.net_total * n / line.quantity, line.order.currency).quantize().amount
        allotted[line_id] = (allotted.get(line_id) or Decimal("0")) + share
    amounts = dict(rows.filter(case__refund__isnull=True).exclude(case__kind__in=[Kind.EXCHANGE, Kind.REPAIR])
                   .values("line_id").annotate(total=Sum("amount")).values_list("line_id", "total"))
    return {line.pk: (units.get(line.pk) or 0, amounts.get(line.pk) or Decimal("0"),
                      allotted.get(line.pk) or Decimal("0")) for line in lines}


def kinds_for_order(order) -> list:
    """The case types the order's state allows (windows aside): none before payment or after
    cancellation, refund only while nothing has shipped, every type once goods left."""
    if order.status not in REFUNDABLE_ORDER_STATUSES:
        return []
    if order.shipped_at is None:
        return [k for k in Kind if k not in RETURNING_KINDS]
    return list(Kind)


def _check_order_allows(order, kind):
    if order.status not in REFUNDABLE_ORDER_STATUSES:
        raise Conflict(_("After-sales help is for paid orders; this one is “%(status)s”.")
                       % {"status": order.get_status_display()}, code="order_not_eligible",
                       fields={"order_id": [_("This order cannot have an after-sales case.")]})
    if kind not in kinds_for_order(order):
        raise Conflict(_("Nothing of this order has shipped yet: ask for a refund only."), code="not_shipped",
                       fields={"kind": [_("Nothing has shipped yet: choose “Refund only”.")]})


def open_case(*, actor, order_id, kind, reason_id, lines, description="", amount=None, compensation="",
              photos=(), now=None) -> Case:
    """A buyer opens a case on lines of their own paid order (someone else's order: 404),
    within the reason's window, for at most what was bought minus what other cases already
    hold. The amount asked is each line's paid share (net_total × quantity ÷ bought, the
    remainder for the last units), never more than is left to refund; for compensation the
    buyer names an amount up to that."""
    from shopyard.orders.models import Order
    from shopyard.payments.queries import left_to_refund

    now = now or timezone.now()
    order = Order.objects.filter(pk=check_id(order_id, "order_id"), user=actor).select_related("shop").first()
    if order is None:
        raise NotFound(_("Order not found."))
    if kind not in Kind.values:
        raise ValidationFailed(fields={"kind": [_("Choose a type of request.")]})
    reason = Reason.objects.filter(pk=check_id(reason_id, "reason_id"), active=True).first()
    if reason is None or not reason.allows(kind):
        raise ValidationFailed(fields={"reason_id": [_("Choose a reason from the list.")]})
    description = _note(description, field="description", limit=1000)
    parsed = _parse_case_lines(lines)
    compensation = compensation or ""
    if kind == Kind.COMPENSATION:
        if compensation not in Case.Compensation.values:
            raise ValidationFailed(fields={"compensation": [_("Choose a refund or store credit.")]})
        asked = _amount(amount, order.currency, "amount")
    else:
        compensation, asked = "", None
    _check_order_allows(order, kind)
    policy = policy_for(order.shop)
    closes = window_closes(order, reason, policy)
    if not window_open(closes, now):
        raise ValidationFailed(fields={"reason_id": [
            _("The after-sales window for this reason closed on %(date)s.")
            % {"date": date_format(timezone.localtime(closes), "DATETIME_FORMAT")}]}, code="window_closed")
    checked = _checked_photos(photos)
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order.pk)
        _check_order_allows(order, kind)
        by_id = {line.pk: line for line in order.lines.filter(pk__in=[p[1] for p in parsed])}
        held = in_cases(list(by_id.values()))
        left_money = left_to_refund(order)
        errors, rows = {}, []
        for i, line_id, quantity in parsed:
            line = by_id.get(line_id)
            if line is None:
                errors[f"lines[{i}].line_id"] = [_("This line is not part of the order.")]
                continue
            units_held, money_held, allotted = held[line.pk]
            units_left = line.quantity - (0 if kind == Kind.COMPENSATION else units_held)
            if quantity > units_left:
                errors[f"lines[{i}].quantity"] = [
                    _("Only %(n)s unit(s) of this line are left for after-sales.") % {"n": max(units_left, 0)}]
                continue
            money_left = max(left_money.get(line.pk, Decimal("0")) - money_held, Decimal("0"))
            if quantity < units_left:
                share = Money(line.net_total * quantity / line.quantity, order.currency).quantize().amount
            elif kind == Kind.COMPENSATION:
                share = money_left
            else:
                # the last units: the rounding remainder of the line, never the share other cases'
                # units were given (an operator's partial decision, an exchange's kept units)
                share = line.net_total - allotted
            rows.append((line, quantity, max(min(share, money_left), Decimal("0"))))
        if errors:
            raise ValidationFailed(fields=errors)
        if kind == Kind.COMPENSATION:
            most = sum((share for _l, _q, share in rows), Decimal("0"))
            if asked > most:
                raise ValidationFailed(fields={"amount": [_("At most %(left)s can be asked for these lines.")
                                                          % {"left": format_price(most, order.currency)}]})
            parts = allocate(Money(asked, order.currency), [Money(s, order.currency) for _l, _q, s in rows])
            rows = [(line, q, part.amount) for (line, q, _s), part in zip(rows, parts, strict=True)]
        total = sum((share for _l, _q, share in rows), Decimal("0"))
        if kind not in (Kind.EXCHANGE, Kind.REPAIR) and total <= 0:
            raise ValidationFailed(fields={"lines": [_("Nothing is left to refund on these lines.")]})
        case = Case.objects.create(
            number=f"AS{now:%Y%m%d}{secrets.token_hex(4).upper()}", order=order, shop=order.shop, buyer=actor,
            kind=kind, reason=reason, description=description, currency=order.currency, requested_amount=total,
            compensation=compensation, deadline=now + deadline_length(policy, Status.REQUESTED), opened_at=now,
        )
        CaseLine.objects.bulk_create([CaseLine(case=case, line=line, quantity=q, amount=share)
                                      for line, q, share in rows])
        _record_factory(Role.BUYER, checked)(case, "", Status.REQUESTED, "open", actor, description)
        emit("aftersales_case.opened", **event_payload(case))
    return case


# ---------------------------------------------------------------------------- money


def _refund_lines(case, amount) -> list:
    """The lines payments refunds for `amount` of the case: each case line's share (the
    whole asked amount: each line's own; less: apportioned), with its units unless the case
    returns no goods (compensation)."""
    lines = list(case.lines.select_related("line").order_by("pk"))
    if amount == case.requested_amount:
        parts = [cl.amount for cl in lines]
    else:
        parts = [m.amount for m in allocate(Money(amount, case.currency), [Money(cl.amount, case.currency)
                                                                        for cl in lines])]
    with_units = case.kind != Kind.COMPENSATION
    return [{"line_id": cl.line_id, "amount": str(Money(part, case.currency).quantize().amount), **({"quantity": cl.quantity} if with_units else {})}
            for cl, part in zip(lines, parts, strict=True) if part > 0]


def _pay_out(case, amount, *, actor, role, note, action=Action.REFUND):
    """Give the buyer `amount` of the case: a store-credit row (compensation as credit), or a
    refund through payments.refunds.refund_order_lines (the one refund path)."""
    from shopyard.payments.refunds import refund_order_lines

    if amount <= 0:
        raise ValidationFailed(fields={"amount": [_("The amount must be more than zero.")]})
    if action == Action.CREDIT:
        CreditEntry.objects.create(user_id=case.buyer_id, shop=case.shop, case=case, amount=amount,
                                   currency=case.currency, note=case.number)
        # hook: the loyalty app may move store credit into its own ledger from this event
        emit("store_credit.granted", **event_payload(case), amount=money_str(amount, case.currency))
        return _move(case, Action.CREDIT, actor=None, role=Role.SYSTEM, note=note, approved_amount=amount)
    refund = refund_order_lines(actor=actor if getattr(actor, "pk", None) else None, shop=case.shop,
                                order_id=case.order_id, lines=_refund_lines(case, amount),
                                reason=f"{_('After-sales')} {case.number}")
    fields = {"refund": refund, "approved_amount": amount}
    if action == Action.REFUND:
        _move(case, Action.REFUND, actor=None, role=Role.SYSTEM, note=note, **fields)
    else:
        _move(case, action, actor=actor, role=role, note=note, **fields)
    _close_if_nothing_left(case)
    return case


def _close_if_nothing_left(case):
    """An order not shipped yet whose every line is now refunded has nothing left to send:
    orders closes it (stock back; payments then returns the shipping it paid), so the shop
    cannot ship what was refunded."""
    from shopyard.orders.models import Order
    from shopyard.orders.services import close_paid
    from shopyard.orders.state import Action as OrderAction
    from shopyard.orders.state import actions_for
    from shopyard.payments.queries import left_to_refund

    order = Order.objects.get(pk=case.order_id)
    if OrderAction.CLOSE in actions_for(order) and all(left <= 0 for left in left_to_refund(order).values()):
        close_paid(order=order, note=f"{_('After-sales')} {case.number}")


def _after_approval(case, *, actor, note):
    """What approval sets off at once: a refund-only case refunds, a compensation pays."""
    if case.kind == Kind.REFUND_ONLY:
        _pay_out(case, case.requested_amount, actor=actor, role=Role.SYSTEM, note=note)
    elif case.kind == Kind.COMPENSATION:
        action = Action.CREDIT if case.compensation == Case.Compensation.CREDIT else Action.REFUND
        _pay_out(case, case.requested_amount, actor=actor, role=Role.SYSTEM, note=note, action=action)


def on_refund_succeeded(payload) -> None:
    """payments reports a refund done: the case it pays moves to refunded; an order now
    refunded in full gives its unused coupons back (promotions' rule) and the case event
    `aftersales_case.refunded` is the hook for points reversal (loyalty)."""
    from shopyard.orders.models import Order
    from shopyard.payments.queries import left_to_refund
    from shopyard.promotions.coupon_services import return_coupons_of_refunded_order

    with transaction.atomic():
        case = (Case.objects.select_for_update(of=("self",)).select_related("shop", "reason")
                .filter(refund_id=payload.get("refund_id"), status=Status.REFUNDING).first())
        if case is None:
            return
        _move(case, Action.REFUND_DONE, actor=None, role=Role.SYSTEM, note=payload.get("reference", ""))
        order = Order.objects.get(pk=case.order_id)
        full = all(left <= 0 for left in left_to_refund(order).values())
        coupons = return_coupons_of_refunded_order(order_id=order.pk) if full else 0
        emit("aftersales_case.refunded", **event_payload(case), order_refunded_in_full=full,
             coupons_returned=coupons,
             lines=[{"line_id": cl.line_id, "quantity": cl.quantity} for cl in case.lines.order_by("pk")])


# ---------------------------------------------------------------------------- the buyer


def cancel_case(*, actor, case_id, note="") -> Case:
    with transaction.atomic():
        case = buyer_case(actor, case_id)
        return _move(case, Action.CANCEL, actor=actor, role=Role.BUYER, note=_note(note))


def ship_return(*, actor, case_id, carrier, tracking_number, note="", photos=()) -> Case:
    from shopyard.shipping.services import check_carrier

    errors = {}
    carrier, tracking_number = check_carrier(carrier, tracking_number, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    checked = _checked_photos(photos)
    with transaction.atomic():
        case = buyer_case(actor, case_id)
        return _move(case, Action.SHIP_RETURN, actor=actor, role=Role.BUYER, photos=checked,
                     note=_note(note) or f"{carrier} {tracking_number}", return_carrier=carrier,
                     return_tracking=tracking_number)


def confirm_case(*, actor, case_id) -> Case:
    """The buyer got the replacement (or the repaired item) back."""
    with transaction.atomic():
        case = buyer_case(actor, case_id)
        return _move(case, Action.CONFIRM, actor=actor, role=Role.BUYER)


def escalate(*, actor, case_id, note, photos=(), shop=None) -> Case:
    """Either side asks the platform to step in (the buyer without `shop`, a seller with it)."""
    note = _note(note, required=True)
    checked = _checked_photos(photos)
    role = Role.SELLER if shop is not None else Role.BUYER
    with transaction.atomic():
        case = shop_case(shop, case_id) if shop is not None else buyer_case(actor, case_id)
        return _move(case, Action.ESCALATE, actor=actor, role=role, note=note, photos=checked, escalated_by=role)


def add_photos(*, actor, case_id, photos, note="", shop=None, field="photos") -> Case:
    """Evidence added to a case by either side (a timeline row "photos")."""
    checked = _checked_photos(photos, field=field)
    if not checked:
        raise ValidationFailed(fields={field: [_("Add at least one photo.")]})
    role = Role.SELLER if shop is not None else Role.BUYER
    with transaction.atomic():
        case = shop_case(shop, case_id) if shop is not None else buyer_case(actor, case_id)
        if is_final(case.kind, case.status):
            raise Conflict(_("This case has ended: no more photos can be added."), code="case_ended")
        if case.photos.filter(role=role).count() + len(checked) > MAX_CASE_PHOTOS:
            raise ValidationFailed(fields={field: [_("A case holds at most %(n)s photos from each side.")
                                                   % {"n": MAX_CASE_PHOTOS}]})
        event = CaseEvent.objects.create(case=case, action="photos", role=role, actor=actor,
                                         actor_label=actor_label(actor), note=_note(note),
                                         from_status=case.status, to_status=case.status)
        _save_photos(case, checked, role=role, actor=actor, event=event)
    return case


# ---------------------------------------------------------------------------- the seller


def approve(*, actor, shop, case_id, note="") -> Case:
    with transaction.atomic():
        case = shop_case(shop, case_id)
        note = _note(note)
        _move(case, Action.APPROVE, actor=actor, role=Role.SELLER, note=note,
              approved_amount=case.requested_amount)
        _after_approval(case, actor=actor, note=note)
    return case


def reject(*, actor, shop, case_id, note, photos=()) -> Case:
    note = _note(note, required=True)
    checked = _checked_photos(photos)
    with transaction.atomic():
        case = shop_case(shop, case_id)
        return _move(case, Action.REJECT, actor=actor, role=Role.SELLER, note=note, photos=checked)


def receive(*, actor, shop, case_id, note="") -> Case:
    with transaction.atomic():
        case = shop_case(shop, case_id)
        return _move(case, Action.RECEIVE, actor=actor, role=Role.SELLER, note=_note(note))


def inspect(*, actor, shop, case_id, resaleable, note="", photos=()) -> Case:
    """The shop inspects what came back: resaleable units go back to stock (inventory), and a
    return-and-refund case refunds. A problem the shop finds goes to the platform (escalate)."""
    from shopyard.inventory.services import restock_returned

    if not isinstance(resaleable, bool):
        raise ValidationFailed(fields={"resaleable": [_("Say whether the goods can be sold again.")]})
    checked = _checked_photos(photos)
    with transaction.atomic():
        case = shop_case(shop, case_id)
        _move(case, Action.INSPECT, actor=actor, role=Role.SELLER, note=_note(note), photos=checked,
              resaleable=resaleable)
        if resaleable and case.kind in (Kind.RETURN_REFUND, Kind.EXCHANGE):
            for cl in case.lines.select_related("line").order_by("line__sku_id"):
                if cl.line.sku_id:
                    restock_returned(sku_id=cl.line.sku_id, quantity=cl.quantity, order=case.order, actor=actor)
        if case.kind == Kind.RETURN_REFUND:
            _pay_refund_in_status(case, actor=actor)
    return case


def _pay_refund_in_status(case, *, actor):
    """A case that reached `refunding` by a step other than the refund itself (inspection):
    the refund is written now, the case stays refunding."""
    from shopyard.payments.refunds import refund_order_lines

    refund = refund_order_lines(actor=actor if getattr(actor, "pk", None) else None, shop=case.shop,
                                order_id=case.order_id, lines=_refund_lines(case, case.requested_amount),
                                reason=f"{_('After-sales')} {case.number}")
    case.refund, case.approved_amount = refund, case.requested_amount
    case.save(update_fields=["refund", "approved_amount"])


def ship_replacement(*, actor, shop, case_id, carrier, tracking_number, note="") -> Case:
    """The shop sends the replacement (exchange; units leave stock) or the repaired item
    (repair); carrier and tracking number go on the case and its timeline."""
    from shopyard.inventory.services import take_for_replacement
    from shopyard.shipping.services import check_carrier

    errors = {}
    carrier, tracking_number = check_carrier(carrier, tracking_number, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        case = shop_case(shop, case_id)
        action = Action.SHIP_REPLACEMENT if case.kind == Kind.EXCHANGE else Action.SHIP_REPAIRED
        _move(case, action, actor=actor, role=Role.SELLER, note=_note(note) or f"{carrier} {tracking_number}",
              replacement_carrier=carrier, replacement_tracking=tracking_number)
        if action == Action.SHIP_REPLACEMENT:
            for cl in case.lines.select_related("line__sku").order_by("line__sku_id"):
                if cl.line.sku_id:
                    take_for_replacement(sku=cl.line.sku, quantity=cl.quantity, order=case.order, actor=actor)
    return case


# ---------------------------------------------------------------------------- the operator


def decide(*, actor, case_id, decision, amount=None, note="") -> Case:
    """An operator decides a disputed case; the system executes it: a refund of everything
    asked, of `amount` (less than asked), or a rejection that ends the case."""
    note = _note(note, required=True)
    if decision not in Case.Decision.values:
        raise ValidationFailed(fields={"decision": [_("Choose a decision.")]})
    with transaction.atomic():
        case = operator_case(actor, case_id)
        if decision == Case.Decision.REJECT:
            return _move(case, Action.DECIDE_REJECT, actor=actor, role=Role.OPERATOR, note=note,
                         decision=decision)
        if decision == Case.Decision.FULL:
            value = case.requested_amount
        else:
            value = _amount(amount, case.currency, "amount")
            if value >= case.requested_amount:
                raise ValidationFailed(fields={"amount": [_("A partial refund is less than the %(asked)s asked.")
                                                          % {"asked": format_price(case.requested_amount, case.currency)}]})
        action = Action.DECIDE_FULL if decision == Case.Decision.FULL else Action.DECIDE_PARTIAL
        if (case.status, action) not in TRANSITIONS[case.kind]:
            return _move(case, action, actor=actor, role=Role.OPERATOR, note=note)  # raises InvalidTransition
        case.decision = decision
        case.save(update_fields=["decision"])
        return _pay_out(case, value, actor=actor, role=Role.OPERATOR, note=note, action=action)


# ---------------------------------------------------------------------------- deadlines


def run_deadlines(*, now=None) -> int:
    """Periodic: every case whose deadline passed gets its status's deadline action, once
    (the shop did not answer: approved; the buyer did not ship: closed; the shop did not
    inspect: accepted). The row is locked and its deadline read again, so a seller acting at
    the same moment wins or loses cleanly, and a second run finds nothing."""
    now = now or timezone.now()
    ids = list(Case.objects.filter(deadline__lt=now, status__in=list(DEADLINES)).order_by("deadline", "pk")
               .values_list("pk", flat=True)[:500])
    done = 0
    for pk in ids:
        try:
            with transaction.atomic():
                case = (Case.objects.select_for_update(of=("self",)).select_related("shop", "reason", "order")
                        .filter(pk=pk, deadline__lt=now, status__in=list(DEADLINES)).first())
                action = deadline_action(case.kind, case.status) if case else None
                if action is None:
                    continue
                _apply_deadline(case, action, now)
                done += 1
        except DomainError as exc:
            log.warning("after-sales deadline of case %s could not be applied", pk, exc_info=True)
            _park_deadline(pk, exc, now)
    return done


def _park_deadline(pk, exc, now):
    """A deadline action the system cannot carry out (payments refuses the refund: the shop
    refunded the money itself meanwhile, or the order was closed): it fires once, not every
    run. The case keeps its status without a deadline and its timeline says why, for either
    side to take to the platform (escalate) or the shop to settle."""
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).filter(pk=pk, deadline__lt=now).first()
        if case is None:
            return
        Case.objects.filter(pk=pk).update(deadline=None)
        CaseEvent.objects.create(case=case, action="deadline_failed", from_status=case.status,
                                 to_status=case.status, role=Role.SYSTEM, actor_label=actor_label(None),
                                 note=(_("The deadline passed, but the system could not carry out its step: "
                                         "%(reason)s") % {"reason": exc.message})[:500])


def _apply_deadline(case, action, now):
    # goods the system accepts were not inspected: they stay out of stock
    if action == Action.AUTO_APPROVE:
        _move(case, action, actor=None, role=Role.SYSTEM, note=_("The shop did not answer in time."), now=now,
              seller_missed_deadline=True, approved_amount=case.requested_amount)
        _after_approval(case, actor=None, note=_("The shop did not answer in time."))
    elif action == Action.EXPIRE_RETURN:
        _move(case, action, actor=None, role=Role.SYSTEM, note=_("The return was not shipped in time."), now=now,
              buyer_missed_deadline=True)
    elif action == Action.AUTO_INSPECT:
        _move(case, action, actor=None, role=Role.SYSTEM, note=_("The shop did not inspect in time."), now=now,
              seller_missed_deadline=True)
        if case.kind == Kind.RETURN_REFUND:
            _pay_refund_in_status(case, actor=None)
