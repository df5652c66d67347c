"""Parcels (shipments) an order left in, what each holds, and their tracking events;
and the shops' freight templates."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Carrier(models.TextChoices):
    """The maintained carrier list; each code's tracking-number format is in
    shipping.carriers.TRACKING_FORMATS (sources in docs/shipping.md)."""

    SF = "sf", _("SF Express")
    ZTO = "zto", _("ZTO Express")
    YTO = "yto", _("YTO Express")
    STO = "sto", _("STO Express")
    YUNDA = "yunda", _("Yunda Express")
    JD = "jd", _("JD Logistics")
    EMS = "ems", _("China Post EMS")
    DEPPON = "deppon", _("Deppon Express")
    JT = "jt", _("J&T Express")
    OTHER = "other", _("Other")


class ParcelStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Delivery exception")


class TrackingCode(models.TextChoices):
    """The normalised status of a tracking event; adapters map carrier codes onto these."""

    ACCEPTED = "accepted", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    LOST = "lost", _("Lost")
    RETURNED = "returned", _("Returned to sender")
    REFUSED = "refused", _("Refused by the recipient")


# the codes that end a parcel's journey badly: shipment.failed (the after-sales hook)
EXCEPTION_CODES = {TrackingCode.LOST, TrackingCode.RETURNED, TrackingCode.REFUSED}


class Shipment(models.Model):
    """A parcel: some of an order's lines, with a carrier and a tracking number.
    An order ships in one or more parcels; `ShipmentLine` says what each holds."""

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=20, choices=Carrier.choices)
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, verbose_name=_("shipped by"), on_delete=models.SET_NULL, related_name="+")
    shipped_at = models.DateTimeField(_("shipped at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=20, choices=ParcelStatus.choices, default=ParcelStatus.IN_TRANSIT)
    # the exception's tracking code (lost, returned, refused) while status is exception
    exception = models.CharField(_("exception"), max_length=20, choices=TrackingCode.choices, blank=True, default="")
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        ordering = ["id"]
        indexes = [models.Index(fields=["tracking_number"], name="shipment_tracking"),
                   models.Index(fields=["status", "shipped_at"], name="shipment_status")]

    def __str__(self):
        return f"{self.get_carrier_display()} {self.tracking_number}"


class ShipmentLine(models.Model):
    """How many of an order line a parcel holds; across an order's parcels a line's
    quantities never add up to more than was ordered (shipping.services.ship_parcel)."""

    shipment = models.ForeignKey(Shipment, verbose_name=_("parcel"), on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("orders.OrderLine", verbose_name=_("order line"), on_delete=models.CASCADE,
                             related_name="parcel_lines")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("parcel line")
        verbose_name_plural = _("parcel lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "line"], name="shipment_line_once"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="shipment_line_quantity"),
        ]

    def __str__(self):
        return f"{self.line_id} × {self.quantity}"


class TrackingEvent(models.Model):
    """One step of a parcel's journey, pushed by the carrier's webhook or polled.
    `event_id` is the carrier's: a push repeating it changes nothing."""

    shipment = models.ForeignKey(Shipment, verbose_name=_("parcel"), on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(_("event id"), max_length=80)
    occurred_at = models.DateTimeField(_("time"))
    location = models.CharField(_("location"), max_length=100, blank=True)
    code = models.CharField(_("status"), max_length=20, choices=TrackingCode.choices)
    description_zh = models.CharField(_("description (Chinese)"), max_length=300, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=10)  # push or poll
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["occurred_at", "id"]
        constraints = [models.UniqueConstraint(fields=["shipment", "event_id"], name="tracking_event_once")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.code}"

    @property
    def description(self):
        """The description in the active language (Chinese unless English is active)."""
        from django.utils.translation import get_language

        english = (get_language() or "").startswith("en")
        return (self.description_en if english else self.description_zh) or self.description_zh or self.description_en


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
