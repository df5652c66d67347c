"""Payments: create one for a checkout, start (or restart) it, and apply the
gateway's signed notification (or its answer to a status query). A
notification is verified, checked against the amount we expect, and applied
once; every notification is stored with its outcome, including the rejected
ones. A capture that cannot pay an order (cancelled, expired, already paid)
starts a refund (refunds.py).

Payments depend on orders, never the reverse. Lock order (docs/architecture.md):
payment rows first (in id order), then their orders (in id order), then the
orders' stock rows, products' sales counters last.
"""

import json
import logging
import secrets
import time
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.bulk_sql import create_row_with_links
from shopyard.core.errors import BadRequest, Conflict, InvalidTransition, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import Money, money_str
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id
from shopyard.orders.models import Order
from shopyard.orders.services import mark_paid
from shopyard.orders.state import Action as OrderAction
from shopyard.orders.state import Status as OrderStatus
from shopyard.orders.state import allowed_actions as order_actions

from . import gateways
from .gateways import simulated
from .gateways.base import GatewayError, SignatureError
from .models import Payment, PaymentNotification, PaymentStatusChange, QueuedNotification
from .refunds import request_refund
from .state import TRANSITIONS, Action, Role, Status, allowed_actions, statuses_allowing

log = logging.getLogger("shopyard.payments")


def _record(payment, from_status, to_status, action, actor, note=""):
    PaymentStatusChange.objects.create(
        payment=payment, from_status=from_status, to_status=to_status, action=action, note=note[:200],
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor),
    )


def event_payload(payment) -> dict:
    """What payment events carry for subscribers outside this process: the
    reference, payer, amount as a string, and the orders and shops it covers."""
    orders = sorted(payment.orders.values_list("pk", "number", "shop_id"))
    return {
        "payment_id": payment.pk, "reference": payment.reference, "user_id": payment.user_id,
        "status": payment.status, "gateway": payment.gateway, "currency": payment.currency,
        "amount": money_str(payment.amount, payment.currency), "order_ids": [o[0] for o in orders],
        "order_numbers": [o[1] for o in orders], "shop_ids": sorted({o[2] for o in orders}),
    }


def transition(payment, action, *, actor=None, note=""):
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    return apply_transition(locked, action, transitions=TRANSITIONS, record=_record, actor=actor, note=note,
                            completed_at=timezone.now())


def _payable(order) -> bool:
    return OrderAction.PAY in order_actions(order.status)


def default_method() -> str:
    """The gateway a payment starts with: the first configured one (the simulated
    gateway where it is enabled), or the simulated one when none is."""
    offered = gateways.available()
    return offered[0].name if offered else simulated.NAME


def _check_method(method) -> str:
    if method is None or method == "":
        return default_method()
    if not isinstance(method, str) or method not in {g.name for g in gateways.available()}:
        raise ValidationFailed(fields={"method": [_("This payment method is not available.")]})
    return method


def create_payment(*, orders, actor=None, user=None, method=None) -> Payment:
    """One pending payment covering `orders` (all of one buyer and currency).
    `actor` is who asked for it (the buyer at checkout; `user` is the old name)."""
    actor = actor if actor is not None else user
    total = Money.zero(orders[0].currency)
    for order in orders:
        total = total + Money(order.total, order.currency)
    # written by SQL composed once, with its orders' links in the same statement on PostgreSQL
    # (core.bulk_sql.create_row_with_links): every checkout makes one
    return create_row_with_links(Payment(
        reference=f"PAY{secrets.token_hex(10).upper()}", user_id=orders[0].user_id, gateway=method or default_method(),
        amount=total.quantize().to_storage(), currency=total.currency,
    ), Payment.orders.through, to_row="payment", to_other="order", others=[o.pk for o in orders])


def own_payment(*, actor, payment_id) -> Payment:
    payment = Payment.objects.filter(user=actor, pk=check_id(payment_id, "payment_id")).first()
    if payment is None:
        raise NotFound(_("Payment not found."))
    return payment


