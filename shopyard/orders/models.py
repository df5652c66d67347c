"""Orders (one per shop per checkout), their lines and status history.

Lines copy titles, SKU names and prices at placement time: an order is a
record of what was sold, unaffected by later catalogue edits.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shopyard.core.money import Money, explain_price

from .state import Hold, Status


class Order(models.Model):
    Status = Status

    number = models.CharField(_("order number"), max_length=32, unique=True)
    checkout_id = models.UUIDField(_("checkout"), db_index=True)
    # no index of their own: order_user(_status) and order_shop_status begin with them
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="orders",
                             db_index=False)
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.PROTECT, related_name="orders",
                             db_index=False)
    status = models.CharField(_("status"), max_length=30, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("subtotal"), max_digits=20, decimal_places=4)
    # every line discount (adjustment rows), and the part of the fee a free-shipping offer took off:
    # total = subtotal − discount_total + shipping_fee − shipping_discount (checkout.pricing's rule)
    discount_total = models.DecimalField(_("discounts"), max_digits=20, decimal_places=4, default=Decimal("0"))
    shipping_discount = models.DecimalField(_("shipping discount"), max_digits=20, decimal_places=4,
                                            default=Decimal("0"))
    shipping_fee = models.DecimalField(_("shipping fee"), max_digits=20, decimal_places=4, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=20, decimal_places=4)
    shipping_address = models.JSONField(_("shipping address"))
    note = models.CharField(_("buyer note"), max_length=200, blank=True)
    # set while the order, paid or not, must not move on (state.HELD_ACTIONS): e.g. a group-buy
    # order until its group fills; empty when nothing holds it
    hold = models.CharField(_("on hold"), max_length=30, choices=Hold.choices, blank=True, default="")
    placed_at = models.DateTimeField(_("placed at"), auto_now_add=True, db_index=True)
    # minutes to pay when an offer of the order asks for less than the unpaid-order timeout
    # (a flash sale's unit goes back within minutes); empty: the timeout (orders.queries.payment_deadline)
    pay_within_minutes = models.PositiveIntegerField(_("minutes to pay"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="order_user"),
            # a checkout counts the shopper's unpaid orders (checkout.services._unpaid_count)
            models.Index(fields=["user", "status"], name="order_user_status"),
            models.Index(fields=["shop", "status", "-id"], name="order_shop_status"),
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_not_negative")]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", null=True, verbose_name=_("SKU"), on_delete=models.SET_NULL, related_name="+")
    product_id_snapshot = models.BigIntegerField(_("product id"))
    product_title = models.CharField(_("product title"), max_length=200)
    product_title_en = models.CharField(_("English product title"), max_length=200, blank=True)
    sku_code = models.CharField(_("SKU code"), max_length=64)
    sku_name = models.CharField(_("SKU name"), max_length=200, blank=True)
    sku_name_en = models.CharField(_("English SKU name"), max_length=200, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=20, decimal_places=4)  # before discounts
    quantity = models.PositiveIntegerField(_("quantity"))
    line_total = models.DecimalField(_("line total"), max_digits=20, decimal_places=4)  # unit × quantity
    # the line's share of every discount (its adjustment rows add up to it) and what was paid for
    # it: refunds never return more than `net_total`
    discount = models.DecimalField(_("discount"), max_digits=20, decimal_places=4, default=Decimal("0"))
    net_total = models.DecimalField(_("amount paid"), max_digits=20, decimal_places=4)
    is_gift = models.BooleanField(_("gift"), default=False)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]

    def __str__(self):
        return f"{self.sku_code} × {self.quantity}"

    def explain(self, lang=None) -> str:
        """How the line came to cost what was paid, from its adjustment rows (prefetch
        `lines__adjustments` where a page lists many)."""
        lang = lang or get_language() or ""
        currency = self.order.currency
        return explain_price(Money(self.line_total, currency), [
            (Money(a.amount, currency), a.label_en if lang.startswith("en") and a.label_en else a.label)
            for a in self.adjustment_rows])

    @property
    def adjustment_rows(self):
        # rows place_order just wrote are kept on the line; rows read back come prefetched
        # (an empty list written is an answer too: no query for a line without discounts)
        written = getattr(self, "adjustment_list", None)
        return written if written is not None else self.adjustments.all()


class OrderStatusChange(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=30, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=Status.choices)
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"), on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status} → {self.to_status}"


class OrderAdjustment(models.Model):
    """One discount on an order line (or, with no line, on the order's shipping fee): what
    gave it (a promotion, a coupon, a flash sale, by id and by the label the shopper saw),
    how much, and who pays for it. Settlement charges the funder; refunds read the lines."""

    class Funding(models.TextChoices):
        SHOP = "shop", _("shop")
        PLATFORM = "platform", _("platform")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="adjustments")
    line = models.ForeignKey(OrderLine, null=True, blank=True, verbose_name=_("order line"),
                             on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(_("kind"), max_length=30)
    source = models.CharField(_("source"), max_length=20)
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    label = models.CharField(_("label"), max_length=200)
    label_en = models.CharField(_("English label"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    funded_by = models.CharField(_("funded by"), max_length=20, choices=Funding.choices)

    class Meta:
        verbose_name = _("order adjustment")
        verbose_name_plural = _("order adjustments")
        ordering = ["id"]
        indexes = [models.Index(fields=["source", "source_id"], name="adjustment_source")]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="adjustment_positive")]

    def __str__(self):
        return f"{self.label} −{self.amount}"
