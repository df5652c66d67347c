from django.contrib import admin

from shopyard.core.admin import ReadOnlyAdminMixin

from .models import Shipment


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shipments are created when the seller ships (orders.services.ship)."""

    list_display = ("order", "carrier", "tracking_number", "shipped_by", "shipped_at")
    list_filter = ("carrier",)
    search_fields = ("tracking_number", "order__number")
    list_select_related = ("order", "shipped_by")
    date_hierarchy = "shipped_at"
