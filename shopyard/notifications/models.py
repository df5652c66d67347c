"""Messages to users (message centre, e-mail, SMS) and outgoing webhooks.

Every row an event makes carries the event's id in a unique key, so an event
delivered twice (the outbox is at least once) never notifies twice."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .kinds import Channel, Kind


class Message(models.Model):
    """One message in a user's message centre, rendered at send time in the
    recipient's language (kept in `language`)."""

    # no index of its own: message_user and message_unread begin with it
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="messages", db_index=False)
    # set for messages a user gets as a member of a shop (shown in that shop's console)
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    event_id = models.BigIntegerField(_("event"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "user", "kind"], name="uniq_message_per_event"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="message_unread"),
            models.Index(fields=["user", "-id"], name="message_user"),
        ]

    def __str__(self):
        return self.title


class Outgoing(models.Model):
    """An e-mail or SMS to send, written in the event's transaction and sent
    after commit (or by the periodic job), each row on its own."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    event_id = models.BigIntegerField(_("event"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=254)
    language = models.CharField(_("language"), max_length=10)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing e-mail or SMS")
        verbose_name_plural = _("outgoing e-mails and SMS")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "user", "kind", "channel"], name="uniq_outgoing_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outgoing_due")]

    def __str__(self):
        return f"{self.channel} → {self.address}: {self.title}"


class Preference(models.Model):
    """A user's choice for one (kind, channel); without a row the default in
    kinds.DEFAULTS holds."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("enabled"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="uniq_preference")]

    def __str__(self):
        return f"{self.kind}/{self.channel}: {self.enabled}"


class Profile(models.Model):
    """The language a user's notifications are written in (the language they
    last chose on the preferences page; the site default until then)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                related_name="+")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("notification language")
        verbose_name_plural = _("notification languages")

    def __str__(self):
        return self.language


class WebhookEndpoint(models.Model):
    """Where an integrator wants events: a shop's (only its own events) or the
    platform's (`shop` empty: every event)."""

    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint. Sent oldest first per endpoint: a delivery
    waiting for its retry holds the later ones back, so order is kept."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (retry limit reached)")

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE,
                                 related_name="deliveries")
    event_id = models.BigIntegerField(_("event"))
    event_name = models.CharField(_("event type"), max_length=100)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_status_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_webhook_delivery")]
        indexes = [models.Index(fields=["endpoint", "status", "id"], name="webhook_due")]

    def __str__(self):
        return f"{self.event_name} #{self.event_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """The log: one row per HTTP attempt, with the response code or the error."""

    delivery = models.ForeignKey(WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE,
                                 related_name="attempt_log")
    status_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["id"]

    def __str__(self):
        return f"{self.status_code or self.error}"
