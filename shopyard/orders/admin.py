from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline

from .models import Order, OrderLine, OrderStatusChange


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("sku_code", "product_title", "sku_name", "unit_price", "quantity", "line_total")
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """An order is a record of a sale: its amounts and status are read-only
    here; state changes go through orders.services (pay, ship, cancel…)."""

    list_display = ("number", "user", "shop", "status", "total", "currency", "placed_at", "paid_at")
    list_filter = ("status", "shop", "currency")
    search_fields = ("number", "user__username", "user__phone", "lines__sku_code", "checkout_id")
    list_select_related = ("user", "shop")
    raw_id_fields = ("user", "shop")
    date_hierarchy = "placed_at"
    readonly_fields = ("number", "checkout_id", "user", "shop", "status", "currency", "subtotal", "shipping_fee",
                       "total", "shipping_address", "placed_at", "paid_at", "shipped_at", "completed_at",
                       "cancelled_at")
    fieldsets = (
        (None, {"fields": ("number", "checkout_id", "status", ("user", "shop"))}),
        (_("Amounts"), {"fields": (("subtotal", "shipping_fee", "total", "currency"),)}),
        (_("Delivery"), {"fields": ("shipping_address", "note")}),
        (_("Timeline"), {"fields": (("placed_at", "paid_at"), ("shipped_at", "completed_at", "cancelled_at"))}),
    )
    inlines = [OrderLineInline, OrderStatusChangeInline]

    def has_add_permission(self, request):
        return False  # orders are placed through checkout

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("order", "sku_code", "product_title", "sku_name", "unit_price", "quantity", "line_total")
    search_fields = ("order__number", "sku_code", "product_title", "product_title_en")
    list_select_related = ("order",)


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "from_status", "to_status", "action", "actor_label", "note")
    list_filter = ("to_status", "action")
    search_fields = ("order__number", "actor_label", "note")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
