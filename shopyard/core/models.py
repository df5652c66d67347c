"""Cross-cutting records: the outbox of domain events, and idempotency keys."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it reports.

    A new event is the one row: its first dispatch runs every subscriber and, when
    all succeed (nearly always), marks it delivered. Only when one fails does the
    dispatch write one `OutboxDelivery` per subscriber, so each keeps its own
    attempts and errors and one that fails never holds back the others; the
    event's status then summarises its deliveries once they settle. (Writing the
    five rows of an order's events up front, and settling each, was a third of
    what the database wrote per order.)
    """

    class Status(models.TextChoices):
        # nothing delivered yet, no delivery rows: every subscriber is due
        NEW = "new", _("Awaiting delivery")
        # a subscriber failed (or an operator put one back): its delivery row says when it is tried again
        PENDING = "pending", _("Awaiting a retry")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead letters")
        NO_SUBSCRIBERS = "no_subscribers", _("No subscribers")

    name = models.CharField(_("name"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # when the last delivery settled (delivered or dead); empty while any is pending
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["id"]
        # every order writes two events and settles one: each index is written each time
        # (a settle changes `status`, so PostgreSQL cannot update in place). Kept: what the
        # admin filters by (name, status; the sweep of pending events reads status too) and
        # what the purge of settled events reads (created_at). Plain indexes, not
        # `db_index`, whose CharField twin for LIKE nothing here asks (names are exact).
        indexes = [
            models.Index(fields=["name"], name="event_name"),
            models.Index(fields=["status"], name="event_status"),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self):
        return f"{self.name} #{self.pk}"


class OutboxDelivery(models.Model):
    """One event for one subscriber, written when one of the event's subscribers
    fails: delivered once, retried with backoff, parked as a dead letter after
    `EVENT_MAX_ATTEMPTS` failures."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting delivery")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead letter")

    # no index of its own: uniq_delivery_per_subscriber begins with it
    event = models.ForeignKey(OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries",
                              db_index=False)
    subscriber = models.CharField(_("subscriber"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="uniq_delivery_per_subscriber"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self):
        return f"{self.event} → {self.subscriber}"


class IdempotencyRecord(models.Model):
    """The first result of a retried write, keyed by (user, scope, key).

    The unique constraint is what makes two concurrent requests with one key
    produce one effect: the second insert waits for the first transaction and
    then fails, and the caller returns the stored result.
    """

    # no index of its own: uniq_idempotency_key begins with it
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+",
                             db_index=False)
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
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]  # the purge's (core.retention)

    def __str__(self):
        return f"{self.scope}:{self.key}"
