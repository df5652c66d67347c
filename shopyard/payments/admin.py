from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, money_display

from .models import Payment, PaymentNotification, PaymentStatusChange


class PaymentNotificationInline(ReadOnlyInline):
    model = PaymentNotification
    fields = ("received_at", "notification_id", "outcome", "detail")
    readonly_fields = fields


class PaymentStatusChangeInline(ReadOnlyInline):
    model = PaymentStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments change state only through gateway notifications (payments.services)."""

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
    inlines = [PaymentStatusChangeInline, PaymentNotificationInline]

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
    list_display = ("created_at", "payment", "from_status", "to_status", "action", "note")
    list_filter = ("to_status", "action")
    search_fields = ("payment__reference", "note")
    list_select_related = ("payment",)
