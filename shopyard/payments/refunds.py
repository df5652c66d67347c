"""Refunds: money a capture took for an order it could not pay goes back
through the payment's gateway (gateways.base.Gateway.refund).

A refund is written (pending) in the transaction that discovered it, and
performed after commit by a Celery task; the periodic job retries pending
ones; after SHOPYARD_REFUND_MAX_ATTEMPTS refusals it is parked as failed for
an operator, who can retry it from the admin.
"""

import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import NotFound
from shopyard.core.events import emit
from shopyard.core.money import money_str
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id

from . import gateways
from .models import Refund, RefundStatusChange
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
        "amount": money_str(refund.amount, refund.currency),
    }


def request_refund(*, payment, order, amount, reason, actor=None) -> Refund:
    """Write a pending refund (inside the caller's transaction, which holds
    the payment's lock) and perform it after commit. One per (payment, order)."""
    existing = Refund.objects.filter(payment=payment, order=order).first()
    if existing is not None:
        return existing
    refund = Refund.objects.create(
        reference=f"RF{secrets.token_hex(10).upper()}", payment=payment, order=order,
        amount=amount.to_storage(), currency=amount.currency, reason=reason[:200],
    )
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


def perform_refund(*, refund_id, actor=None) -> str | None:
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
            refund.save(update_fields=["attempts", "gateway_reference", "last_error"])
        elif refund.attempts >= settings.REFUND_MAX_ATTEMPTS:
            log.error("refund %s refused %s times, parked for an operator: %s", refund.reference, refund.attempts,
                      answer.detail)
            _transition(refund, RefundAction.FAIL, actor=actor, note=answer.detail, attempts=refund.attempts,
                        last_error=answer.detail[:300])
            emit("refund.failed", **event_payload(refund))
        else:
            refund.last_error = answer.detail[:300]
            refund.save(update_fields=["attempts", "last_error"])
        return refund.status


def retry_pending_refunds(*, now=None) -> int:
    """Periodic: perform refunds still pending (the broker was down, the gateway said no)."""
    ids = list(Refund.objects.filter(status=RefundStatus.PENDING).order_by("pk").values_list("pk", flat=True)[:200])
    return sum(1 for pk in ids if perform_refund(refund_id=pk) == RefundStatus.SUCCEEDED)


def retry_refund(*, actor, refund_id) -> Refund:
    """An operator sends a failed refund back to the gateway."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=check_id(refund_id, "refund_id")).first()
        if refund is None:
            raise NotFound(_("Refund not found."))
        _transition(refund, RefundAction.RETRY, actor=actor, note="retried by an operator", attempts=0)
        transaction.on_commit(lambda: _enqueue(refund.pk))
    return refund


def handle_refund_notification(*, gateway: str, body: bytes, headers, received_at: float | None = None,
                               actor=None) -> str:
    """Verify a gateway's refund notification and complete the refund it
    names: "applied", or "duplicate" when the refund is already in that
    state. A bad signature, an unknown refund or a different amount raises
    BadRequest and changes nothing (logged)."""
    import time
    from decimal import Decimal, InvalidOperation

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
