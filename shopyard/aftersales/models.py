"""After-sales cases (售后): a shopper's request about lines of an order, the
shop's answers, the platform's decision, and every step as a timeline.

A case keeps what the after-sales statistics need: its type and reason, the
amounts asked and approved, a timestamp for every step, the deadline it runs
against now, and whether a side missed a deadline.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .state import Kind, Role, Status


class Reason(models.Model):
    """One entry of the configurable reason list (operators edit it in the admin)."""

    class Window(models.TextChoices):
        CHANGED_MIND = "changed_mind", _("No-reason return window")
        QUALITY = "quality", _("Quality window")
        WARRANTY = "warranty", _("Warranty (repair) window")
        PRICE_PROTECTION = "price_protection", _("Price-protection window (from payment)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    window = models.CharField(_("window"), max_length=20, choices=Window.choices, default=Window.QUALITY)
    kinds = models.JSONField(_("case types"), default=list, blank=True,
                             help_text=_("The case types this reason may be given for; empty: every type."))
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("after-sales reason")
        verbose_name_plural = _("after-sales reasons")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def label(self, lang=None) -> str:
        lang = lang or get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name

    def allows(self, kind) -> bool:
        return not self.kinds or kind in self.kinds


class ShopPolicy(models.Model):
    """A shop's after-sales windows and deadlines; an empty field takes the platform
    default (settings.AFTERSALES_*)."""

    shop = models.OneToOneField("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
                                related_name="aftersales_policy")
    changed_mind_days = models.PositiveIntegerField(_("no-reason return days"), null=True, blank=True)
    quality_days = models.PositiveIntegerField(_("quality window days"), null=True, blank=True)
    warranty_days = models.PositiveIntegerField(_("warranty days"), null=True, blank=True)
    price_protection_days = models.PositiveIntegerField(_("price-protection days"), null=True, blank=True)
    respond_hours = models.PositiveIntegerField(_("hours for the shop to respond"), null=True, blank=True)
    return_ship_days = models.PositiveIntegerField(_("days for the buyer to ship a return"), null=True, blank=True)
    inspect_days = models.PositiveIntegerField(_("days for the shop to inspect"), null=True, blank=True)

    class Meta:
        verbose_name = _("after-sales policy")
        verbose_name_plural = _("after-sales policies")

    def __str__(self):
        return str(self.shop)


class Case(models.Model):
    Kind = Kind
    Status = Status

    class Compensation(models.TextChoices):
        REFUND = "refund", _("Partial refund")
        CREDIT = "credit", _("Store credit")

    class Decision(models.TextChoices):
        FULL = "full", _("Refund in full")
        PARTIAL = "partial", _("Refund in part")
        REJECT = "reject", _("Reject")

    number = models.CharField(_("case number"), max_length=32, unique=True)
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="aftersales_cases")
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.PROTECT,
                             related_name="aftersales_cases")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("buyer"), on_delete=models.PROTECT,
                              related_name="aftersales_cases")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    reason = models.ForeignKey(Reason, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="cases")
    description = models.TextField(_("description"), max_length=1000, blank=True)
    status = models.CharField(_("status"), max_length=30, choices=Status.choices, default=Status.REQUESTED)
    currency = models.CharField(_("currency"), max_length=3)
    requested_amount = models.DecimalField(_("amount asked"), max_digits=20, decimal_places=4, default=Decimal("0"))
    approved_amount = models.DecimalField(_("amount approved"), max_digits=20, decimal_places=4, null=True,
                                          blank=True)
    compensation = models.CharField(_("compensation paid as"), max_length=10, choices=Compensation.choices,
                                    blank=True)
    refund = models.ForeignKey("payments.Refund", null=True, blank=True, verbose_name=_("refund"),
                               on_delete=models.PROTECT, related_name="+")
    # the deadline the case runs against now (state.DEADLINES), empty when none runs
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    seller_missed_deadline = models.BooleanField(_("shop missed a deadline"), default=False)
    buyer_missed_deadline = models.BooleanField(_("buyer missed a deadline"), default=False)
    return_carrier = models.CharField(_("return carrier"), max_length=30, blank=True)
    return_tracking = models.CharField(_("return tracking number"), max_length=40, blank=True)
    replacement_carrier = models.CharField(_("replacement carrier"), max_length=30, blank=True)
    replacement_tracking = models.CharField(_("replacement tracking number"), max_length=40, blank=True)
    resaleable = models.BooleanField(_("resaleable after inspection"), null=True, blank=True)
    escalated_by = models.CharField(_("escalated by"), max_length=10, choices=Role.choices, blank=True)
    decision = models.CharField(_("platform decision"), max_length=10, choices=Decision.choices, blank=True)
    # one stamp per step: the statistics read handling times from these
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, db_index=True)
    responded_at = models.DateTimeField(_("shop responded at"), null=True, blank=True)
    return_shipped_at = models.DateTimeField(_("return shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("return received at"), null=True, blank=True)
    inspected_at = models.DateTimeField(_("inspected at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("after-sales case")
        verbose_name_plural = _("after-sales cases")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["buyer", "-id"], name="case_buyer"),
            models.Index(fields=["shop", "status", "deadline"], name="case_shop_queue"),
            models.Index(fields=["status", "deadline"], name="case_deadline"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(requested_amount__gte=0), name="case_requested_not_negative"),
        ]

    def __str__(self):
        return self.number


class CaseLine(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT,
                             related_name="aftersales_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    # the line's paid amount for this quantity (OrderLine.net_total apportioned): never more
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)

    class Meta:
        verbose_name = _("case line")
        verbose_name_plural = _("case lines")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "line"], name="case_line_once")]

    def __str__(self):
        return f"{self.case_id}: {self.line_id} × {self.quantity}"


class CaseEvent(models.Model):
    """One step of a case's timeline, shown to both sides."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(_("from"), max_length=30, blank=True)
    to_status = models.CharField(_("to"), max_length=30, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["id"]

    def __str__(self):
        return f"{self.case_id}: {self.action}"


def _photo_path(instance, filename):
    return f"aftersales/{instance.case_id}/{filename}"


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, verbose_name=_("case event"),
                              on_delete=models.SET_NULL, related_name="photos")
    image = models.ImageField(_("image"), upload_to=_photo_path)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("uploaded by"),
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        ordering = ["id"]

    def __str__(self):
        return self.image.name


class CreditEntry(models.Model):
    """Store credit given to a buyer (compensation paid as credit): a ledger, one row per
    movement. The loyalty app may take it over (it hears `store_credit.granted`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                             related_name="aftersales_credit")
    shop = models.ForeignKey("shops.Shop", null=True, blank=True, verbose_name=_("shop"), on_delete=models.PROTECT,
                             related_name="+")
    case = models.OneToOneField(Case, null=True, blank=True, verbose_name=_("case"), on_delete=models.PROTECT,
                                related_name="credit")
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("store credit entry")
        verbose_name_plural = _("store credit entries")
        ordering = ["-id"]

    def __str__(self):
        from shopyard.core.money import format_price

        return f"{self.user_id}: {format_price(self.amount, self.currency)}"
