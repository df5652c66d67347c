from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import MoneyAdminMixin, image_preview, money_display, run_service
from shopyard.core.events import emit

from . import services
from .models import (
    IMAGE_ORDER,
    AttributeOption,
    Brand,
    Category,
    Favourite,
    Product,
    ProductAttribute,
    ProductImage,
    Sku,
)


def _stock_of(sku) -> int:
    stock = getattr(sku, "stock", None) if sku.pk else None  # no StockLevel row yet: 0
    return stock.quantity if stock is not None else 0


class ChildCategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    extra = 0
    fields = ("name", "name_en", "slug", "position")
    prepopulated_fields = {"slug": ("name_en",)}
    verbose_name_plural = _("sub-categories")


class TopLevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("top", _("Top level")), ("child", _("Sub-category"))]

    def queryset(self, request, queryset):
        if self.value() == "top":
            return queryset.filter(parent__isnull=True)
        if self.value() == "child":
            return queryset.filter(parent__isnull=False)
        return queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "parent", "slug", "position", "product_count")
    list_editable = ("position",)
    list_filter = (TopLevelFilter, "parent")
    search_fields = ("name", "name_en", "slug")
    list_select_related = ("parent",)
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = [ChildCategoryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_products=Count("products"))

    @admin.display(description=_("products"), ordering="n_products")
    def product_count(self, obj):
        return obj.n_products

    def save_model(self, request, obj, form, change):
        old_slug = form.initial.get("slug") if change else None
        super().save_model(request, obj, form, change)
        if old_slug and old_slug != obj.slug:  # the storefront keeps the old slug for a 301
            emit("category_slug.changed", category_id=obj.pk, old_slug=old_slug, slug=obj.slug,
                 actor_id=request.user.pk)
        # a name, a parent or a position shows at once on listings and product pages (a catalogue event)
        emit("category.changed", category_id=obj.pk, actor_id=request.user.pk)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():  # its sub-categories (ChildCategoryInline)
            emit("category.changed", category_id=form.instance.pk, actor_id=request.user.pk)

    def delete_model(self, request, obj):
        category_id = obj.pk
        super().delete_model(request, obj)
        emit("category.changed", category_id=category_id, actor_id=request.user.pk)

    def delete_queryset(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for category_id in ids:
            emit("category.changed", category_id=category_id, actor_id=request.user.pk)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":  # the tree has two levels: parents are top-level
            kwargs["queryset"] = Category.objects.filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en")
    search_fields = ("name", "name_en")


class SkuInline(MoneyAdminMixin, admin.TabularInline):
    model = Sku
    extra = 0
    fields = ("code", "name", "name_en", "price", "is_active", "stock_quantity")
    readonly_fields = ("stock_quantity",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock")

    @admin.display(description=_("stock"))
    def stock_quantity(self, obj):
        return _stock_of(obj)


class ProductImageInline(admin.TabularInline):
    """Pictures are uploaded through the seller console (checked, thumbnailed);
    here they can be reordered or removed."""

    model = ProductImage
    extra = 0
    fields = ("preview", "image", "position")
    readonly_fields = ("preview", "image")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("thumbnail"))
    def preview(self, obj):
        return image_preview(obj.thumbnail or obj.image)


class ProductAttributeInline(admin.TabularInline):
    model = ProductAttribute
    extra = 0
    fields = ("name", "name_en", "position")
    show_change_link = True


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("cover", "title", "title_en", "shop", "category", "status", "min_price_text",
                    "max_price_text", "sales_count", "created_at")
    list_display_links = ("cover", "title")
    list_filter = ("status", "shop", "category__parent", "category", "brand")
    search_fields = ("title", "title_en", "skus__code")
    list_select_related = ("shop", "category")
    raw_id_fields = ("shop",)
    autocomplete_fields = ("brand",)
    date_hierarchy = "created_at"
    readonly_fields = ("status", "published_at", "min_price_text", "max_price_text", "sales_count",
                       "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("shop", "category", "brand", "status")}),
        (_("Chinese"), {"fields": ("title", "description")}),
        (_("English"), {"fields": ("title_en", "description_en")}),
        (_("Figures"), {"fields": (("min_price_text", "max_price_text"), "sales_count",
                                   ("created_at", "updated_at", "published_at"))}),
    )
    inlines = [SkuInline, ProductAttributeInline, ProductImageInline]
    min_price_text = money_display("min_price", _("lowest price"))
    max_price_text = money_display("max_price", _("highest price"))
    actions = ["publish", "unpublish"]

    def get_queryset(self, request):
        from django.db.models import Prefetch

        return super().get_queryset(request).prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by(*IMAGE_ORDER), to_attr="image_list")
        )

    @admin.display(description=_("picture"))
    def cover(self, obj):
        images = getattr(obj, "image_list", None) or []
        return image_preview(images[0].thumbnail if images else None, size=48)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.refresh_price_range(form.instance)  # SKU prices may have changed
        # its SKUs switched on or off, or moved to another category: the listings' kept counts
        services.recount_categories({form.initial.get("category"), form.instance.category_id})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.recount_categories([obj.category_id])

    def delete_queryset(self, request, queryset):
        categories = set(queryset.values_list("category_id", flat=True))
        super().delete_queryset(request, queryset)
        services.recount_categories(categories)

    def _set_published(self, request, queryset, published):
        run_service(
            self, request, queryset.select_related("shop"),
            lambda p: services.set_published(actor=request.user, shop=p.shop, product_id=p.pk, published=published),
            _("%(n)s product(s) published.") if published else _("%(n)s product(s) unpublished."),
        )

    @admin.action(description=_("Publish the selected products"))
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description=_("Unpublish the selected products"))
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)


