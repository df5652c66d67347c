"""Flash sales in the operators' admin: sessions and reservations are records
that promotions.flash writes (the seller and operator API); here operators
look, and publish or cancel sessions through the same services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, money_display, run_service

from . import flash
from .models import FlashReservation, FlashSale, FlashSaleItem, FlashSaleStatusChange


class FlashSaleItemInline(ReadOnlyInline):
    model = FlashSaleItem
    fields = ("sku", "flash_price_text", "quantity", "available", "returned", "per_user_limit")
    readonly_fields = fields
    show_change_link = False
    flash_price_text = money_display("flash_price", gettext_lazy("flash price"))


class FlashSaleStatusChangeInline(ReadOnlyInline):
    model = FlashSaleStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


@admin.action(description=gettext_lazy("Publish (set the units aside from stock)"))
def publish_sessions(modeladmin, request, queryset):
    run_service(modeladmin, request, queryset, lambda sale: flash.publish(actor=request.user, sale=sale),
                gettext_lazy("%(n)s sessions published."))


@admin.action(description=gettext_lazy("Cancel (before the start; the units go back to stock)"))
def cancel_sessions(modeladmin, request, queryset):
    run_service(modeladmin, request, queryset, lambda sale: flash.cancel(actor=request.user, sale=sale),
                gettext_lazy("%(n)s sessions cancelled."))


@admin.register(FlashSale)
class FlashSaleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sessions are written through promotions.flash (the seller and operator API):
    here operators look, publish and cancel; every change is in the history."""

    list_display = ("name", "shop", "status", "starts_at", "ends_at")
    list_filter = ("status", "shop")
    search_fields = ("name", "name_en")
    list_select_related = ("shop",)
    date_hierarchy = "starts_at"
    fields = ("name", "name_en", "shop", "status", "starts_at", "ends_at", "created_by", "published_at",
              "ended_at", "cancelled_at")
    readonly_fields = fields
    inlines = [FlashSaleItemInline, FlashSaleStatusChangeInline]
    actions = [publish_sessions, cancel_sessions]


@admin.register(FlashReservation)
class FlashReservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who holds which flash units, and the order made from them (read-only)."""

    list_display = ("item", "user", "quantity", "status", "order", "created_at", "released_at", "release_reason")
    list_filter = ("status",)
    search_fields = ("user__username", "order__number")
    list_select_related = ("item", "user", "order")
    raw_id_fields = ("item", "user", "order")
