"""Channel attribution (docs/seo.md, "Channel attribution").

A `CampaignLink` is a seller's tagged share link with a short code (/s/<code>/).
A `ChannelTouch` is one visit that arrived with a channel tag (utm_source …),
recorded after the response by the middleware. An `OrderAttribution` ties an
order to the last touch of its buyer within the attribution window, written
when `order.placed` is delivered. Tag values are copied onto touches and
attributions, so a report never depends on a link that was archived later.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

SOURCE_MAX = 64
MEDIUM_MAX = 64
CAMPAIGN_MAX = 100
CODE_MAX = 16


class CampaignLink(models.Model):
    class Target(models.TextChoices):
        PRODUCT = "product", _("Product")
        SHOP = "shop", _("Shop")

    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
                             related_name="campaign_links")
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("channel"), max_length=SOURCE_MAX)
    medium = models.CharField(_("medium"), max_length=MEDIUM_MAX, blank=True)
    campaign = models.CharField(_("campaign"), max_length=CAMPAIGN_MAX)
    target = models.CharField(_("target"), max_length=20, choices=Target.choices)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, verbose_name=_("product"),
                                on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("short code"), max_length=CODE_MAX, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("created by"),
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign link")
        verbose_name_plural = _("campaign links")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target="shop", product__isnull=True)
                | models.Q(target="product", product__isnull=False),
                name="campaign_link_target_matches",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class ChannelTouch(models.Model):
    """A visit that came with a channel tag. `visitor` is a first-party cookie id
    (anonymous visits are claimed by the user at login)."""

    visitor = models.CharField(_("visitor"), max_length=32, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("user"),
                             on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("channel"), max_length=SOURCE_MAX)
    medium = models.CharField(_("medium"), max_length=MEDIUM_MAX, blank=True)
    campaign = models.CharField(_("campaign"), max_length=CAMPAIGN_MAX, blank=True)
    link_code = models.CharField(_("short code"), max_length=CODE_MAX, blank=True)
    # the shop whose page or link it landed on, when it has one (the seller's report counts these)
    shop = models.ForeignKey("shops.Shop", null=True, blank=True, verbose_name=_("shop"),
                             on_delete=models.SET_NULL, related_name="+")
    landing_path = models.CharField(_("landing page"), max_length=200)
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("channel touch")
        verbose_name_plural = _("channel touches")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="touch_user_recent"),
            models.Index(fields=["shop", "created_at"], name="touch_shop_time"),
        ]

    def __str__(self):
        return f"{self.source}/{self.campaign} @ {self.created_at:%Y-%m-%d %H:%M}"


class OrderAttribution(models.Model):
    """The order's last touch within the window (one row per attributed order)."""

    order = models.OneToOneField("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE,
                                 related_name="channel_attribution")
    touch = models.ForeignKey(ChannelTouch, null=True, blank=True, verbose_name=_("touch"),
                              on_delete=models.SET_NULL, related_name="attributions")
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("channel"), max_length=SOURCE_MAX)
    medium = models.CharField(_("medium"), max_length=MEDIUM_MAX, blank=True)
    campaign = models.CharField(_("campaign"), max_length=CAMPAIGN_MAX, blank=True)
    link_code = models.CharField(_("short code"), max_length=CODE_MAX, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("order total"), max_digits=20, decimal_places=4, default=Decimal("0"))
    touched_at = models.DateTimeField(_("touched at"))
    placed_at = models.DateTimeField(_("placed at"), db_index=True)

    class Meta:
        verbose_name = _("order attribution")
        verbose_name_plural = _("order attributions")
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["shop", "placed_at"], name="attribution_shop_time")]

    def __str__(self):
        return f"{self.order_id} ← {self.source}/{self.campaign}"
