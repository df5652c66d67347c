"""Cross-cutting records: the outbox of domain events, and idempotency keys."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it reports.

    Dispatching happens after commit (and again from the periodic job for any
    row a crashed process left undelivered), so side effects never see
    uncommitted data and are never lost.
    """

    name = models.CharField(_("name"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["id"]

    def __str__(self):
        return f"{self.name} #{self.pk}"


class IdempotencyRecord(models.Model):
    """The first result of a retried write, keyed by (user, scope, key).

    The unique constraint is what makes two concurrent requests with one key
    produce one effect: the second insert waits for the first transaction and
    then fails, and the caller returns the stored result.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(_("scope"), max_length=50)
    key = models.CharField(_("key"), max_length=128)
    request_hash = models.CharField(_("request hash"), max_length=64)
    result = models.JSONField(_("result"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="uniq_idempotency_key"),
        ]

    def __str__(self):
        return f"{self.scope}:{self.key}"
