"""Shops (the platform's own and independent sellers) and their staff."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import application_state
from .roles import Role as MemberRole
from .state import Action
from .state import Status as ShopStatus


class Shop(models.Model):
    class Kind(models.TextChoices):
        SELF_OPERATED = "self_operated", _("Self-operated")
        SELLER = "seller", _("Independent seller")

    Status = ShopStatus

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SELLER)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    description = models.TextField(_("description"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # fees are validated to the currency's minor unit (clean(), services.check_fees): the
    # amount calculator (checkout.pricing) never has to round a fee the seller did not see
    shipping_fee = models.DecimalField(_("shipping fee"), max_digits=20, decimal_places=4, default=Decimal("0"))
    free_shipping_over = models.DecimalField(
        _("free shipping over"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["id"]

    def __str__(self):
        return self.name

    def clean(self):
        from .services import fee_errors

        errors = fee_errors(currency=self.currency, shipping_fee=self.shipping_fee,
                            free_shipping_over=self.free_shipping_over)
        if errors:
            raise ValidationError(errors)

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class ShopStatusChange(models.Model):
    """Who suspended or reopened a shop, when, and why (the operators' history)."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=20, choices=ShopStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=ShopStatus.choices)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop status change")
        verbose_name_plural = _("shop status changes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.shop}: {self.from_status} → {self.to_status}"


class ShopMember(models.Model):
    """A user working for a shop; what they may do is their role's row in shops.roles.PERMISSIONS."""

    Role = MemberRole

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="shop_memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("shop member")
        verbose_name_plural = _("shop members")
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="uniq_shop_member"),
            models.CheckConstraint(condition=models.Q(role__in=MemberRole.values), name="shop_member_known_role"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.shop} ({self.role})"


# --- shop decoration (店铺装修) ---------------------------------------------------
# The seller's own face of the shop: a profile (logo, zh/en description, service
# promises), the seller's own category tree (distinct from the platform's), and a
# home page composed from blocks. Blocks exist twice, as the draft the seller edits
# and the published copy shoppers see; publishing replaces the published copy with
# the draft (shops.decoration.publish). Rules live in shops/decoration.py.

SERVICE_PROMISES = {
    "returns_7d": _("7-day returns, no reason needed"),
    "ships_48h": _("Ships within 48 hours"),
    "genuine": _("Genuine goods guaranteed"),
    "free_shipping": _("Free shipping"),
    "warranty": _("Nationwide warranty"),
    "invoice": _("Invoices issued"),
}


class ShopProfile(models.Model):
    """What a shop's home page says about it beyond Shop's own columns (the
    Chinese description stays on Shop.description, where listings read it)."""

    shop = models.OneToOneField(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, primary_key=True,
                                related_name="profile")
    logo = models.ImageField(_("logo"), upload_to="shops/logos/", blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    promises = models.JSONField(_("service promises"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shop profile")
        verbose_name_plural = _("shop profiles")

    def __str__(self):
        return str(self.shop)


class ShopCategory(models.Model):
    """A node of the seller's own category tree (two levels), holding products of the same shop."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="shop_categories")
    parent = models.ForeignKey("self", verbose_name=_("parent"), on_delete=models.CASCADE, null=True, blank=True,
                               related_name="children")
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    products = models.ManyToManyField("catalog.Product", verbose_name=_("products"), blank=True,
                                      related_name="shop_categories")

    class Meta:
        verbose_name = _("shop category")
        verbose_name_plural = _("shop categories")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class ShopImage(models.Model):
    """A picture the seller uploaded for the home page (banner slides)."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="decoration_images")
    image = models.ImageField(_("image"), upload_to="shops/banners/")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop image")
        verbose_name_plural = _("shop images")
        ordering = ["-id"]

    def __str__(self):
        return self.image.name


class ShopPage(models.Model):
    """The state of a shop's home page: when the draft last changed and when it was published."""

    shop = models.OneToOneField(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, primary_key=True,
                                related_name="page")
    draft_updated_at = models.DateTimeField(_("draft changed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"),
                                     on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("shop page")
        verbose_name_plural = _("shop pages")

    def __str__(self):
        return str(self.shop)

    @property
    def has_unpublished_changes(self) -> bool:
        return self.draft_updated_at is not None and (
            self.published_at is None or self.draft_updated_at > self.published_at)


class ShopBlock(models.Model):
    """One block of a shop's home page, in the draft or the published version."""

    class Version(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Kind(models.TextChoices):
        BANNER = "banner", _("Banner carousel")
        PRODUCT_GRID = "product_grid", _("Product grid")
        NOTICE = "notice", _("Notice")
        COUPONS = "coupons", _("Coupons")

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="blocks")
    version = models.CharField(_("version"), max_length=10, choices=Version.choices, default=Version.DRAFT)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    visible = models.BooleanField(_("visible"), default=True)
    title = models.CharField(_("title"), max_length=60, blank=True)
    title_en = models.CharField(_("English title"), max_length=60, blank=True)
    # kind-specific settings, checked by shops.decoration.clean_config
    config = models.JSONField(_("settings"), default=dict, blank=True)

    class Meta:
        verbose_name = _("shop page block")
        verbose_name_plural = _("shop page blocks")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["shop", "version", "position"], name="shopblock_shop_version")]

    def __str__(self):
        return f"{self.shop} · {self.kind} ({self.version})"


class ShopFollow(models.Model):
    """A shopper follows (favourites) a shop, as catalog.Favourite does for products."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="followed_shops")
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("followed shop")
        verbose_name_plural = _("followed shops")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="uniq_shop_follow")]

    def __str__(self):
        return f"{self.user} ♥ {self.shop}"
# --- seller onboarding ---------------------------------------------------------


class ShopApplication(models.Model):
    """A user's request to open a shop, reviewed by an operator (application_state.py).

    The shop name is unique, ignoring case, among pending applications (the
    constraint below) and against existing shops (checked by the services when
    submitting and again when approving)."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual (C2C)")
        COMPANY = "company", _("Company (B2C)")

    class BusinessCategory(models.TextChoices):
        DIGITAL = "digital", _("Phones and electronics")
        HOME = "home", _("Home and furniture")
        FASHION = "fashion", _("Clothing and shoes")
        FOOD = "food", _("Food and drink")
        BEAUTY = "beauty", _("Beauty and personal care")
        BOOKS = "books", _("Books and stationery")
        SPORTS = "sports", _("Sports and outdoors")
        OTHER = "other", _("Other")

    Status = application_state.Status

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.CASCADE,
                                  related_name="shop_applications")
    kind = models.CharField(_("applying as"), max_length=20, choices=Kind.choices)
    shop_name = models.CharField(_("shop name"), max_length=100)
    business_category = models.CharField(_("category of business"), max_length=20, choices=BusinessCategory.choices)
    contact_name = models.CharField(_("contact name"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    id_number = models.CharField(_("identity or business-licence number"), max_length=18)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    reason = models.CharField(_("operator's note"), max_length=500, blank=True)
    shop = models.OneToOneField(Shop, verbose_name=_("shop"), on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="application")
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shop application")
        verbose_name_plural = _("shop applications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(models.functions.Lower("shop_name"),
                                    condition=models.Q(status__in=application_state.PENDING),
                                    name="uniq_pending_application_shop_name"),
            models.UniqueConstraint(fields=["applicant"], condition=models.Q(status__in=application_state.PENDING),
                                    name="uniq_pending_application_per_user"),
        ]

    def __str__(self):
        return f"{self.shop_name} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status in application_state.PENDING


class ShopApplicationDocument(models.Model):
    """An identity card side, a business licence or another supporting file.

    Stored under a random name through Django storage and served only through
    views that check the caller is the applicant or an operator."""

    class Kind(models.TextChoices):
        ID_FRONT = "id_front", _("Identity card, front")
        ID_BACK = "id_back", _("Identity card, back")
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        OTHER = "other", _("Other supporting document")

    application = models.ForeignKey(ShopApplication, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="documents")
    kind = models.CharField(_("document"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="shop-applications/%Y/%m/", max_length=200)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")
        ordering = ["id"]

    def __str__(self):
        return f"{self.application_id}: {self.get_kind_display()}"


class ShopApplicationEvent(models.Model):
    """The application's history: each submission and review, with its reason."""

    application = models.ForeignKey(ShopApplication, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="history")
    from_status = models.CharField(_("from"), max_length=20, choices=application_state.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=application_state.Status.choices)
    action = models.CharField(_("action"), max_length=20, choices=application_state.Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("application history")
        verbose_name_plural = _("application history")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.application_id}: {self.from_status} → {self.to_status}"
