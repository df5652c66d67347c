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
