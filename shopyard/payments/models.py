"""Payments (one covers every order of a checkout) and the notifications
gateways send about them. Notifications are stored whatever their fate, so a
forged or mismatched callback leaves a trace for the operator."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .state import RefundStatus, Status


class Payment(models.Model):
    Status = Status

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="payments")
    orders = models.ManyToManyField("orders.Order", related_name="payments", verbose_name=_("orders"))
    gateway = models.CharField(_("gateway"), max_length=30, default="simulated")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    status_checked_at = models.DateTimeField(_("status last queried at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-id"]

    def __str__(self):
        return self.reference


class PaymentStatusChange(models.Model):
    payment = models.ForeignKey(Payment, verbose_name=_("payment"), on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=20)
    to_status = models.CharField(_("to"), max_length=20)
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment status change")
        verbose_name_plural = _("payment status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.payment_id}: {self.from_status} → {self.to_status}"


class PaymentNotification(models.Model):
    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Duplicate (replay)")
        BAD_SIGNATURE = "bad_signature", _("Bad signature")
        WRONG_ACCOUNT = "wrong_account", _("Wrong app or merchant id")
        IGNORED = "ignored", _("Acknowledged, nothing to apply")
        STALE = "stale", _("Stale timestamp")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
        UNKNOWN_PAYMENT = "unknown_payment", _("Unknown payment")
        MALFORMED = "malformed", _("Malformed")
        REJECTED = "rejected", _("Rejected by state")

    gateway = models.CharField(_("gateway"), max_length=30)
    notification_id = models.CharField(_("notification id"), max_length=64, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, verbose_name=_("payment"), on_delete=models.SET_NULL, related_name="notifications")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    body = models.TextField(_("body"))
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "notification_id"],
                condition=models.Q(outcome="applied"),
                name="uniq_applied_notification",
            )
        ]

    def __str__(self):
        return f"{self.gateway}:{self.notification_id} {self.outcome}"


class Refund(models.Model):
    """Money given back through the payment's gateway, naming the order lines
    it returns (RefundLine). Two kinds: `full` (automatic: a capture for an
    order it cannot pay, or a paid order closed — every line's net_total plus
    the shipping actually paid) and `lines` (a seller returns part of a paid
    order; shipping is refunded only by a full refund)."""

    Status = RefundStatus

    class Kind(models.TextChoices):
        FULL = "full", _("Full refund")
        LINES = "lines", _("Refund of order lines")

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    payment = models.ForeignKey(Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey("orders.Order", null=True, blank=True, verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="refunds")
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    reason = models.CharField(_("reason"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.FULL)
    shipping_amount = models.DecimalField(_("shipping refunded"), max_digits=20, decimal_places=4,
                                          default=Decimal("0"))
    gateway_reference = models.CharField(_("gateway reference"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    # when the periodic job asks the gateway again (core.retries.REFUNDS); empty: at its next run
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            # one full refund per (payment, order): a replayed capture never refunds twice
            models.UniqueConstraint(fields=["payment", "order"], condition=models.Q(kind="full"),
                                    name="uniq_full_refund_payment_order"),
        ]

    def __str__(self):
        return self.reference


class RefundLine(models.Model):
    """The part of a refund that returns one order line: `amount` of its
    net_total (and, when the seller named units, `quantity`)."""

    refund = models.ForeignKey(Refund, verbose_name=_("refund"), on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT,
                             related_name="refund_lines")
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_line_amount_positive")]

    def __str__(self):
        return f"{self.refund_id}: line {self.line_id}"


class RefundStatusChange(models.Model):
    refund = models.ForeignKey(Refund, verbose_name=_("refund"), on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=20)
    to_status = models.CharField(_("to"), max_length=20)
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund status change")
        verbose_name_plural = _("refund status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.refund_id}: {self.from_status} → {self.to_status}"


class QueuedNotification(models.Model):
    """A gateway notification waiting to be applied: written in the same
    transaction as the decision that produced it (the outbox), delivered after
    commit by a Celery task and re-tried by a periodic job while undelivered.
    `queued_at` is when it reached us: freshness is judged against it."""

    gateway = models.CharField(_("gateway"), max_length=30)
    body = models.TextField(_("body"))
    headers = models.JSONField(_("headers"), default=dict)
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=30, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("queued notification")
        verbose_name_plural = _("queued notifications")
        ordering = ["id"]

    def __str__(self):
        return f"{self.gateway} #{self.pk}"


class SimulatedCharge(models.Model):
    """The simulated provider's own ledger (what a real provider keeps on its
    side): the shopper's decision, so the provider can answer status queries
    and refunds."""

    reference = models.CharField(_("payment reference"), max_length=40, unique=True)
    status = models.CharField(_("status"), max_length=20)
    amount = models.CharField(_("amount"), max_length=40)
    currency = models.CharField(_("currency"), max_length=3)
    notification_id = models.CharField(_("notification id"), max_length=64, blank=True)
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("simulated charge")
        verbose_name_plural = _("simulated charges")

    def __str__(self):
        return f"{self.reference} {self.status}"


class SimulatedRefund(models.Model):
    charge = models.ForeignKey(SimulatedCharge, on_delete=models.CASCADE, related_name="refunds")
    refund_reference = models.CharField(_("refund reference"), max_length=40, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    gateway_reference = models.CharField(_("gateway reference"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("simulated refund")
        verbose_name_plural = _("simulated refunds")

    def __str__(self):
        return self.refund_reference


class StatementImport(models.Model):
    """One provider's daily statement (CSV) matched against our payments and
    refunds (payments.reconciliation); its mismatches are kept with it."""

    gateway = models.CharField(_("gateway"), max_length=30)
    statement_date = models.DateField(_("statement date"))
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"))
    matched = models.PositiveIntegerField(_("matched"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("imported by"),
                                    on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("statement import")
        verbose_name_plural = _("statement imports")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.gateway} {self.statement_date}"


class StatementMismatch(models.Model):
    class Kind(models.TextChoices):
        MISSING_HERE = "missing_here", _("In the statement, not in our records")
        MISSING_THERE = "missing_there", _("In our records, not in the statement")
        AMOUNT_DIFFERS = "amount_differs", _("Amount differs")

    statement = models.ForeignKey(StatementImport, verbose_name=_("statement import"), on_delete=models.CASCADE,
                                  related_name="mismatches")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    record_type = models.CharField(_("type"), max_length=10)  # payment | refund
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=64, blank=True)
    statement_amount = models.DecimalField(_("statement amount"), max_digits=20, decimal_places=4, null=True,
                                           blank=True)
    our_amount = models.DecimalField(_("our amount"), max_digits=20, decimal_places=4, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("statement mismatch")
        verbose_name_plural = _("statement mismatches")
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} {self.reference}"
