"""Coupons: a template a shop (or the platform, with no shop) hands out, and
the coupons shoppers hold (claimed, or issued to them by the seller or an
operator).

Two invariants are kept by the database, not by Python: a template never
issues more than its total (`issued <= total_quantity`, raised by a
conditional UPDATE and backed by a CHECK), and a shopper's n-th coupon of a
template is unique (`claim_number`), so even a lost race cannot hand one
person more than the per-user limit."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..coupon_state import CouponStatus, TemplateStatus
from ..kinds import Funding, Kind


class CouponTemplate(models.Model):
    Status = TemplateStatus

    class Benefit(models.TextChoices):
        AMOUNT = "amount", _("Amount off (with a threshold)")
        PERCENT = "percent", _("Percentage off (with a cap)")
        FREE_SHIPPING = "free_shipping", _("Free shipping")

    class Scope(models.TextChoices):
        ALL = "all", _("Whole range")
        CATEGORIES = "categories", _("Categories")
        PRODUCTS = "products", _("Chosen products")

    class Validity(models.TextChoices):
        FIXED = "fixed", _("Fixed dates")
        DAYS = "days", _("Days after claiming")

    shop = models.ForeignKey("shops.Shop", null=True, blank=True, verbose_name=_("shop"), on_delete=models.CASCADE,
                             related_name="coupon_templates", help_text=_("Empty for a platform coupon."))
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    benefit = models.CharField(_("benefit"), max_length=20, choices=Benefit.choices)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    threshold = models.DecimalField(_("minimum spend"), max_digits=20, decimal_places=4, default=0)
    amount_off = models.DecimalField(_("amount off"), max_digits=20, decimal_places=4, null=True, blank=True)
    percent_off = models.DecimalField(_("percentage off"), max_digits=5, decimal_places=2, null=True, blank=True)
    max_off = models.DecimalField(_("most taken off"), max_digits=20, decimal_places=4, null=True, blank=True)
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices, default=Scope.ALL)
    categories = models.ManyToManyField("catalog.Category", blank=True, verbose_name=_("categories"), related_name="+")
    products = models.ManyToManyField("catalog.Product", blank=True, verbose_name=_("products"), related_name="+")
    total_quantity = models.PositiveIntegerField(_("total quantity"))
    issued = models.PositiveIntegerField(_("issued"), default=0)
    per_user_limit = models.PositiveIntegerField(_("per-user limit"), default=1)
    validity = models.CharField(_("validity"), max_length=10, choices=Validity.choices, default=Validity.FIXED)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("valid days after claiming"), null=True, blank=True)
    claim_starts_at = models.DateTimeField(_("claiming opens"))
    claim_ends_at = models.DateTimeField(_("claiming closes"))
    status = models.CharField(_("status"), max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("created by"),
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "claim_ends_at"], name="coupon_template_claimable")]
        constraints = [
            models.CheckConstraint(condition=models.Q(issued__lte=models.F("total_quantity")),
                                   name="coupon_template_issued_within_total"),
            models.CheckConstraint(condition=models.Q(claim_ends_at__gt=models.F("claim_starts_at")),
                                   name="coupon_template_claim_window"),
        ]

    def __str__(self):
        return self.name

    @property
    def funded_by(self) -> str:
        """Settlement charges a shop coupon to the shop and a platform coupon to the platform."""
        return Funding.SHOP if self.shop_id else Funding.PLATFORM

    @property
    def offer_kind(self) -> str:
        if self.benefit == self.Benefit.FREE_SHIPPING:
            return Kind.SHIPPING_COUPON
        return Kind.SHOP_COUPON if self.shop_id else Kind.PLATFORM_COUPON

    @property
    def remaining(self) -> int:
        return max(0, self.total_quantity - self.issued)

    def label(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class CouponTemplateStatusChange(models.Model):
    template = models.ForeignKey(CouponTemplate, verbose_name=_("coupon template"), on_delete=models.CASCADE,
                                 related_name="history")
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=TemplateStatus.choices)
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon template status change")
        verbose_name_plural = _("coupon template status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.template_id}: {self.from_status} → {self.to_status}"


class UserCoupon(models.Model):
    Status = CouponStatus

    class Source(models.TextChoices):
        CLAIMED = "claimed", _("Claimed")
        ISSUED = "issued", _("Issued")

    template = models.ForeignKey(CouponTemplate, verbose_name=_("coupon template"), on_delete=models.PROTECT,
                                 related_name="coupons")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="coupons")
    claim_number = models.PositiveIntegerField(_("claim number"), help_text=_("This shopper's n-th coupon of the template."))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.CLAIMED)
    claimed_at = models.DateTimeField(_("claimed at"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(_("status"), max_length=20, choices=CouponStatus.choices, default=CouponStatus.AVAILABLE)
    checkout_id = models.UUIDField(_("checkout"), null=True, blank=True)
    orders = models.ManyToManyField("orders.Order", blank=True, verbose_name=_("orders"), related_name="+",
                                    help_text=_("The orders the coupon is on while locked or used."))
    locked_at = models.DateTimeField(_("used at checkout at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    returned_count = models.PositiveIntegerField(_("times returned"), default=0)

    class Meta:
        verbose_name = _("user coupon")
        verbose_name_plural = _("user coupons")
        ordering = ["valid_until", "id"]
        indexes = [models.Index(fields=["user", "status", "valid_until"], name="user_coupon_usable")]
        constraints = [
            models.UniqueConstraint(fields=["template", "user", "claim_number"], name="user_coupon_claim_number"),
            models.CheckConstraint(condition=models.Q(valid_until__gt=models.F("valid_from")),
                                   name="user_coupon_validity"),
        ]

    def __str__(self):
        return f"{self.template} · {self.user_id}"
