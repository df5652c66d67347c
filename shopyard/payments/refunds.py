"""Refunds: money a capture took for an order it could not pay goes back
through the payment's gateway (gateways.base.Gateway.refund).

A refund is written (pending) in the transaction that discovered it, and
performed after commit by a Celery task; the periodic job retries pending
ones once they are due, waiting longer after each refusal (core.retries.REFUNDS:
SHOPYARD_REFUND_RETRY_BASE_SECONDS, doubling, capped), so a gateway's outage of
an hour does not use up the attempts; after SHOPYARD_REFUND_MAX_ATTEMPTS
refusals it is parked as failed for an operator, who can retry it from the admin.
"""

import logging
import secrets
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shopyard.core import retries
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import CURRENCY_PRECISION, Money, money_str
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id, check_quantity

from . import gateways
from .models import Refund, RefundLine, RefundStatusChange
from .state import REFUND_TRANSITIONS, RefundAction, RefundStatus

log = logging.getLogger("shopyard.payments")


def _record(refund, from_status, to_status, action, actor, note=""):
    RefundStatusChange.objects.create(
        refund=refund, from_status=from_status, to_status=to_status, action=action, note=note[:300],
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor),
    )


def _transition(refund, action, *, actor=None, note="", **fields):
    return apply_transition(refund, action, transitions=REFUND_TRANSITIONS, record=_record, actor=actor, note=note,
                            **fields)


def event_payload(refund) -> dict:
    """What refund events carry for subscribers outside this process."""
    order = refund.order
    return {
        "refund_id": refund.pk, "reference": refund.reference, "payment_id": refund.payment_id,
        "payment_reference": refund.payment.reference, "user_id": refund.payment.user_id,
        "order_id": refund.order_id, "order_number": getattr(order, "number", None),
        "shop_id": getattr(order, "shop_id", None), "status": refund.status, "currency": refund.currency,
        "amount": money_str(refund.amount, refund.currency), "kind": refund.kind,
        "shipping_amount": money_str(refund.shipping_amount, refund.currency),
        "lines": [{"line_id": rl.line_id, "quantity": rl.quantity, "amount": money_str(rl.amount, refund.currency)}
                  for rl in refund.lines.order_by("pk")],
    }


def request_refund(*, payment, order, amount, reason, actor=None) -> Refund | None:
    """Write a pending full refund of `order` from `payment` (inside the
    caller's transaction, which holds the payment's lock) and perform it after
    commit. One per (payment, order). It names every line with what is left
    of its net_total on this payment (a seller may have refunded part of it
    already) plus the shipping the order paid: `amount` (the order's total)
    is the most it returns. None when nothing is left to refund."""
    existing = Refund.objects.filter(payment=payment, order=order, kind=Refund.Kind.FULL).first()
    if existing is not None:
        return existing
    lines = list(order.lines.order_by("pk"))
    refunded = _refunded_per_line(payment, lines)
    parts = [(line, line.net_total - refunded.get(line.pk, Decimal("0"))) for line in lines]
    parts = [(line, left) for line, left in parts if left > 0]
    shipping = max(order.total - sum((line.net_total for line in lines), Decimal("0")), Decimal("0"))
    lines_left = sum((left for _line, left in parts), Decimal("0"))
    total = min(lines_left + shipping, amount.to_storage(), _left_on_payment(payment))
    if total <= 0:
        return None
    refund = Refund.objects.create(
        reference=f"RF{secrets.token_hex(10).upper()}", payment=payment, order=order, kind=Refund.Kind.FULL,
        amount=total, shipping_amount=min(max(total - lines_left, Decimal("0")), shipping),
        currency=amount.currency, reason=reason[:200],
    )
    RefundLine.objects.bulk_create([RefundLine(refund=refund, line=line, amount=left) for line, left in parts])
    _record(refund, "", RefundStatus.PENDING, "request", actor, reason)
    emit("refund.requested", **event_payload(refund))
    transaction.on_commit(lambda: _enqueue(refund.pk))
    return refund


def _refunded_per_line(payment, lines) -> dict:
    """What refunds of `payment` already return per order line (any status:
    a failed refund can be retried, so it still counts)."""
    rows = (RefundLine.objects.filter(refund__payment=payment, line__in=lines).values("line_id")
            .annotate(total=Sum("amount"), units=Sum("quantity")))
    return {row["line_id"]: row["total"] or Decimal("0") for row in rows}


