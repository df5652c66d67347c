from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, money_display

from .models import CampaignLink, ChannelTouch, OrderAttribution


@admin.register(CampaignLink)
class CampaignLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sellers create links in their console (channels.services.create_campaign_link)."""

    list_display = ("name", "shop", "source", "medium", "campaign", "target", "product", "code", "created_at")
    list_filter = ("source", "target")
    search_fields = ("name", "code", "campaign", "shop__name")
    list_select_related = ("shop", "product")


@admin.register(ChannelTouch)
class ChannelTouchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the middleware after a tagged visit."""

    list_display = ("created_at", "source", "medium", "campaign", "link_code", "shop", "user", "landing_path")
    list_filter = ("source",)
    search_fields = ("campaign", "link_code", "landing_path")
    list_select_related = ("shop", "user")
    date_hierarchy = "created_at"


@admin.register(OrderAttribution)
class OrderAttributionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written when `order.placed` is delivered (last touch within the window)."""

    list_display = ("order", "shop", "source", "medium", "campaign", "total_text", "touched_at", "placed_at")
    list_filter = ("source",)
    search_fields = ("order__number", "campaign", "link_code")
    list_select_related = ("order", "shop")
    date_hierarchy = "placed_at"
    fields = ("order", "shop", "touch", "source", "medium", "campaign", "link_code", "total_text", "touched_at",
              "placed_at")
    readonly_fields = ("total_text",)
    total_text = money_display("total", _("order total"))