def _lock_payments(ids) -> list[Payment]:
    """Lock payments in id order (the first step of the lock order)."""
    return list(Payment.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk"))


def start_payment(*, actor, order_ids, method=None) -> Payment:
    """A payment for the given unpaid orders of the actor through `method`
    (a configured gateway; default: the first one): the pending one that
    covers exactly them through that gateway, or a new one (earlier pending
    payments of these orders are cancelled, so no old total can be charged
    any more; one captured anyway is refunded, see _apply_success)."""
    if not isinstance(order_ids, list) or not order_ids or len(order_ids) > 50:
        raise ValidationFailed(fields={"order_ids": [_("Give between 1 and 50 order ids.")]})
    chosen = _check_method(method) if method is not None else None
    ids = {check_id(i, "order_ids") for i in order_ids}
    open_statuses = statuses_allowing(Action.CANCEL)
    with transaction.atomic():
        candidates = Payment.objects.filter(user=actor, orders__in=ids, status__in=open_statuses).values_list("pk", flat=True)
        payments = _lock_payments(candidates)
        orders = list(Order.objects.select_for_update().filter(user=actor, pk__in=ids).order_by("pk"))
        if len(orders) != len(ids):
            raise NotFound(_("Order not found."), fields={"order_ids": [_("Unknown order.")]})
        if not all(_payable(o) for o in orders):
            raise InvalidTransition(
                _("Only orders awaiting payment can be paid."),
                fields={"order_ids": [_("Only orders awaiting payment can be paid.")]},
            )
        if len({o.currency for o in orders}) > 1:
            raise ValidationFailed(fields={"order_ids": [_("Orders in different currencies are paid separately.")]})
        for payment in payments:
            if payment.status not in open_statuses:
                continue
            if set(payment.orders.values_list("pk", flat=True)) == ids and chosen in (None, payment.gateway):
                return payment
            transition(payment, Action.CANCEL, actor=actor, note="superseded")
        return create_payment(actor=actor, orders=orders, method=chosen)


def gateway_url(payment) -> str:
    """Where the shopper goes to pay: the page listing the configured
    gateways when there is a choice, else the payment's gateway."""
    if len(gateways.available()) > 1 and allowed_actions(payment.status, Role.BUYER):
        from django.urls import reverse

        return reverse("payments:choose", args=[payment.reference])
    return gateways.get(payment.gateway).start(payment)


def own_open_payment(*, actor, reference) -> Payment:
    payment = None
    if isinstance(reference, str) and len(reference) <= 40:
        payment = Payment.objects.filter(reference=reference, user=actor).first()
    if payment is None:
        raise NotFound(_("Payment not found."))
    if not allowed_actions(payment.status, Role.BUYER):
        raise InvalidTransition(_("This payment is already closed."),
                                fields={"payment": [_("This payment is already closed.")]})
    return payment


def choose_method(*, actor, reference, method) -> Payment:
    """The shopper picked a gateway on the payment page: the same payment when
    it already uses it, else a new payment of the same orders through it."""
    payment = own_open_payment(actor=actor, reference=reference)
    _check_method(method)
    if payment.gateway == method:
        return payment
    return start_payment(actor=actor, order_ids=sorted(payment.orders.values_list("pk", flat=True)), method=method)


def begin_at_gateway(*, actor, reference, channel="", client_ip=""):
    """Create the trade at the payment's gateway and say how the shopper
    reaches it: (payment, gateways.base.StartAnswer). Nothing changes on our
    side: the payment stays pending until the gateway's notification (or a
    query). The provider call runs outside any transaction: no row is locked
    while we wait for it."""
    payment = own_open_payment(actor=actor, reference=reference)
    adapter = gateways.get_configured(payment.gateway)
    if channel and channel not in adapter.channels:
        raise ValidationFailed(fields={"channel": [_("Unknown payment channel.")]})
    if payment.currency != "CNY" and payment.gateway != simulated.NAME:
        raise ValidationFailed(fields={"method": [_("This payment method takes payments in CNY only.")]})
    try:
        return payment, adapter.begin(payment, channel=channel, client_ip=client_ip)
    except GatewayError as exc:
        log.error("could not start payment %s at %s: %s", payment.reference, payment.gateway, exc)
        message = _("The payment provider could not be reached. Please try again.")
        raise Conflict(message, fields={"method": [message]}, code="gateway_unavailable") from None


def close_unpayable_payments(*, order_id, actor=None) -> int:
    """Cancel the pending payments of an order that can no longer be paid
    (cancelled, expired, or paid by another payment): their total includes it,
    so they must never be approved. Runs on `order.cancelled` / `order.paid`,
    in its own transaction, payment row first."""
    ids = Payment.objects.filter(orders=order_id, status__in=statuses_allowing(Action.CANCEL)).values_list("pk", flat=True)
    closed = 0
    for pk in sorted(ids):
        with transaction.atomic():
            [payment] = _lock_payments([pk]) or [None]
            if payment is None or Action.CANCEL not in allowed_actions(payment.status):
                continue
            if all(_payable(o) for o in payment.orders.all()):
                continue
            transition(payment, Action.CANCEL, actor=actor, note="an order is no longer awaiting payment")
            emit("payment.cancelled", **event_payload(payment))
            closed += 1
    return closed


def on_order_closed(payload):
    close_unpayable_payments(order_id=payload["order_id"], actor=None)


def refund_closed_order(*, order_id, actor=None) -> int:
    """A paid order that ended cancelled (the system closed it: its group did not fill)
    gets back, in full, what each capture that paid it took: one refund per (payment,
    order), so a replayed event or a late capture refunded earlier never refunds twice.
    Payment rows are locked first (the lock order). Returns how many refunds exist for it."""
    order = Order.objects.filter(pk=order_id, status=OrderStatus.CANCELLED, paid_at__isnull=False).first()
    if order is None or order.total <= 0:
        return 0
    amount = Money(order.total, order.currency).quantize()
    ids = Payment.objects.filter(orders=order, status=Status.SUCCEEDED).values_list("pk", flat=True)
    with transaction.atomic():
        payments = _lock_payments(ids)
        for payment in payments:
            request_refund(payment=payment, order=order, amount=amount, actor=actor,
                           reason=f"order {order.number} was closed after payment")
    return len(payments)


def on_order_cancelled(payload):
    refund_closed_order(order_id=payload["order_id"], actor=None)


def simulate_provider_decision(*, reference, approve: bool, actor) -> Payment:
    """The simulated provider's hosted page: the shopper approved or declined.

    Under the payment's lock (then its orders', in the lock order), a payment
    whose orders are no longer all awaiting payment is cancelled instead of
    charged (409): its amount is stale. Otherwise the provider records the
    decision and its signed notification goes into our outbox in the same
    transaction, delivered after commit; a broker outage leaves it for the
    periodic job instead of failing the page."""
    stale = False
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(reference=reference).first()
        if payment is None:
            raise NotFound(_("Payment not found."))
        if not allowed_actions(payment.status, Role.BUYER):
            raise InvalidTransition(_("This payment is already closed."),
                                    fields={"payment": [_("This payment is already closed.")]})
        orders = list(payment.orders.select_for_update().order_by("pk"))
        if not all(_payable(o) for o in orders):
            transition(payment, Action.CANCEL, actor=actor, note="an order is no longer awaiting payment")
            stale = True
        else:
            body, headers = simulated.decide(payment=payment, approve=approve)
            queued = QueuedNotification.objects.create(gateway=payment.gateway, body=body.decode(), headers=headers)
            transaction.on_commit(lambda: _enqueue(queued.pk))
    if stale:
        message = _("Some orders of this payment were cancelled, so it can no longer be paid. "
                    "Pay the remaining orders again from your orders.")
        raise Conflict(message, fields={"payment": [message]}, code="payment_outdated")
    return payment


def _enqueue(queued_id):
    from .tasks import deliver_queued_notification

    try:
        deliver_queued_notification.delay(queued_id)
    except Exception:  # broker down (or the eager run failed): the periodic job delivers it
        log.warning("could not deliver queued notification %s now; the periodic job will", queued_id, exc_info=True)


def deliver_queued(*, queued_id, actor=None) -> str:
    """Apply one queued notification (once: row lock, delivered_at). Database
    errors propagate so the task retries; a rejection is an outcome."""
    from shopyard.core.errors import DomainError

    with transaction.atomic():
        row = QueuedNotification.objects.select_for_update(skip_locked=True).filter(
            pk=queued_id, delivered_at__isnull=True).first()
        if row is None:
            return "skipped"
        try:
            outcome = handle_notification(gateway=row.gateway, body=row.body.encode(), headers=row.headers,
                                          received_at=row.queued_at.timestamp(), actor=actor)
        except DomainError as exc:
            outcome = exc.code
        row.attempts += 1
        row.outcome = outcome
        row.delivered_at = timezone.now()
        row.save(update_fields=["attempts", "outcome", "delivered_at"])
    return outcome


def deliver_queued_notifications(*, now=None) -> int:
    """Periodic: deliver what the broker did not (down, or a worker died)."""
    ids = list(QueuedNotification.objects.filter(delivered_at__isnull=True).order_by("id").values_list("pk", flat=True)[:500])
    return sum(1 for pk in ids if deliver_queued(queued_id=pk) != "skipped")


def _store(gateway, outcome, body, *, payment=None, notification_id="", detail=""):
    PaymentNotification.objects.create(
        gateway=gateway, outcome=outcome, body=body.decode("utf-8", "replace")[:10000], payment=payment,
        notification_id=str(notification_id)[:64], detail=detail[:300],
    )


def handle_notification(*, gateway: str, body: bytes, headers, received_at: float | None = None, actor=None) -> str:
    """Verify and apply one gateway notification. Returns "applied" or
    "duplicate"; raises BadRequest (nothing changed) when it is rejected.
    `received_at` (unix time) is when it reached us; defaults to now. A
    gateway that is not configured has no notifications (NotFound); the
    simulated one is switched by its endpoints (SHOPYARD_SIMULATED_GATEWAY)."""
    adapter = gateways.get(gateway) if gateway == simulated.NAME else gateways.get_configured(gateway)
    try:
        payload = adapter.verify(body, headers, received_at=time.time() if received_at is None else received_at)
    except SignatureError as exc:
        _store(gateway, exc.outcome, body, detail=exc.detail)
        log.warning("rejected %s notification: %s", gateway, exc.detail)
        raise BadRequest(_("The notification was rejected: %(why)s.") % {"why": exc.detail}, code=exc.outcome) from None
    if payload["status"] == "ignored":
        # genuine, but nothing to apply (a trade closed, a refund reported on the trade)
        payment = Payment.objects.filter(reference=str(payload["payment_reference"])).first()
        _store(gateway, PaymentNotification.Outcome.IGNORED, body, payment=payment,
               notification_id=payload["notification_id"])
        log.info("%s notification %s acknowledged, nothing to apply", gateway, payload["notification_id"])
        return "ignored"
    return _apply(gateway=gateway, body=body, payload=payload, actor=actor)


def _apply(*, gateway, body: bytes, payload: dict, actor=None) -> str:
    nid = str(payload["notification_id"])
    payment = Payment.objects.filter(reference=str(payload["payment_reference"]), gateway=gateway).first()
    if payment is None:  # no payment of ours through this gateway has that trade number
        _store(gateway, PaymentNotification.Outcome.UNKNOWN_PAYMENT, body, notification_id=nid)
        log.warning("%s notification %s names an unknown payment %r", gateway, nid, str(payload["payment_reference"])[:40])
        raise BadRequest(_("Unknown payment."), code="unknown_payment")
    if PaymentNotification.objects.filter(gateway=gateway, notification_id=nid, outcome="applied").exists():
        _store(gateway, PaymentNotification.Outcome.DUPLICATE, body, payment=payment, notification_id=nid)
        log.info("%s notification %s for %s is a duplicate: nothing changed", gateway, nid, payment.reference)
        return "duplicate"
    try:
        amount = Decimal(str(payload["amount"]))
    except (InvalidOperation, ValueError):
        amount = None
    expected = Money(payment.amount, payment.currency).quantize()
    if amount is None or amount != expected.amount or payload["currency"] != payment.currency:
        detail = f"expected {expected}, got {payload['amount']} {payload['currency']}"
        _store(gateway, PaymentNotification.Outcome.AMOUNT_MISMATCH, body, payment=payment, notification_id=nid, detail=detail)
        log.error("payment %s notification amount mismatch: %s", payment.reference, detail)
        raise BadRequest(_("The amount does not match the payment."), code="amount_mismatch")

    closed_as = None
    try:
        with transaction.atomic():
            [locked] = _lock_payments([payment.pk])
            if PaymentNotification.objects.filter(gateway=gateway, notification_id=nid, outcome="applied").exists():
                # the same notification was applied while this delivery waited for the lock
                _store(gateway, PaymentNotification.Outcome.DUPLICATE, body, payment=payment, notification_id=nid)
                return "duplicate"
            possible = allowed_actions(locked.status, Role.SYSTEM)
            if payload["status"] == "success":
                action = next((a for a in (Action.SUCCEED, Action.CAPTURE_LATE) if a in possible), None)
            else:
                action = Action.FAIL if Action.FAIL in possible else None
            if action is None:
                closed_as = locked.status  # stored below, outside the rolled-back block
            else:
                PaymentNotification.objects.create(
                    gateway=gateway, outcome=PaymentNotification.Outcome.APPLIED, body=body.decode()[:10000],
                    payment=locked, notification_id=nid,
                )
                if action == Action.FAIL:
                    transition(locked, Action.FAIL, actor=actor, note="declined by the shopper")
                    emit("payment.failed", **event_payload(locked))
                else:
                    _apply_success(locked, action, actor=actor)
    except IntegrityError:  # the same notification applied concurrently
        _store(gateway, PaymentNotification.Outcome.DUPLICATE, body, payment=payment, notification_id=nid)
        return "duplicate"
    if closed_as is not None:
        _store(gateway, PaymentNotification.Outcome.REJECTED, body, payment=payment, notification_id=nid,
               detail=f"payment is {closed_as}")
        raise BadRequest(_("The payment is already closed."), code="invalid_transition")
    return "applied"


def _apply_success(payment, action, *, actor=None):
    """Record the capture; pay every order still awaiting payment (orders
    locked in id order, after the payment) and refund the others."""
    note = "gateway confirmed" if action == Action.SUCCEED else "captured after the payment was closed"
    transition(payment, action, actor=actor, note=note)
    orders = list(payment.orders.select_for_update().order_by("pk"))
    payable = [o for o in orders if _payable(o)]
    if payable:
        mark_paid(actor=actor, orders=payable, note=payment.reference)
    for order in orders:
        if order not in payable:
            log.error("payment %s captured for order %s, which is %s: refunding", payment.reference, order.pk, order.status)
            request_refund(payment=payment, order=order, amount=Money(order.total, order.currency).quantize(),
                           reason=f"order {order.number} was {order.status} when the payment was captured", actor=actor)
    emit("payment.succeeded", **event_payload(payment))


def query_unconfirmed_payments(*, now=None) -> int:
    """Periodic: ask the gateway about payments still pending some minutes
    (SHOPYARD_PAYMENT_QUERY_AFTER_MINUTES) after they started and not queried
    that recently; a decided answer is applied like a notification (under the
    notification id the gateway reports, so the notification itself, if it
    ever arrives, is a duplicate). Returns how many answers were applied.

    Payments of a real gateway that we closed (superseded by another method,
    their orders cancelled) are asked too for SHOPYARD_PAYMENT_QUERY_CLOSED_HOURS
    after they started: the shopper may have paid at the provider before we
    closed them and the notification be lost; a capture found that way is
    applied as a late capture (orders still awaiting payment are paid, the
    others refunded)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES)
    open_due = Payment.objects.filter(status__in=statuses_allowing(Action.SUCCEED), created_at__lte=cutoff)
    closed_due = (Payment.objects.filter(status__in=statuses_allowing(Action.CAPTURE_LATE),
                                         created_at__gte=now - timedelta(hours=settings.PAYMENT_QUERY_CLOSED_HOURS))
                  .exclude(gateway=simulated.NAME))  # its decisions go through our outbox: never lost
    due = sorted({*open_due.exclude(status_checked_at__gt=cutoff).values_list("pk", flat=True)[:200],
                  *closed_due.exclude(status_checked_at__gt=cutoff).values_list("pk", flat=True)[:200]})
    applied = 0
    for pk in due:
        payment = Payment.objects.get(pk=pk)
        adapter = gateways.get(payment.gateway)
        if payment.gateway != simulated.NAME and not adapter.configured():
            continue  # switched off: an operator settles these by hand
        try:
            answer = adapter.query(payment)
        except GatewayError as exc:  # unreachable or an untrustworthy answer: ask again next round
            log.warning("status query for %s failed: %s", payment.reference, exc)
            continue
        Payment.objects.filter(pk=pk).update(status_checked_at=now)
        if answer.status not in ("success", "failed") or (
                answer.status == "failed" and Action.FAIL not in allowed_actions(payment.status)):
            continue
        payload = {"notification_id": answer.notification_id or f"query_{payment.reference}",
                   "payment_reference": payment.reference, "amount": answer.amount, "currency": answer.currency,
                   "status": answer.status}
        body = json.dumps({**payload, "source": "status_query"}, sort_keys=True, separators=(",", ":")).encode()
        try:
            if _apply(gateway=payment.gateway, body=body, payload=payload) == "applied":
                applied += 1
        except BadRequest as exc:
            log.warning("status query answer for %s not applied: %s", payment.reference, exc.code)
    return applied
