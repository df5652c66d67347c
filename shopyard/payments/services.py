"""Payments: create one for a checkout, start (or restart) it, and apply the
gateway's signed notification. A notification is verified, checked against
the amount we expect, and applied once; every notification is stored with its
outcome, including the rejected ones."""

import logging
import secrets
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import BadRequest, InvalidTransition, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import Money
from shopyard.core.statemachine import apply_transition
from shopyard.orders.state import Status as OrderStatus

from .gateways import simulated
from .models import Payment, PaymentNotification, PaymentStatusChange
from .state import TRANSITIONS, Action, Status

log = logging.getLogger("shopyard.payments")


def _record(payment, from_status, to_status, action, actor, note=""):
    PaymentStatusChange.objects.create(payment=payment, from_status=from_status, to_status=to_status, action=action, note=note[:200])


def transition(payment, action, note=""):
    """Move a payment along `action` under a row lock, with history (the one
    way its status changes)."""
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    return apply_transition(locked, action, transitions=TRANSITIONS, record=_record, note=note, completed_at=timezone.now())


def create_payment(*, user, orders, gateway=simulated.NAME) -> Payment:
    total = Money.zero(orders[0].currency)
    for order in orders:
        total = total + Money(order.total, order.currency)
    payment = Payment.objects.create(
        reference=f"PAY{secrets.token_hex(10).upper()}", user=user, gateway=gateway,
        amount=total.quantize().to_storage(), currency=total.currency,
    )
    Payment.orders.through.objects.bulk_create(
        [Payment.orders.through(payment_id=payment.pk, order_id=o.pk) for o in orders]
    )
    return payment


def own_payment(*, actor, payment_id) -> Payment:
    payment = Payment.objects.filter(user=actor, pk=payment_id).first() if str(payment_id).isdigit() else None
    if payment is None:
        raise NotFound(_("Payment not found."))
    return payment


@transaction.atomic
def start_payment(*, actor, order_ids) -> Payment:
    """A payment for the given unpaid orders of the actor: the pending one that
    covers exactly them, or a new one (earlier pending payments are cancelled)."""
    if not isinstance(order_ids, list) or not order_ids or len(order_ids) > 50:
        raise ValidationFailed(fields={"order_ids": [_("Give between 1 and 50 order ids.")]})
    from shopyard.orders.models import Order

    ids = set()
    for i in order_ids:
        if isinstance(i, bool) or not isinstance(i, int):
            raise ValidationFailed(fields={"order_ids": [_("Enter valid ids.")]})
        ids.add(i)
    orders = list(Order.objects.select_for_update().filter(user=actor, pk__in=ids).order_by("pk"))
    if len(orders) != len(ids):
        raise NotFound(_("Order not found."), fields={"order_ids": [_("Unknown order.")]})
    unpaid = [o for o in orders if o.status == OrderStatus.PENDING_PAYMENT]
    if len(unpaid) != len(orders):
        raise InvalidTransition(
            _("Only orders awaiting payment can be paid."),
            fields={"order_ids": [_("Only orders awaiting payment can be paid.")]},
        )
    if len({o.currency for o in orders}) > 1:
        raise ValidationFailed(fields={"order_ids": [_("Orders in different currencies are paid separately.")]})
    for payment in Payment.objects.filter(orders__in=orders, status=Status.PENDING).distinct():
        if set(payment.orders.values_list("pk", flat=True)) == ids:
            return payment
        transition(payment, Action.CANCEL, note="superseded")
    return create_payment(user=actor, orders=orders)


def gateway_url(payment) -> str:
    from django.urls import reverse

    return reverse("payments:simulated", args=[payment.reference])


def simulate_provider_decision(*, reference, approve: bool) -> Payment:
    """The simulated provider's hosted page: the shopper approved or declined.
    It answers by queuing the signed notification, as a real provider would."""
    payment = Payment.objects.filter(reference=reference).first()
    if payment is None:
        raise NotFound(_("Payment not found."))
    if payment.status != Status.PENDING:
        raise InvalidTransition(_("This payment is already closed."), fields={"payment": [_("This payment is already closed.")]})
    body, headers = simulated.build_notification(payment=payment, status="success" if approve else "failed")
    from .tasks import deliver_simulated_notification

    transaction.on_commit(lambda: deliver_simulated_notification.delay(body.decode(), headers))
    return payment