class AttributeOptionInline(admin.TabularInline):
    model = AttributeOption
    extra = 0
    fields = ("value", "value_en", "position")


@admin.register(ProductAttribute)
class ProductAttributeAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "product", "position", "option_count")
    search_fields = ("name", "name_en", "product__title", "product__title_en")
    list_select_related = ("product",)
    raw_id_fields = ("product",)
    inlines = [AttributeOptionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_options=Count("options"))

    @admin.display(description=_("options"), ordering="n_options")
    def option_count(self, obj):
        return obj.n_options


@admin.register(AttributeOption)
class AttributeOptionAdmin(admin.ModelAdmin):
    list_display = ("value", "value_en", "attribute", "position")
    search_fields = ("value", "value_en", "attribute__name", "attribute__product__title")
    list_select_related = ("attribute",)
    raw_id_fields = ("attribute",)


@admin.register(Sku)
class SkuAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "product", "name", "name_en", "price_text", "stock_quantity", "is_active")
    list_filter = ("is_active", "product__shop")
    search_fields = ("code", "name", "name_en", "product__title", "product__title_en")
    list_select_related = ("product", "stock")
    raw_id_fields = ("product", "options")
    price_text = money_display("price", _("price"), currency=lambda sku: sku.product.currency)

    @admin.display(description=_("stock"), ordering="stock__quantity")
    def stock_quantity(self, obj):
        return _stock_of(obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.refresh_price_range(obj.product)
        # switched on or off, or given to another product: the listings' kept counts
        left = Product.objects.filter(pk=form.initial.get("product")).values_list("category_id", flat=True)
        services.recount_categories({obj.product.category_id, *left})


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ("preview", "product", "position", "image")
    search_fields = ("product__title", "product__title_en", "image")
    list_select_related = ("product",)
    raw_id_fields = ("product",)
    readonly_fields = ("preview", "image", "thumbnail")
    fields = ("product", "preview", "image", "thumbnail", "position")

    def has_add_permission(self, request):
        return False  # uploads go through the seller console, which checks and thumbnails them

    @admin.display(description=_("thumbnail"))
    def preview(self, obj):
        return image_preview(obj.thumbnail or obj.image)


@admin.register(Favourite)
class FavouriteAdmin(admin.ModelAdmin):
    list_display = ("user", "product", "created_at")
    search_fields = ("user__username", "product__title", "product__title_en")
    list_select_related = ("user", "product")
    raw_id_fields = ("user", "product")
    date_hierarchy = "created_at"
