"""Payments (one covers every order of a checkout) and the notifications
gateways send about them. Notifications are stored whatever their fate, so a
forged or mismatched callback leaves a trace for the operator."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .state import Status


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
