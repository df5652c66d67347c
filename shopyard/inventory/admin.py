from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin

from . import services
from .models import StockLevel, StockMovement


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    """Saving a stock level goes through inventory.set_stock, so every change
    is a conditional update with a ledger row, like the console's."""

    list_display = ("sku", "product", "shop", "quantity")
    list_filter = ("sku__product__shop",)
    search_fields = ("sku__code", "sku__product__title", "sku__product__title_en")
    list_select_related = ("sku__product__shop",)
    raw_id_fields = ("sku",)

    @admin.display(description=_("product"), ordering="sku__product__title")
    def product(self, obj):
        return obj.sku.product

    @admin.display(description=_("shop"))
    def shop(self, obj):
        return obj.sku.product.shop

    def get_readonly_fields(self, request, obj=None):
        return ("sku",) if obj else ()

    def save_model(self, request, obj, form, change):
        level = services.set_stock(sku=obj.sku, quantity=form.cleaned_data["quantity"], actor=request.user)
        obj.quantity = level.quantity

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "sku", "delta", "reason", "order", "actor")
    list_filter = ("reason",)
    search_fields = ("sku__code", "order__number", "actor__username")
    list_select_related = ("sku", "order", "actor")
    date_hierarchy = "created_at"