def _store(gateway, outcome, body, *, payment=None, notification_id="", detail=""):
    PaymentNotification.objects.create(
        gateway=gateway, outcome=outcome, body=body.decode("utf-8", "replace")[:10000], payment=payment,
        notification_id=str(notification_id)[:64], detail=detail[:300],
    )


def handle_notification(*, gateway: str, body: bytes, headers) -> str:
    """Verify and apply one gateway notification. Returns "applied" or
    "duplicate"; raises BadRequest (nothing changed) when it is rejected."""
    if gateway != simulated.NAME:
        raise NotFound(_("Unknown payment gateway."))
    try:
        payload = simulated.verify(body, headers)
    except simulated.SignatureError as exc:
        _store(gateway, exc.outcome, body, detail=exc.detail)
        log.warning("rejected %s notification: %s", gateway, exc.detail)
        raise BadRequest(_("The notification was rejected: %(why)s.") % {"why": exc.detail}, code=exc.outcome) from None

    nid = str(payload["notification_id"])
    payment = Payment.objects.filter(reference=str(payload["payment_reference"])).first()
    if payment is None:
        _store(gateway, PaymentNotification.Outcome.UNKNOWN_PAYMENT, body, notification_id=nid)
        raise BadRequest(_("Unknown payment."), code="unknown_payment")
    if PaymentNotification.objects.filter(gateway=gateway, notification_id=nid, outcome="applied").exists():
        _store(gateway, PaymentNotification.Outcome.DUPLICATE, body, payment=payment, notification_id=nid)
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
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if PaymentNotification.objects.filter(gateway=gateway, notification_id=nid, outcome="applied").exists():
                # the same notification was applied while this delivery waited for the lock
                _store(gateway, PaymentNotification.Outcome.DUPLICATE, body, payment=payment, notification_id=nid)
                return "duplicate"
            action = Action.SUCCEED if payload["status"] == "success" else Action.FAIL
            if (locked.status, action) not in TRANSITIONS:
                closed_as = locked.status  # stored below, outside the rolled-back block
            else:
                PaymentNotification.objects.create(
                    gateway=gateway, outcome=PaymentNotification.Outcome.APPLIED, body=body.decode()[:10000],
                    payment=locked, notification_id=nid,
                )
                if payload["status"] == "success":
                    _apply_success(locked)
                else:
                    transition(locked, Action.FAIL, note="declined by the shopper")
                    emit("payment.failed", payment_id=locked.pk)
    except IntegrityError:  # the same notification applied concurrently
        _store(gateway, PaymentNotification.Outcome.DUPLICATE, body, payment=payment, notification_id=nid)
        return "duplicate"
    if closed_as is not None:
        _store(gateway, PaymentNotification.Outcome.REJECTED, body, payment=payment, notification_id=nid,
               detail=f"payment is {closed_as}")
        raise BadRequest(_("The payment is already closed."), code="invalid_transition")
    return "applied"


def _apply_success(payment):
    from shopyard.orders.services import mark_paid

    transition(payment, Action.SUCCEED, note="gateway confirmed")
    needs_refund = []
    for order in payment.orders.select_for_update().order_by("pk"):
        if order.status == OrderStatus.PENDING_PAYMENT:
            mark_paid(order=order, note=payment.reference)
        else:
            needs_refund.append(order.pk)
    if needs_refund:
        log.error("payment %s captured for orders no longer awaiting payment: %s", payment.reference, needs_refund)
        emit("payment.needs_refund", payment_id=payment.pk, order_ids=needs_refund)
    emit("payment.succeeded", payment_id=payment.pk)


def cancel_payments_for_cancelled_orders(*, order):
    """Pending payments whose orders are all cancelled can never complete."""
    for payment in Payment.objects.select_for_update().filter(orders=order, status=Status.PENDING):
        if not payment.orders.exclude(status=OrderStatus.CANCELLED).exists():
            transition(payment, Action.CANCEL, note="orders cancelled")