def _refunded_units(payment, line) -> int:
    return RefundLine.objects.filter(refund__payment=payment, line=line).aggregate(n=Sum("quantity"))["n"] or 0


def _left_on_payment(payment) -> Decimal:
    """Captured minus every refund of the payment (any status)."""
    taken = Refund.objects.filter(payment=payment).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return payment.amount - taken


REFUNDABLE_ORDER_STATUSES = ("paid", "shipped", "delivered", "completed")


def _parse_amount(value, currency, field, errors):
    """A positive amount with no more decimals than the currency has."""
    if isinstance(value, (float, bool)):
        value = str(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter an amount such as 12.50.")]
        return None
    if not amount.is_finite():
        errors[field] = [_("Enter an amount such as 12.50.")]
        return None
    if amount <= 0:
        errors[field] = [_("The amount must be more than zero.")]
        return None
    places = CURRENCY_PRECISION.get(currency, 2)
    if amount.as_tuple().exponent < -places:
        errors[field] = [ngettext("Use at most %(n)d decimal place for %(currency)s.",
                                  "Use at most %(n)d decimal places for %(currency)s.", places)
                         % {"n": places, "currency": currency}]
        return None
    if amount >= Decimal("1e15"):
        errors[field] = [_("The amount is too large.")]
        return None
    return amount


# public for the apps that take a refund amount from a person (after-sales): one amount rule
parse_amount = _parse_amount


def _parse_lines(lines, currency):
    """[(line_id, amount or None, quantity or None)] from the request, or ValidationFailed."""
    if not isinstance(lines, list) or not lines or len(lines) > 200:
        raise ValidationFailed(fields={"lines": [_("Name between 1 and 200 order lines.")]})
    errors, parsed, seen = {}, [], set()
    for i, item in enumerate(lines):
        if not isinstance(item, dict):
            errors[f"lines[{i}]"] = [_("Give a line id and an amount or quantity.")]
            continue
        try:
            line_id = check_id(item.get("line_id"), f"lines[{i}].line_id")
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        if line_id in seen:
            errors[f"lines[{i}].line_id"] = [_("Each line can be named once.")]
            continue
        seen.add(line_id)
        quantity = None
        if item.get("quantity") not in (None, ""):
            try:
                quantity = check_quantity(item.get("quantity"), f"lines[{i}].quantity")
            except ValidationFailed as exc:
                errors.update(exc.fields)
                continue
        amount = None
        if item.get("amount") not in (None, ""):
            amount = _parse_amount(item.get("amount"), currency, f"lines[{i}].amount", errors)
            if amount is None:
                continue
        elif quantity is None:
            errors[f"lines[{i}].amount"] = [_("Give an amount or a quantity.")]
            continue
        parsed.append((i, line_id, amount, quantity))
    if errors:
        raise ValidationFailed(fields=errors)
    return parsed


def refund_order_lines(*, actor, shop, order_id, lines, reason) -> Refund:
    """A seller returns part (or all) of what was paid for lines of their
    shop's paid, shipped, delivered or completed order. `lines` is
    [{"line_id", "amount"?, "quantity"?}] (an amount without quantity returns
    money only; a quantity alone returns that share of the line's net_total).

    The payment that paid the order is locked first, then the order (the
    lock order); under those locks no line returns more than its net_total
    and the payment no more than it captured, across all its refunds, so two
    racing refunds cannot overdraw it: the second sees the first and gets a
    422 (a line) or 409 (the payment) with nothing written. Shipping is not
    refunded here: only a full refund (the order closed) returns it."""
    from shopyard.orders.models import Order

    from .models import Payment
    from .state import Status as PaymentStatus

    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Say why the money is refunded.")]})
    if len(reason) > 200:
        raise ValidationFailed(fields={"reason": [_("Keep the reason under 200 characters.")]})
    order = Order.objects.filter(pk=check_id(order_id, "order_id"), shop=shop).first()
    if order is None:
        raise NotFound(_("Order not found."))
    parsed = _parse_lines(lines, order.currency)
    payment_id = (Payment.objects.filter(orders=order, status=PaymentStatus.SUCCEEDED)
                  .exclude(refunds__order=order, refunds__kind=Refund.Kind.FULL)
                  .order_by("pk").values_list("pk", flat=True).first())
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first() if payment_id else None
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in REFUNDABLE_ORDER_STATUSES or payment is None:
            raise Conflict(_("Only a paid, shipped, delivered or completed order can be refunded; this one is "
                             "“%(status)s”.") % {"status": order.get_status_display()}, code="order_not_refundable")
        by_id = {line.pk: line for line in order.lines.filter(pk__in=[p[1] for p in parsed])}
        refunded = _refunded_per_line(payment, list(by_id.values()))
        errors, rows = {}, []
        for i, line_id, amount, quantity in parsed:
            line = by_id.get(line_id)
            if line is None:
                errors[f"lines[{i}].line_id"] = [_("This line is not part of the order.")]
                continue
            left = line.net_total - refunded.get(line.pk, Decimal("0"))
            if quantity is not None:
                units_left = line.quantity - _refunded_units(payment, line)
                if quantity > units_left:
                    errors[f"lines[{i}].quantity"] = [_("Only %(n)s unit(s) of this line are left to refund.")
                                                      % {"n": units_left}]
                    continue
                if amount is None:
                    share = (line.net_total * quantity / line.quantity) if quantity < units_left else left
                    amount = Money(share, order.currency).quantize().amount
            if amount is None or amount <= 0:
                errors[f"lines[{i}].amount"] = [_("Nothing is left to refund on this line.")]
                continue
            if amount > left:
                errors[f"lines[{i}].amount"] = [_("At most %(left)s is left to refund on this line.")
                                                % {"left": money_str(left, order.currency)}]
                continue
            rows.append((line, amount, quantity))
        if errors:
            raise ValidationFailed(fields=errors)
        total = sum((amount for _line, amount, _q in rows), Decimal("0"))
        left_on_payment = _left_on_payment(payment)
        if total > left_on_payment:
            raise Conflict(_("Only %(left)s of this payment is left to refund.")
                           % {"left": money_str(left_on_payment, payment.currency)}, code="refund_exceeds_payment")
        refund = Refund.objects.create(
            reference=f"RF{secrets.token_hex(10).upper()}", payment=payment, order=order, kind=Refund.Kind.LINES,
            amount=total, currency=order.currency, reason=reason,
        )
        RefundLine.objects.bulk_create([RefundLine(refund=refund, line=line, amount=amount, quantity=quantity)
                                        for line, amount, quantity in rows])
        _record(refund, "", RefundStatus.PENDING, "request", actor, reason)
        emit("refund.requested", **event_payload(refund))
        transaction.on_commit(lambda: _enqueue(refund.pk))
    return refund


def _enqueue(refund_id):
    from .tasks import perform_refund_task

    try:
        perform_refund_task.delay(refund_id)
    except Exception:  # broker down or the gateway call failed: the periodic job retries
        log.warning("could not perform refund %s now; the periodic job will", refund_id, exc_info=True)


def perform_refund(*, refund_id, actor=None, now=None) -> str | None:
    """Ask the gateway to give the money back; returns the refund's status
    (None when another worker holds it or it is no longer pending)."""
    with transaction.atomic():
        # lock the refund row only (of=self): the payment row may be held by a notification
        refund = (Refund.objects.select_for_update(skip_locked=True, of=("self",)).select_related("payment")
                  .filter(pk=refund_id, status=RefundStatus.PENDING).first())
        if refund is None:
            return None
        answer = gateways.get(refund.payment.gateway).refund(payment=refund.payment, refund=refund)
        refund.attempts += 1
        now = now or timezone.now()  # the periodic run's moment: the next attempt counts from it
        again = retries.REFUNDS.next_attempt(refund.attempts, now)
        if answer.ok:
            refund.gateway_reference = answer.gateway_reference[:64]
            refund.last_error = ""
            _transition(refund, RefundAction.SUCCEED, actor=actor, note=answer.gateway_reference,
                        attempts=refund.attempts, gateway_reference=refund.gateway_reference, last_error="",
                        completed_at=timezone.now())
            emit("refund.succeeded", **event_payload(refund))
        elif answer.pending:
            # accepted by the gateway, finished later: its refund notification (or the next
            # attempt, idempotent per reference) completes it; not a refusal
            refund.gateway_reference = answer.gateway_reference[:64]
            refund.last_error = answer.detail[:300]
            refund.next_attempt_at = now + retries.REFUNDS.backoff(refund.attempts)  # asked again, never given up
            refund.save(update_fields=["attempts", "gateway_reference", "last_error", "next_attempt_at"])
        elif again is None:
            log.error("refund %s refused %s times, parked for an operator: %s", refund.reference, refund.attempts,
                      answer.detail)
            _transition(refund, RefundAction.FAIL, actor=actor, note=answer.detail, attempts=refund.attempts,
                        last_error=answer.detail[:300], next_attempt_at=None)
            emit("refund.failed", **event_payload(refund))
        else:
            refund.last_error = answer.detail[:300]
            refund.next_attempt_at = again
            refund.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        return refund.status


def retry_pending_refunds(*, now=None) -> int:
    """Periodic: perform refunds still pending and due (the broker was down, the gateway said
    no and the wait after it is over)."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ids = list(Refund.objects.filter(due, status=RefundStatus.PENDING).order_by("pk").values_list("pk", flat=True)[:200])
    return sum(1 for pk in ids if perform_refund(refund_id=pk, now=now) == RefundStatus.SUCCEEDED)


def retry_refund(*, actor, refund_id) -> Refund:
    """An operator sends a failed refund back to the gateway."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=check_id(refund_id, "refund_id")).first()
        if refund is None:
            raise NotFound(_("Refund not found."))
        _transition(refund, RefundAction.RETRY, actor=actor, note="retried by an operator", attempts=0,
                    next_attempt_at=None)
        transaction.on_commit(lambda: _enqueue(refund.pk))
    return refund


def handle_refund_notification(*, gateway: str, body: bytes, headers, received_at: float | None = None,
                               actor=None) -> str:
    """Verify a gateway's refund notification and complete the refund it
    names: "applied", or "duplicate" when the refund is already in that
    state. A bad signature, an unknown refund or a different amount raises
    BadRequest and changes nothing (logged)."""
    import time

    from shopyard.core.errors import BadRequest

    from .gateways.base import SignatureError

    adapter = gateways.get_configured(gateway)
    try:
        payload = adapter.verify_refund(body, headers, received_at=time.time() if received_at is None else received_at)
    except SignatureError as exc:
        log.warning("rejected %s refund notification: %s", gateway, exc.detail)
        raise BadRequest(_("The notification was rejected: %(why)s.") % {"why": exc.detail}, code=exc.outcome) from None
    with transaction.atomic():
        refund = (Refund.objects.select_for_update(of=("self",)).select_related("payment")
                  .filter(reference=str(payload["refund_reference"])[:40], payment__gateway=gateway).first())
        if refund is None:
            log.warning("%s refund notification names an unknown refund %r", gateway, str(payload["refund_reference"])[:40])
            raise BadRequest(_("Unknown refund."), code="unknown_refund")
        try:
            amount = Decimal(str(payload["amount"]))
        except (InvalidOperation, ValueError):
            amount = None
        if amount != refund.amount:
            log.error("%s refund notification for %s: amount %s, expected %s", gateway, refund.reference,
                      payload["amount"], refund.amount)
            raise BadRequest(_("The amount does not match the refund."), code="amount_mismatch")
        action = RefundAction.SUCCEED if payload["status"] == "success" else RefundAction.FAIL
        if action not in {a for (source, a) in REFUND_TRANSITIONS if source == refund.status}:
            log.info("%s refund notification for %s (%s): nothing to change", gateway, refund.reference, refund.status)
            return "duplicate"
        if action == RefundAction.SUCCEED:
            _transition(refund, action, actor=actor, note=f"{gateway} notification", completed_at=timezone.now())
            emit("refund.succeeded", **event_payload(refund))
        else:
            _transition(refund, action, actor=actor, note=f"{gateway} notification: refund failed",
                        last_error="refund failed at the gateway")
            emit("refund.failed", **event_payload(refund))
    return "applied"
