"""Shipments: the carrier and tracking number an order left with."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Carrier(models.TextChoices):
    SF = "sf", _("SF Express")
    ZTO = "zto", _("ZTO Express")
    YTO = "yto", _("YTO Express")
    STO = "sto", _("STO Express")
    YUNDA = "yunda", _("Yunda Express")
    JD = "jd", _("JD Logistics")
    EMS = "ems", _("China Post EMS")
    OTHER = "other", _("Other")


class Shipment(models.Model):
    order = models.OneToOneField("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="shipment")
    carrier = models.CharField(_("carrier"), max_length=20, choices=Carrier.choices)
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, verbose_name=_("shipped by"), on_delete=models.SET_NULL, related_name="+")
    shipped_at = models.DateTimeField(_("shipped at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self):
        return f"{self.get_carrier_display()} {self.tracking_number}"


class Basis(models.TextChoices):
    """What a freight template counts: pieces, kilograms or cubic metres."""

    PIECE = "piece", _("By piece")
    WEIGHT = "weight", _("By weight (kg)")
    VOLUME = "volume", _("By volume (m³)")


class FreightTemplate(models.Model):
    """A shop's shipping-fee template (运费模板). Its default rule charges `first_fee`
    for the first `first_units` and `additional_fee` for each further
    `additional_units` (or part of it); a regional rule replaces the default for its
    provinces; `undeliverable` lists provinces the shop does not ship to. The rule
    is applied in shipping.queries.quote (docs/shipping.md)."""

    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
                             related_name="freight_templates")
    name = models.CharField(_("name"), max_length=60)
    basis = models.CharField(_("charged by"), max_length=10, choices=Basis.choices, default=Basis.PIECE)
    first_units = models.DecimalField(_("first units"), max_digits=12, decimal_places=3)
    first_fee = models.DecimalField(_("first fee"), max_digits=20, decimal_places=4)
    additional_units = models.DecimalField(_("additional units"), max_digits=12, decimal_places=3)
    additional_fee = models.DecimalField(_("additional fee"), max_digits=20, decimal_places=4)
    # GB/T 2260 province codes (accounts.divisions) the shop does not deliver to
    undeliverable = models.JSONField(_("provinces not delivered to"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("freight template")
        verbose_name_plural = _("freight templates")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="freight_template_name_per_shop"),
            models.CheckConstraint(condition=models.Q(first_units__gt=0, additional_units__gt=0,
                                                      first_fee__gte=0, additional_fee__gte=0),
                                   name="freight_template_amounts"),
        ]

    def __str__(self):
        return self.name


class FreightRegionRule(models.Model):
    """A template's rule for a list of provinces, in place of its default rule."""

    template = models.ForeignKey(FreightTemplate, verbose_name=_("freight template"), on_delete=models.CASCADE,
                                 related_name="region_rules")
    provinces = models.JSONField(_("provinces"), default=list)
    first_units = models.DecimalField(_("first units"), max_digits=12, decimal_places=3)
    first_fee = models.DecimalField(_("first fee"), max_digits=20, decimal_places=4)
    additional_units = models.DecimalField(_("additional units"), max_digits=12, decimal_places=3)
    additional_fee = models.DecimalField(_("additional fee"), max_digits=20, decimal_places=4)

    class Meta:
        verbose_name = _("regional freight rule")
        verbose_name_plural = _("regional freight rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(first_units__gt=0, additional_units__gt=0,
                                                      first_fee__gte=0, additional_fee__gte=0),
                                   name="freight_region_rule_amounts"),
        ]

    def __str__(self):
        return f"{self.template_id}: {', '.join(self.provinces)}"


class FreeShippingKind(models.TextChoices):
    AMOUNT = "amount", _("Goods amount reaches")
    QUANTITY = "quantity", _("Number of pieces reaches")


class FreeShippingRule(models.Model):
    """Shipping is free when the template's goods (after discounts) reach `threshold`
    (amount) or its pieces do (quantity); for `provinces` only, or everywhere when empty."""

    template = models.ForeignKey(FreightTemplate, verbose_name=_("freight template"), on_delete=models.CASCADE,
                                 related_name="free_rules")
    kind = models.CharField(_("condition"), max_length=10, choices=FreeShippingKind.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=20, decimal_places=4)
    provinces = models.JSONField(_("provinces"), default=list, blank=True)

    class Meta:
        verbose_name = _("free-shipping rule")
        verbose_name_plural = _("free-shipping rules")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(threshold__gt=0), name="free_shipping_threshold")]

    def __str__(self):
        return f"{self.kind} ≥ {self.threshold}"
