"""Group buying (拼团): a shop's campaign offers SKUs at a group price for
groups of N shoppers; a shopper opens a group and shares its link, others join
by paying. A member counts once their order is paid; the group succeeds when N
have paid before it expires, and fails otherwise (group_services.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..group_state import GroupStatus
from ..state import Status


class GroupBuy(models.Model):
    """A campaign: its status follows the promotion table (draft → published → stopped);
    it opens groups while published and inside [starts_at, ends_at)."""

    Status = Status

    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
                             related_name="group_buys")
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    group_size = models.PositiveSmallIntegerField(_("group size"))
    time_limit_hours = models.PositiveSmallIntegerField(_("hours to fill a group"), default=24)
    max_quantity = models.PositiveSmallIntegerField(_("most units per member"), default=1)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("created by"),
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group-buy campaign")
        verbose_name_plural = _("group-buy campaigns")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "ends_at"], name="group_buy_live")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="group_buy_ends_after_start"),
            models.CheckConstraint(condition=models.Q(group_size__gte=2), name="group_buy_size_at_least_2"),
            models.CheckConstraint(condition=models.Q(time_limit_hours__gte=1), name="group_buy_time_limit"),
            models.CheckConstraint(condition=models.Q(max_quantity__gte=1), name="group_buy_max_quantity"),
        ]

    def __str__(self):
        return self.name

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


class GroupBuyItem(models.Model):
    """One SKU of a campaign and its group price (below the SKU's list price when written)."""

    campaign = models.ForeignKey(GroupBuy, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    group_price = models.DecimalField(_("group price"), max_digits=20, decimal_places=4)

    class Meta:
        verbose_name = _("group-buy item")
        verbose_name_plural = _("group-buy items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sku"], name="uniq_group_buy_sku"),
            models.CheckConstraint(condition=models.Q(group_price__gt=0), name="group_price_positive"),
        ]

    def __str__(self):
        return f"{self.campaign_id}: {self.sku_id} @ {self.group_price}"


class GroupBuyStatusChange(models.Model):
    campaign = models.ForeignKey(GroupBuy, verbose_name=_("campaign"), on_delete=models.CASCADE,
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
        verbose_name = _("group-buy status change")
        verbose_name_plural = _("group-buy status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.campaign_id}: {self.from_status} → {self.to_status}"


class Group(models.Model):
    """One group of a campaign's item, opened by its leader and found by its share code."""

    Status = GroupStatus

    campaign = models.ForeignKey(GroupBuy, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="groups")
    item = models.ForeignKey(GroupBuyItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="groups")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("leader"), on_delete=models.PROTECT,
                               related_name="led_groups")
    share_code = models.CharField(_("share code"), max_length=16, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=GroupStatus.choices, default=GroupStatus.OPEN)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    succeeded_at = models.DateTimeField(_("succeeded at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="group_open_expiry")]

    def __str__(self):
        return self.share_code


class GroupStatusChange(models.Model):
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=GroupStatus.choices)
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("actor"),
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("group status change")
        verbose_name_plural = _("group status changes")
        ordering = ["id"]

    def __str__(self):
        return f"{self.group_id}: {self.from_status} → {self.to_status}"


class GroupMember(models.Model):
    """A shopper in a group with the order that buys their place; they count once it is paid
    (`paid_at`). One row per shopper and group: a shopper whose unpaid order was cancelled
    may join again, and the row then names the new order."""

    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                             related_name="group_memberships")
    order = models.OneToOneField("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                                 related_name="group_member")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    joined_at = models.DateTimeField(_("joined at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="uniq_group_member")]
        indexes = [models.Index(fields=["group", "paid_at"], name="group_member_paid")]

    def __str__(self):
        return f"{self.group_id}: {self.user_id}"
