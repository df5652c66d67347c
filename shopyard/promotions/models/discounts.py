"""Promotions a shop (or the platform, with no shop) runs on its range:
limited-time discounts, spend-and-save tiers, multi-buy, any-N, gifts and
add-on deals. The kind-specific numbers live in `rules` (JSON), parsed and
checked by rules.py so a row can never hold a rule the pipeline cannot price."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..kinds import Kind
from ..state import Status


class Promotion(models.Model):
    Status = Status

    class Scope(models.TextChoices):
        ALL = "all", _("Whole range")
        CATEGORIES = "categories", _("Categories")
        PRODUCTS = "products", _("Chosen products")
        SKUS = "skus", _("Chosen SKUs")

    # what a shop runs; the platform runs limited-time discounts and cross-shop tiers (services.kinds_for)
    KINDS = [Kind.TIME_DISCOUNT, Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS, Kind.MULTI_BUY, Kind.BUNDLE_PRICE,
             Kind.GIFT, Kind.ADD_ON]

    shop = models.ForeignKey("shops.Shop", null=True, blank=True, verbose_name=_("shop"), on_delete=models.CASCADE,
                             related_name="promotions", help_text=_("Empty for a platform campaign across shops."))
    kind = models.CharField(_("kind"), max_length=30, choices=[(k.value, k.label) for k in KINDS])
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    # a shop's promotions price in the shop's currency; a platform campaign names its own
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    rules = models.JSONField(_("rules"), default=dict)
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices, default=Scope.ALL)
    categories = models.ManyToManyField("catalog.Category", blank=True, verbose_name=_("categories"), related_name="+")
    products = models.ManyToManyField("catalog.Product", blank=True, verbose_name=_("products"), related_name="+")
    skus = models.ManyToManyField("catalog.Sku", blank=True, verbose_name=_("SKUs"), related_name="+")
    # kinds this promotion may share a line with (symmetric; kinds.DEFAULT_STACKS_WITH when created)
    stacks_with = models.JSONField(_("stacks with"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("created by"),
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "ends_at"], name="promotion_live")]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="promotion_ends_after_start")]

    def __str__(self):
        return self.name

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


class PromotionStatusChange(models.Model):
    promotion = models.ForeignKey(Promotion, verbose_name=_("promotion"), on_delete=models.CASCADE,
                                  related_name="history")
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("promotion status change")
        verbose_name_plural = _("promotion status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.promotion_id}: {self.from_status} → {self.to_status}"
