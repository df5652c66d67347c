"""Carts: one per user, or one per session for guests (merged at login)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Cart(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("user"), on_delete=models.CASCADE, related_name="cart")
    session_key = models.CharField(_("session key"), max_length=64, null=True, blank=True, unique=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self):
        return f"cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, verbose_name=_("cart"), on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    # ticked for checkout: stored so the choice survives a reload and a guest's login
    selected = models.BooleanField(_("selected"), default=True)
    # the unit price when the shopper added (or last acknowledged) the line, to show
    # "price dropped by ¥10"; null for lines older than the column (no marker)
    added_price = models.DecimalField(_("price when added"), max_digits=20, decimal_places=4, null=True, blank=True)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="uniq_cart_sku"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.sku_id} × {self.quantity}"
