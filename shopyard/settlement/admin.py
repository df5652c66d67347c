"""The ledger and statements in the admin, read-only: only settlement.services write them
(the operator's statement and rate pages are at /settlement/)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, money_display

from .models import Entry, Posting, Statement, StatementStatusChange


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ("account", "kind", "amount_text", "shop", "order_line")
    readonly_fields = fields
    amount_text = money_display("amount", _("amount"))
    show_change_link = False


class StatementStatusChangeInline(ReadOnlyInline):
    model = StatementStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "shop", "period_start", "period_end", "status", "payable_text", "paid_at")
    list_filter = ("status",)
    search_fields = ("shop__name", "payout_reference")
    list_select_related = ("shop",)
    fields = ("shop", "currency", "period_start", "period_end", "status", "order_count", "sales_text",
              "platform_discounts_text", "commission_text", "commission_returned_text", "refunds_text",
              "payable_text", "closed_at", "paid_at", "paid_by", "payout_reference")
    readonly_fields = fields
    sales_text = money_display("sales", _("sales"))
    platform_discounts_text = money_display("platform_discounts", _("platform-funded discounts"))
    commission_text = money_display("commission", _("commission"))
    commission_returned_text = money_display("commission_returned", _("commission returned"))
    refunds_text = money_display("refunds", _("refunds"))
    payable_text = money_display("payable", _("amount payable"))
    inlines = [StatementStatusChangeInline]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key", "source", "shop", "order", "rate", "statement", "created_at")
    list_filter = ("source",)
    search_fields = ("key", "order__number")
    list_select_related = ("shop", "order", "statement")
    inlines = [EntryInline]
