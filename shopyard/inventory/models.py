"""Stock per SKU and the ledger of every movement.

`quantity` can only move by conditional UPDATEs in `services.py`; the CHECK
constraint is the last line of defence so that no code path, however wrong,
can store negative stock.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StockLevel(models.Model):
    sku = models.OneToOneField("catalog.Sku", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="stock", primary_key=True)
    quantity = models.IntegerField(_("quantity on hand"), default=0)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=0), name="stock_never_negative")]

    def __str__(self):
        return f"{self.sku_id}: {self.quantity}"


class StockMovement(models.Model):
    class Reason(models.TextChoices):
        ADJUST = "adjust", _("Manual adjustment")
        ORDER = "order", _("Sold in an order")
        RELEASE = "release", _("Released by cancellation")
        FLASH_SET_ASIDE = "flash_set_aside", _("Set aside for a flash sale")
        FLASH_RETURNED = "flash_returned", _("Returned from a flash sale")
        AFTERSALES_RETURN = "aftersales_return", _("Returned by a buyer, resaleable")
        AFTERSALES_REPLACEMENT = "aftersales_replace", _("Sent as an after-sales replacement")

    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="stock_movements")
    delta = models.IntegerField(_("change"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    order = models.ForeignKey("orders.Order", null=True, blank=True, verbose_name=_("order"), on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"), on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.sku_id} {self.delta:+d} ({self.reason})"
