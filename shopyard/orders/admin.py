from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, address_text, money_display

from .models import Order, OrderLine, OrderStatusChange


def _order_currency(line):
    return line.order.currency


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("sku_code", "product_title", "sku_name", "unit_price_text", "quantity", "line_total_text")
    readonly_fields = fields
    unit_price_text = money_display("unit_price", _("unit price"), currency=_order_currency)
    line_total_text = money_display("line_total", _("line total"), currency=_order_currency)


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """An order is a record of a sale: its amounts and status are read-only
    here; state changes go through orders.services (pay, ship, cancel…)."""

    list_display = ("number", "user", "shop", "status", "total_text", "placed_at", "paid_at")
    list_filter = ("status", "shop", "currency")
    search_fields = ("number", "user__username", "user__phone", "lines__sku_code", "checkout_id")
    list_select_related = ("user", "shop")
    raw_id_fields = ("user", "shop")
    date_hierarchy = "placed_at"
    readonly_fields = ("number", "checkout_id", "user", "shop", "status", "hold", "currency", "subtotal_text",
                       "shipping_fee_text", "total_text", "address", "placed_at", "paid_at", "shipped_at",
                       "completed_at", "cancelled_at")
    fieldsets = (
        (None, {"fields": ("number", "checkout_id", ("status", "hold"), ("user", "shop"))}),
        (_("Amounts"), {"fields": (("subtotal_text", "shipping_fee_text", "total_text"),)}),
        (_("Delivery"), {"fields": ("address", "note")}),
        (_("Timeline"), {"fields": (("placed_at", "paid_at"), ("shipped_at", "completed_at", "cancelled_at"))}),
    )
    inlines = [OrderLineInline, OrderStatusChangeInline]
    subtotal_text = money_display("subtotal", _("subtotal"))
    shipping_fee_text = money_display("shipping_fee", _("shipping fee"))
    total_text = money_display("total", _("total"))

    @admin.display(description=_("shipping address"))
    def address(self, obj):
        return address_text(obj.shipping_address)

    def has_add_permission(self, request):
        return False  # orders are placed through checkout

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("order", "sku_code", "product_title", "sku_name", "unit_price_text", "quantity", "line_total_text")
    search_fields = ("order__number", "sku_code", "product_title", "product_title_en")
    list_select_related = ("order",)
    fields = ("order", "sku", "sku_code", "product_title", "product_title_en", "sku_name", "sku_name_en",
              "unit_price_text", "quantity", "line_total_text")
    readonly_fields = fields
    unit_price_text = money_display("unit_price", _("unit price"), currency=_order_currency)
    line_total_text = money_display("line_total", _("line total"), currency=_order_currency)


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "from_status", "to_status", "action", "actor_label", "note")
    list_filter = ("to_status", "action")
    search_fields = ("order__number", "actor_label", "note")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
