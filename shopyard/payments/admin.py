from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, money_display, run_service

from . import refunds
from .models import (
    Payment,
    PaymentNotification,
    PaymentStatusChange,
    QueuedNotification,
    Refund,
    RefundLine,
    RefundStatusChange,
    StatementImport,
    StatementMismatch,
)


class PaymentNotificationInline(ReadOnlyInline):
    model = PaymentNotification
    fields = ("received_at", "notification_id", "outcome", "detail")
    readonly_fields = fields


class PaymentStatusChangeInline(ReadOnlyInline):
    model = PaymentStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("reference", "order", "amount_text", "status", "reason", "gateway_reference", "created_at")
    readonly_fields = fields
    amount_text = money_display("amount", _("amount"))


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments change state only through gateway notifications (payments.services)."""

    change_list_template = "payments/admin_payment_change_list.html"  # links the gateway status page
    list_display = ("reference", "user", "gateway", "status", "amount_text", "created_at", "completed_at")
    list_filter = ("status", "gateway", "currency")
    search_fields = ("reference", "user__username", "orders__number")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("reference", "user", "gateway", "status", "amount_text", "order_numbers",
              ("created_at", "completed_at"))
    readonly_fields = ("reference", "user", "gateway", "status", "amount_text", "order_numbers",
                       "created_at", "completed_at")
    amount_text = money_display("amount", _("amount"))
    inlines = [PaymentStatusChangeInline, RefundInline, PaymentNotificationInline]

    @admin.display(description=_("orders"))
    def order_numbers(self, obj):
        return ", ".join(obj.orders.order_by("pk").values_list("number", flat=True))


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "gateway", "notification_id", "payment", "outcome", "detail")
    list_filter = ("outcome", "gateway")
    search_fields = ("notification_id", "payment__reference", "detail")
    list_select_related = ("payment",)
    date_hierarchy = "received_at"


@admin.register(PaymentStatusChange)
class PaymentStatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "payment", "from_status", "to_status", "action", "actor_label", "note")
    list_filter = ("to_status", "action")
    search_fields = ("payment__reference", "note")
    list_select_related = ("payment",)


class RefundStatusChangeInline(ReadOnlyInline):
    model = RefundStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = ("line", "quantity", "amount_text")
    readonly_fields = fields
    show_change_link = False
    amount_text = money_display("amount", _("amount"), currency=lambda obj: obj.refund.currency)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Automatic refunds (a capture for an order that was cancelled or expired
    meanwhile). Failed ones are retried with the action, through the service."""

    list_display = ("reference", "payment", "order", "kind", "amount_text", "status", "attempts", "last_error",
                    "created_at", "completed_at")
    amount_text = money_display("amount", _("amount"))
    shipping_amount_text = money_display("shipping_amount", _("shipping refunded"))
    fields = ("reference", "payment", "order", "kind", "amount_text", "shipping_amount_text", "status", "reason",
              "gateway_reference", "attempts", "last_error", ("created_at", "completed_at"))
    readonly_fields = ("reference", "payment", "order", "kind", "amount_text", "shipping_amount_text", "status", "reason",
                       "gateway_reference",
                       "attempts", "last_error", "created_at", "completed_at")
    list_filter = ("status", "currency")
    search_fields = ("reference", "payment__reference", "order__number", "gateway_reference")
    list_select_related = ("payment", "order")
    date_hierarchy = "created_at"
    inlines = [RefundLineInline, RefundStatusChangeInline]
    actions = ["retry"]

    @admin.action(description=_("Retry the selected failed refunds"))
    def retry(self, request, queryset):
        run_service(self, request, queryset.order_by("pk"),
                    lambda refund: refunds.retry_refund(actor=request.user, refund_id=refund.pk),
                    _("%(n)s refund(s) sent to the gateway again."))


@admin.register(QueuedNotification)
class QueuedNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("queued_at", "gateway", "delivered_at", "attempts", "outcome", "last_error")
    list_filter = ("gateway", "outcome")
    date_hierarchy = "queued_at"


class StatementMismatchInline(ReadOnlyInline):
    model = StatementMismatch
    fields = ("kind", "record_type", "reference", "gateway_reference", "statement_amount_text", "our_amount_text")
    readonly_fields = fields
    show_change_link = False
    statement_amount_text = money_display("statement_amount", _("statement amount"))
    our_amount_text = money_display("our_amount", _("our amount"))


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Imported daily statements; upload new ones on the reconciliation page (/pay/reconciliation/)."""

    list_display = ("statement_date", "gateway", "rows", "matched", "filename", "imported_by", "imported_at")
    list_filter = ("gateway",)
    date_hierarchy = "statement_date"
    inlines = [StatementMismatchInline]
