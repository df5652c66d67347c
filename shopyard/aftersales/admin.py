from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, money_display

from .models import Case, CaseEvent, CaseLine, CasePhoto, CreditEntry, Reason, ShopPolicy


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    """The reason list shoppers pick from: operators add, reword, reorder or retire reasons."""

    list_display = ("name", "name_en", "code", "window", "kinds", "position", "active")
    list_editable = ("position", "active")
    list_filter = ("window", "active")
    search_fields = ("code", "name", "name_en")


@admin.register(ShopPolicy)
class ShopPolicyAdmin(admin.ModelAdmin):
    list_display = ("shop", "changed_mind_days", "quality_days", "warranty_days", "price_protection_days",
                    "respond_hours", "return_ship_days", "inspect_days")
    search_fields = ("shop__name",)
    autocomplete_fields = ("shop",)


class CaseLineInline(ReadOnlyInline):
    model = CaseLine
    fields = ("line", "quantity", "amount_text")
    readonly_fields = fields
    amount_text = money_display("amount", _("amount"))


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("created_at", "role", "actor_label", "action", "from_status", "to_status", "note")
    readonly_fields = fields


class CasePhotoInline(ReadOnlyInline):
    model = CasePhoto
    fields = ("created_at", "role", "image", "event")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Cases move only through aftersales.services (disputes: the operator's disputes page)."""

    change_list_template = "aftersales/admin_case_change_list.html"  # links the disputes page
    list_display = ("number", "kind", "status", "shop", "buyer", "requested_text", "approved_text", "deadline",
                    "opened_at")
    list_filter = ("status", "kind", "reason", "seller_missed_deadline", "buyer_missed_deadline")
    search_fields = ("number", "order__number", "buyer__username", "shop__name")
    list_select_related = ("shop", "buyer")
    date_hierarchy = "opened_at"
    requested_text = money_display("requested_amount", _("amount asked"))
    approved_text = money_display("approved_amount", _("amount approved"))
    exclude = ("requested_amount", "approved_amount")
    readonly_fields = ("requested_text", "approved_text")
    inlines = [CaseLineInline, CaseEventInline, CasePhotoInline]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("case", "created_at", "role", "actor_label", "action", "to_status")
    list_filter = ("role", "action")
    search_fields = ("case__number",)
    list_select_related = ("case",)


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "shop", "case", "amount_text", "created_at")
    search_fields = ("user__username", "case__number")
    list_select_related = ("user", "shop", "case")
    amount_text = money_display("amount", _("amount"))
    exclude = ("amount",)
    readonly_fields = ("amount_text",)
