"""Customer service (客服): product Q&A (问大家), conversations between a
shopper and a shop, and tickets (complaints to a shop or to the platform).

Rows are written only by services.py; pages and API read them through
queries.py, scoped to the caller."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .state import ConversationAction, ConversationStatus, Priority, TicketAction, TicketStatus

TEXT_MAX = 1000  # a message, an answer or a ticket's description
QUESTION_MAX = 200
REASON_MAX = 300


class Question(models.Model):
    """A shopper's pre-sale question on a product. `answer_count`,
    `answered_at` and `top_answer` are kept by the services (so the product
    page reads its Q&A block in one query)."""

    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="questions")
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.CASCADE,
                               related_name="+")
    text = models.CharField(_("question"), max_length=QUESTION_MAX)
    answer_count = models.PositiveIntegerField(_("answers"), default=0)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    top_answer = models.ForeignKey("Answer", verbose_name=_("answer shown first"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=REASON_MAX, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("hidden by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product question")
        verbose_name_plural = _("product questions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["product", "hidden_at", "answer_count", "-answered_at"], name="question_product"),
            models.Index(fields=["shop", "answer_count"], name="question_shop"),
        ]

    def __str__(self):
        return self.text[:60]


class Answer(models.Model):
    class Role(models.TextChoices):
        SHOP = "shop", _("Shop")
        BUYER = "buyer", _("Buyer")

    question = models.ForeignKey(Question, verbose_name=_("question"), on_delete=models.CASCADE,
                                 related_name="answers")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.CASCADE,
                               related_name="+")
    role = models.CharField(_("answered as"), max_length=10, choices=Role.choices)
    text = models.CharField(_("answer"), max_length=TEXT_MAX)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=REASON_MAX, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("hidden by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["id"]

    def __str__(self):
        return self.text[:60]


class Conversation(models.Model):
    """The one message thread between a shopper and a shop. Read receipts are
    the last message id each side has read; unread counts are the other
    side's messages after it."""

    Status = ConversationStatus

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("shopper"), on_delete=models.CASCADE,
                             related_name="+")
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    shopper_read_id = models.BigIntegerField(_("last message read by the shopper"), default=0)
    shop_read_id = models.BigIntegerField(_("last message read by the shop"), default=0)
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    # for statistics: opened (or reopened), first agent reply, closed
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(_("first response time (s)"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(_("resolution time (s)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="uniq_conversation_per_shop")]
        indexes = [models.Index(fields=["shop", "status", "-last_message_at"], name="conversation_queue")]

    def __str__(self):
        return f"{self.user} ↔ {self.shop}"


def message_image_path(instance, filename):
    return f"service/{instance.conversation_id}/{filename}"


class ConversationMessage(models.Model):
    class Side(models.TextChoices):
        SHOPPER = "shopper", _("Shopper")
        SHOP = "shop", _("Shop")

    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE,
                                     related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sender"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    body = models.TextField(_("text"), max_length=TEXT_MAX, blank=True)
    image = models.ImageField(_("image"), upload_to=message_image_path, blank=True)
    order = models.ForeignKey("orders.Order", verbose_name=_("order card"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product card"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation message")
        verbose_name_plural = _("conversation messages")
        ordering = ["id"]
        indexes = [models.Index(fields=["conversation", "side", "id"], name="conversation_unread")]

    def __str__(self):
        return self.body[:60] or str(_("(card or image)"))


class ConversationStatusChange(models.Model):
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE,
                                     related_name="history")
    from_status = models.CharField(_("from"), max_length=10, choices=ConversationStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=ConversationStatus.choices)
    action = models.CharField(_("action"), max_length=10, choices=ConversationAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation status change")
        verbose_name_plural = _("conversation status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.from_status} → {self.to_status}"


class CannedReply(models.Model):
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=60)
    body = models.CharField(_("text"), max_length=TEXT_MAX)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title", "id"]

    def __str__(self):
        return self.title


class Ticket(models.Model):
    """A complaint to a shop (`shop` set) or to the platform (`shop` empty).
    A shop's ticket escalated to the platform keeps its shop and gets
    `escalated_at`; operators handle it from then on."""

    Status = TicketStatus
    Priority = Priority

    number = models.CharField(_("number"), max_length=20, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("shopper"), on_delete=models.CASCADE,
                             related_name="+")
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    category = models.CharField(_("category"), max_length=30)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    subject = models.CharField(_("subject"), max_length=120)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    due_at = models.DateTimeField(_("SLA deadline"))
    sla_breached_at = models.DateTimeField(_("SLA breached at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalation_reason = models.CharField(_("reason for escalation"), max_length=REASON_MAX, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["shop", "status", "due_at"], name="ticket_queue"),
            models.Index(fields=["status", "sla_breached_at", "due_at"], name="ticket_sla"),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    @property
    def at_platform(self) -> bool:
        """Handled by the operators: a complaint to the platform, or escalated."""
        return self.shop_id is None or self.escalated_at is not None


class TicketMessage(models.Model):
    """A reply on a ticket; `internal` notes are for agents and operators only."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(_("author"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=10)
    body = models.TextField(_("text"), max_length=TEXT_MAX)
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["id"]

    def __str__(self):
        return self.body[:60]


class TicketStatusChange(models.Model):
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=20, choices=TicketStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=TicketStatus.choices)
    action = models.CharField(_("action"), max_length=20, choices=TicketAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.from_status} → {self.to_status}"
