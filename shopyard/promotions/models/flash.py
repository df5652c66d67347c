"""Flash sales (秒杀): a session, its items and each buyer's reservations.

An item's units are set aside from normal stock when the session is
published and live in `available` (the database count) and, when Redis is
configured, in a Redis counter that gates the crowd (see flash_store.py).
`available` only moves by conditional UPDATEs in flash.py; the CHECK
constraints are the last line of defence against overselling. A buyer's
units per item are counted in `FlashPurchaseCount`, one row per (item, user),
so the per-user limit holds under concurrency with a conditional UPDATE too.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..flash_state import ReservationStatus, Status


class FlashSale(models.Model):
    Status = Status

    shop = models.ForeignKey("shops.Shop", null=True, blank=True, verbose_name=_("shop"), on_delete=models.PROTECT,
                             related_name="flash_sales", help_text=_("Empty for a platform session."))
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"), db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("created by"),
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("flash sale")
        verbose_name_plural = _("flash sales")
        ordering = ["starts_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="flash_sale_ends_after_start")]

    def __str__(self):
        return self.name

    def is_live(self, now) -> bool:
        return self.status == Status.SCHEDULED and self.starts_at <= now < self.ends_at


class FlashSaleItem(models.Model):
    sale = models.ForeignKey(FlashSale, verbose_name=_("flash sale"), on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="flash_items")
    flash_price = models.DecimalField(_("flash price"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    quantity = models.PositiveIntegerField(_("flash stock"), help_text=_("Units set aside for the session."))
    available = models.IntegerField(_("flash stock left"), default=0)
    returned = models.PositiveIntegerField(_("units given back"), default=0)
    per_user_limit = models.PositiveIntegerField(_("limit per buyer"), default=1)

    class Meta:
        verbose_name = _("flash sale item")
        verbose_name_plural = _("flash sale items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["sale", "sku"], name="flash_item_once_per_sale"),
            models.CheckConstraint(condition=models.Q(available__gte=0), name="flash_stock_never_negative"),
            models.CheckConstraint(condition=models.Q(available__lte=models.F("quantity")),
                                   name="flash_stock_within_set_aside"),
            models.CheckConstraint(condition=models.Q(per_user_limit__gte=1), name="flash_limit_at_least_one"),
            models.CheckConstraint(condition=models.Q(flash_price__gte=0), name="flash_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.sale_id}/{self.sku_id}"


class FlashPurchaseCount(models.Model):
    """How many units of an item a buyer holds now (reserved or ordered, not
    released): the per-user limit is a conditional UPDATE on this row."""

    item = models.ForeignKey(FlashSaleItem, verbose_name=_("flash sale item"), on_delete=models.CASCADE,
                             related_name="buyer_counts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    quantity = models.IntegerField(_("units held"), default=0)

    class Meta:
        verbose_name = _("flash purchase count")
        verbose_name_plural = _("flash purchase counts")
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="flash_count_once_per_buyer"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="flash_count_not_negative"),
        ]

    def __str__(self):
        return f"{self.item_id}/{self.user_id}: {self.quantity}"


class FlashReservation(models.Model):
    """One buyer's claim on units of an item, and the order made from it: the
    record that makes per-user limits, time-outs and returns traceable."""

    Status = ReservationStatus

    item = models.ForeignKey(FlashSaleItem, verbose_name=_("flash sale item"), on_delete=models.PROTECT,
                             related_name="reservations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                             related_name="flash_reservations")
    order = models.ForeignKey("orders.Order", null=True, blank=True, verbose_name=_("order"),
                              on_delete=models.SET_NULL, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    # a purchase first held in Redis carries its hold token (unique: one record per hold)
    token = models.CharField(_("hold token"), max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=ReservationStatus.choices,
                              default=ReservationStatus.RESERVED)
    created_at = models.DateTimeField(_("reserved at"), auto_now_add=True, db_index=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.CharField(_("release reason"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("flash sale reservation")
        verbose_name_plural = _("flash sale reservations")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="flash_resv_status")]

    def __str__(self):
        return f"{self.item_id} × {self.quantity} ({self.status})"


class FlashSaleStatusChange(models.Model):
    sale = models.ForeignKey(FlashSale, verbose_name=_("flash sale"), on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("flash sale status change")
        verbose_name_plural = _("flash sale status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.sale_id}: {self.from_status} → {self.to_status}"
