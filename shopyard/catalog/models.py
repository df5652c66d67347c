"""Categories, brands, products, attributes, SKUs and images.

Text content is bilingual: the base field holds Chinese, `*_en` English.
Products keep denormalised `min_price`, `max_price` and `sales_count` so
listing pages sort and render without touching SKUs.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from shopyard.core.i18n import localized
from shopyard.shops.models import Shop


class Category(models.Model):
    parent = models.ForeignKey("self", null=True, blank=True, verbose_name=_("parent category"), on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def label(self):
        return localized(self, "name")


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products")
    brand = models.ForeignKey(Brand, null=True, blank=True, verbose_name=_("brand"), on_delete=models.SET_NULL, related_name="products")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    # the URL slug (pinyin of the title, shopyard.core.slugs), set by the catalogue services;
    # the product's URL is /p/<id>-<slug>/ so a stale slug redirects (storefront.seo)
    slug = models.SlugField(_("slug"), max_length=100, blank=True)
    # what search engines show; blank: the title and the start of the description
    seo_title = models.CharField(_("SEO title"), max_length=120, blank=True)
    seo_description = models.CharField(_("SEO description"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    min_price = models.DecimalField(_("lowest price"), max_digits=20, decimal_places=4, default=Decimal("0"))
    max_price = models.DecimalField(_("highest price"), max_digits=20, decimal_places=4, default=Decimal("0"))
    sales_count = models.PositiveIntegerField(_("sales"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # the shop's freight template (shipping.queries.quote); none: the shop's flat fee rule
    freight_template = models.ForeignKey("shipping.FreightTemplate", null=True, blank=True,
                                         verbose_name=_("freight template"), on_delete=models.SET_NULL,
                                         related_name="products")

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-id"]
        indexes = [
            # a category's listing in each sort (catalog.queries.SORTS), the id that breaks ties
            # included: a page, a deep one too, is read along the index in exactly the order
            # shown, never sorted (SQLite used to sort ties in a temporary b-tree, and without
            # the id it preferred the whole catalogue's sales index for a category by sales)
            models.Index(fields=["status", "category", "-created_at", "-id"], name="product_cat_newest"),
            models.Index(fields=["status", "category", "min_price", "id"], name="product_cat_min_price"),
            models.Index(fields=["status", "category", "-sales_count", "-id"], name="product_cat_sold"),
            models.Index(fields=["shop", "status"], name="product_shop_status"),
            # the whole catalogue by price, sales or date (the home page's, the API's and search's
            # listings): a page is read along the index instead of sorting every visible product
            models.Index(fields=["status", "min_price", "id"], name="product_price"),
            models.Index(fields=["status", "-sales_count", "-id"], name="product_sales"),
            models.Index(fields=["status", "-created_at", "-id"], name="product_newest"),
        ]

    def __str__(self):
        return self.title

    @property
    def label(self):
        return localized(self, "title")

    @property
    def body(self):
        return localized(self, "description")

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED


class CategoryCount(models.Model):
    """How many of a shop's products in a category a shopper may see, as far as the products
    themselves decide (published, with an active SKU: catalog.queries.listed_products); the
    shop's own status is applied when the count is read (queries.visible_count), so suspending
    or reopening a shop changes no row here. A listing's "Page 3 of 348" adds up a few of these
    rows instead of probing every visible product of the category (issue 12: at 100,000
    products that count was the part of a listing and of the API list that grew with the
    catalogue). Rows are recomputed, never incremented (services.recount_categories), by every
    write that can change what they count, and rebuilt by a periodic job (rebuild_category_counts)."""

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    products = models.PositiveIntegerField(_("visible products"), default=0)

    class Meta:
        verbose_name = _("category count")
        verbose_name_plural = _("category counts")
        constraints = [models.UniqueConstraint(fields=["category", "shop"], name="uniq_category_count")]

    def __str__(self):
        return f"{self.category_id}/{self.shop_id}: {self.products}"


class ProductAttribute(models.Model):
    """A dimension SKUs vary on (colour, size, capacity…)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product attribute")
        verbose_name_plural = _("product attributes")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="uniq_product_attribute")]

    def __str__(self):
        return self.name

    @property
    def label(self):
        return localized(self, "name")


class AttributeOption(models.Model):
    attribute = models.ForeignKey(ProductAttribute, verbose_name=_("attribute"), on_delete=models.CASCADE, related_name="options")
    value = models.CharField(_("value"), max_length=50)
    value_en = models.CharField(_("English value"), max_length=50, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("attribute option")
        verbose_name_plural = _("attribute options")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["attribute", "value"], name="uniq_attribute_option")]

    def __str__(self):
        return self.value

    @property
    def label(self):
        return localized(self, "value")


class Sku(models.Model):
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(_("SKU code"), max_length=64, unique=True)
    price = models.DecimalField(_("price"), max_digits=20, decimal_places=4)
    options = models.ManyToManyField(AttributeOption, blank=True, related_name="skus", verbose_name=_("options"))
    name = models.CharField(_("name"), max_length=200, blank=True, help_text=_("e.g. 红色 / M"))
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # what a weight- or volume-based freight template counts per unit; blank counts as zero
    weight = models.DecimalField(_("weight (kg)"), max_digits=12, decimal_places=3, null=True, blank=True)
    volume = models.DecimalField(_("volume (m³)"), max_digits=12, decimal_places=6, null=True, blank=True)
    # the picture shown when a shopper picks this SKU (one of its product's images)
    image = models.ForeignKey("ProductImage", null=True, blank=True, verbose_name=_("image"),
                              on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(price__gte=0), name="sku_price_not_negative")]
        indexes = [
            # "has an active SKU" (catalog.queries.visible_products) answered from the index alone:
            # PostgreSQL then probes it per listed product instead of hashing every active SKU of
            # the catalogue for each listing page and count (O(catalogue) -> O(page))
            models.Index(fields=["product"], condition=models.Q(is_active=True), name="sku_active_product"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def label(self):
        return localized(self, "name")


# The one home of the cover rule: a product's cover is its first image in this
# order (the seller sets it by reordering; new uploads go to the end).
IMAGE_ORDER = ("position", "id")


class ProductImage(models.Model):
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to="products/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="products/thumbs/%Y/%m/", blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = list(IMAGE_ORDER)

    def __str__(self):
        return self.image.name


class Favourite(models.Model):
    user = models.ForeignKey("accounts.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="favourites")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("favourite")
        verbose_name_plural = _("favourites")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="uniq_favourite")]

    def __str__(self):
        return f"{self.user} ♥ {self.product}"


class CatalogImport(models.Model):
    """An uploaded import file that passed its dry run, kept so that the
    confirmation imports exactly the file the seller saw checked: the token
    is the only handle, it works for its shop and uploader only, for a short
    time (catalog.bulk.IMPORT_TTL), and once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Checked, waiting for confirmation")
        APPLIED = "applied", _("Imported")

    token = models.CharField(_("token"), max_length=64, unique=True)
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey("accounts.User", verbose_name=_("uploaded by"), on_delete=models.CASCADE,
                                   related_name="+")
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    data = models.BinaryField(_("file"))
    summary = models.JSONField(_("summary"), default=dict)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("catalogue import")
        verbose_name_plural = _("catalogue imports")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.shop_id} {self.filename} ({self.status})"
