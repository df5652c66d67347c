"""The settlement ledger (double entry), commission rates and weekly statements.

Every movement of money between the platform and a seller is a `Posting`: a set of
`Entry` rows whose amounts add up to zero (debits positive, credits negative), so
the whole ledger always sums to zero. Each posting comes from one source (an order
line's completion, a refund of a line, a statement's payout) and its key is unique:
an event delivered twice finds its posting and writes nothing. See docs/settlement.md.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shopyard.core.money import money_str

from .state import Status


class Account(models.TextChoices):
    """The ledger's accounts. `seller_payable` is one account per shop (the entry's shop);
    the others are the platform's."""

    CLEARING = "clearing", _("Shopper payments clearing")
    SELLER_PAYABLE = "seller_payable", _("Seller payable")
    COMMISSION_REVENUE = "commission_revenue", _("Platform commission revenue")
    PROMOTION_COST = "promotion_cost", _("Platform promotion cost")
    PAYOUTS = "payouts", _("Payouts to sellers")


class Kind(models.TextChoices):
    SALE = "sale", _("Sale")
    SHIPPING = "shipping", _("Shipping paid")
    PLATFORM_DISCOUNT = "platform_discount", _("Platform-funded discount")
    COMMISSION = "commission", _("Commission")
    REFUND = "refund", _("Refund")
    DISCOUNT_REVERSAL = "discount_reversal", _("Platform-funded discount reversed")
    COMMISSION_REVERSAL = "commission_reversal", _("Commission returned")
    PAYOUT = "payout", _("Payout")


class Source(models.TextChoices):
    ORDER = "order", _("Order completed")
    REFUND = "refund", _("Refund")
    STATEMENT = "statement", _("Statement paid")


class CategoryCommission(models.Model):
    """The commission rate (percent of what the shopper paid) of a platform category and,
    unless they have their own, of its subcategories."""

    category = models.OneToOneField("catalog.Category", verbose_name=_("category"), on_delete=models.CASCADE,
                                    related_name="commission")
    rate = models.DecimalField(_("commission rate (percent)"), max_digits=5, decimal_places=2)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("updated by"),
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("category commission rate")
        verbose_name_plural = _("category commission rates")
        ordering = ["category_id"]
        constraints = [models.CheckConstraint(condition=models.Q(rate__gte=0, rate__lte=100),
                                              name="category_commission_0_100")]

    def __str__(self):
        return f"{self.category}: {self.rate}%"


class ShopCommission(models.Model):
    """An operator's override: this shop pays this rate on every line, whatever the category."""

    shop = models.OneToOneField("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
                                related_name="commission")
    rate = models.DecimalField(_("commission rate (percent)"), max_digits=5, decimal_places=2)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("updated by"),
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("shop commission rate")
        verbose_name_plural = _("shop commission rates")
        ordering = ["shop_id"]
        constraints = [models.CheckConstraint(condition=models.Q(rate__gte=0, rate__lte=100),
                                              name="shop_commission_0_100")]

    def __str__(self):
        return f"{self.shop}: {self.rate}%"


class Statement(models.Model):
    """A shop's settlement for one period (a week): the entries of its seller-payable
    account that landed in it, and, once closed, their totals frozen.
    payable = sales + platform_discounts − commission − refunds + commission_returned."""

    Status = Status

    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.PROTECT,
                             related_name="statements")
    currency = models.CharField(_("currency"), max_length=3)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    order_count = models.PositiveIntegerField(_("completed orders"), default=0)
    sales = models.DecimalField(_("sales"), max_digits=20, decimal_places=4, default=Decimal("0"))
    platform_discounts = models.DecimalField(_("platform-funded discounts"), max_digits=20, decimal_places=4,
                                             default=Decimal("0"))
    commission = models.DecimalField(_("commission"), max_digits=20, decimal_places=4, default=Decimal("0"))
    refunds = models.DecimalField(_("refunds"), max_digits=20, decimal_places=4, default=Decimal("0"))
    commission_returned = models.DecimalField(_("commission returned"), max_digits=20, decimal_places=4,
                                              default=Decimal("0"))
    payable = models.DecimalField(_("amount payable"), max_digits=20, decimal_places=4, default=Decimal("0"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("paid by"),
                                on_delete=models.SET_NULL, related_name="+")
    payout_reference = models.CharField(_("payout reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        ordering = ["-period_start", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "currency", "period_start"],
                                               name="uniq_statement_shop_period")]
        indexes = [models.Index(fields=["status", "period_end"], name="statement_status_end")]

    def __str__(self):
        return f"{self.shop} {self.period_start:%Y-%m-%d}"


class StatementStatusChange(models.Model):
    statement = models.ForeignKey(Statement, verbose_name=_("statement"), on_delete=models.CASCADE,
                                  related_name="history")
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("statement status change")
        verbose_name_plural = _("statement status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.statement_id}: {self.from_status} → {self.to_status}"


class Posting(models.Model):
    """One balanced set of entries from one source. `key` is unique:
    "order:<order>:line:<line>" / "order:<order>:shipping" for a completed order,
    "refund:<refund>:line:<line>" / "refund:<refund>:shipping" for a refund,
    "statement:<statement>:payout" for a payout."""

    key = models.CharField(_("key"), max_length=80, unique=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    source_id = models.BigIntegerField(_("source id"))
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("orders.Order", null=True, blank=True, verbose_name=_("order"),
                              on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey("orders.OrderLine", null=True, blank=True, verbose_name=_("order line"),
                                   on_delete=models.PROTECT, related_name="+")
    statement = models.ForeignKey(Statement, verbose_name=_("statement"), on_delete=models.PROTECT,
                                  related_name="postings")
    currency = models.CharField(_("currency"), max_length=3)
    # the commission rate (%) applied, kept with the sale it was taken on
    rate = models.DecimalField(_("commission rate (percent)"), max_digits=5, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger posting")
        verbose_name_plural = _("ledger postings")
        ordering = ["id"]

    def __str__(self):
        return self.key


class Entry(models.Model):
    """One side of a posting: `amount` on `account` (debit positive, credit negative).
    The shop, order, line and statement are copied from the posting so that balances and
    statements are one filtered sum."""

    Account = Account
    Kind = Kind

    posting = models.ForeignKey(Posting, verbose_name=_("posting"), on_delete=models.PROTECT,
                                related_name="entries")
    account = models.CharField(_("account"), max_length=30, choices=Account.choices)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("orders.Order", null=True, blank=True, verbose_name=_("order"),
                              on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey("orders.OrderLine", null=True, blank=True, verbose_name=_("order line"),
                                   on_delete=models.PROTECT, related_name="+")
    statement = models.ForeignKey(Statement, verbose_name=_("statement"), on_delete=models.PROTECT,
                                  related_name="entries")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        constraints = [
            # (source, order line, kind) once: the posting's key names the source and the line
            models.UniqueConstraint(fields=["posting", "kind", "account"], name="uniq_entry_posting_kind_account"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="entry_amount_not_zero"),
        ]
        indexes = [
            models.Index(fields=["shop", "account", "statement"], name="entry_shop_account_stmt"),
            models.Index(fields=["order_line", "kind"], name="entry_line_kind"),
        ]

    def __str__(self):
        return f"{self.account} {money_str(self.amount, self.currency)}"

    @property
    def seller_amount(self):
        """The entry as the seller reads it: positive is owed to them."""
        return -self.amount
