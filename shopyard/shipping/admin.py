from django.contrib import admin

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline

from .models import Shipment, ShipmentLine, TrackingEvent


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ("line", "quantity")


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ("occurred_at", "code", "location", "description_zh", "description_en", "source", "event_id")


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Parcels are created when the seller ships (shipping.services.ship_parcel); their
    events come from the carrier (webhook or poll)."""

    list_display = ("order", "carrier", "tracking_number", "status", "exception", "shipped_by", "shipped_at")
    list_filter = ("carrier", "status", "exception")
    search_fields = ("tracking_number", "order__number")
    list_select_related = ("order", "shipped_by")
    date_hierarchy = "shipped_at"
    inlines = [ShipmentLineInline, TrackingEventInline]
