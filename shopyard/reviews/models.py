"""Reviews of order lines, their photos and moderation history, and the
aggregates product and shop pages read (ProductRating, ShopRating).

One review per order line (a unique line); the follow-up (追评) and the seller's
replies are columns of the review, written once each by a conditional UPDATE in
services.py, so a second one is a clear 409 even when two requests race.
The aggregates are recomputed from the visible reviews inside the transaction
that changes a review, under a lock on the rating row (services.py), so they
never drift and a product page reads one row instead of counting reviews.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .state import Action, Status

STARS = range(1, 6)


def _stars(field):
    return Q(**{f"{field}__gte": 1, f"{field}__lte": 5})


class Review(models.Model):
    Status = Status

    line = models.OneToOneField("orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT,
                                related_name="review")
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                             related_name="reviews")
    shop = models.ForeignKey("shops.Shop", verbose_name=_("shop"), on_delete=models.PROTECT, related_name="reviews")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="reviews")
    # what the line was (the SKU's name then), shown as "颜色: 黑色" under the review
    sku_name = models.CharField(_("SKU name"), max_length=200, blank=True)
    sku_name_en = models.CharField(_("English SKU name"), max_length=200, blank=True)
    rating = models.PositiveSmallIntegerField(_("product stars"))
    logistics = models.PositiveSmallIntegerField(_("logistics score"))
    service = models.PositiveSmallIntegerField(_("service score"))
    text = models.TextField(_("text"), blank=True)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    # photos of the review and of its follow-up together ("with photos" filters on it)
    photo_count = models.PositiveSmallIntegerField(_("photos"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.VISIBLE)
    hidden_reason = models.CharField(_("reason hidden"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True, db_index=True)
    follow_up = models.TextField(_("follow-up"), blank=True)
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    reply = models.TextField(_("seller reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    follow_up_reply = models.TextField(_("seller reply to the follow-up"), blank=True)
    follow_up_replied_at = models.DateTimeField(_("replied to the follow-up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "status", "-created_at"], name="review_product"),
            models.Index(fields=["shop", "-created_at"], name="review_shop"),
            models.Index(fields=["user", "-created_at"], name="review_user"),
        ]
        constraints = [
            models.CheckConstraint(condition=_stars("rating"), name="review_rating_1_5"),
            models.CheckConstraint(condition=_stars("logistics"), name="review_logistics_1_5"),
            models.CheckConstraint(condition=_stars("service"), name="review_service_1_5"),
        ]

    def __str__(self):
        return f"{self.product_id} ★{self.rating} ({self.user_id})"

    @property
    def is_hidden(self) -> bool:
        return self.status == Status.HIDDEN


class ReviewPhoto(models.Model):
    class Part(models.TextChoices):
        REVIEW = "review", _("review")
        FOLLOW_UP = "follow_up", _("follow-up")

    review = models.ForeignKey(Review, verbose_name=_("review"), on_delete=models.CASCADE, related_name="photos")
    part = models.CharField(_("part"), max_length=20, choices=Part.choices, default=Part.REVIEW)
    image = models.ImageField(_("image"), upload_to="reviews/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="reviews/thumbs/%Y/%m/")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("review photo")
        verbose_name_plural = _("review photos")
        ordering = ["review_id", "part", "position", "id"]

    def __str__(self):
        return self.image.name


class ReviewStatusChange(models.Model):
    """Who hid or showed a review again, when, and why (the moderators' history)."""

    review = models.ForeignKey(Review, verbose_name=_("review"), on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("review status change")
        verbose_name_plural = _("review status changes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.review_id}: {self.from_status} → {self.to_status}"


class ProductRating(models.Model):
    """A product's visible reviews, counted: what its page shows without counting rows."""

    product = models.OneToOneField("catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE,
                                   primary_key=True, related_name="rating")
    count = models.PositiveIntegerField(_("reviews"), default=0)
    stars_total = models.PositiveIntegerField(_("stars in total"), default=0)
    star_1 = models.PositiveIntegerField(_("1 star"), default=0)
    star_2 = models.PositiveIntegerField(_("2 stars"), default=0)
    star_3 = models.PositiveIntegerField(_("3 stars"), default=0)
    star_4 = models.PositiveIntegerField(_("4 stars"), default=0)
    star_5 = models.PositiveIntegerField(_("5 stars"), default=0)
    with_photos = models.PositiveIntegerField(_("reviews with photos"), default=0)
    with_follow_up = models.PositiveIntegerField(_("reviews with a follow-up"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product rating")
        verbose_name_plural = _("product ratings")

    def __str__(self):
        return f"{self.product_id}: {self.count}"


class ShopRating(models.Model):
    """A shop's visible reviews, summed: product stars, logistics and service scores."""

    shop = models.OneToOneField("shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, primary_key=True,
                                related_name="rating")
    count = models.PositiveIntegerField(_("reviews"), default=0)
    stars_total = models.PositiveIntegerField(_("stars in total"), default=0)
    logistics_total = models.PositiveIntegerField(_("logistics in total"), default=0)
    service_total = models.PositiveIntegerField(_("service in total"), default=0)
    good = models.PositiveIntegerField(_("good reviews"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shop rating")
        verbose_name_plural = _("shop ratings")

    def __str__(self):
        return f"{self.shop_id}: {self.count}"
