"""Shops (the platform's own and independent sellers) and their staff."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .state import Action
from .state import Status as ShopStatus


class Shop(models.Model):
    class Kind(models.TextChoices):
        SELF_OPERATED = "self_operated", _("Self-operated")
        SELLER = "seller", _("Independent seller")

    Status = ShopStatus

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SELLER)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    description = models.TextField(_("description"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # fees are validated to the currency's minor unit (clean(), services.check_fees): the
    # amount calculator (checkout.pricing) never has to round a fee the seller did not see
    shipping_fee = models.DecimalField(_("shipping fee"), max_digits=20, decimal_places=4, default=Decimal("0"))
    free_shipping_over = models.DecimalField(
        _("free shipping over"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["id"]

    def __str__(self):
        return self.name

    def clean(self):
        from .services import fee_errors

        errors = fee_errors(currency=self.currency, shipping_fee=self.shipping_fee,
                            free_shipping_over=self.free_shipping_over)
        if errors:
            raise ValidationError(errors)

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class ShopStatusChange(models.Model):
    """Who suspended or reopened a shop, when, and why (the operators' history)."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=20, choices=ShopStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=ShopStatus.choices)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop status change")
        verbose_name_plural = _("shop status changes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.shop}: {self.from_status} → {self.to_status}"


class ShopMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="shop_memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = _("shop member")
        verbose_name_plural = _("shop members")
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="uniq_shop_member")]

    def __str__(self):
        return f"{self.user} @ {self.shop} ({self.role})"
