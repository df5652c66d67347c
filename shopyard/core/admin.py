"""Operator admin for cross-cutting records, plus helpers the app admins share.

Admin pages edit data; they never hold business rules. Actions call one
service each, and status fields are read-only because state changes go
through the services' state machines."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shopyard.core.errors import DomainError
from shopyard.core.money import format_price

from . import events
from .models import IdempotencyRecord, OutboxDelivery, OutboxEvent

admin.site.site_header = _("Shopyard operator console")
admin.site.site_title = _("Shopyard admin")
admin.site.index_title = _("Platform administration")


class ReadOnlyAdminMixin:
    """Records that only services write (ledgers, history, notifications):
    the operator can look and search, not add, edit or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    show_change_link = True


def run_service(modeladmin, request, queryset, call, done_message):
    """Call `call(obj)` for each selected object; report successes and each
    DomainError as a message instead of a 500."""
    ok = 0
    for obj in queryset:
        try:
            call(obj)
            ok += 1
        except DomainError as exc:
            details = [str(m) for msgs in exc.fields.values() for m in (msgs if isinstance(msgs, list | tuple) else [msgs])]
            modeladmin.message_user(request, f"{obj}: {' '.join(details) or exc.message}", level=messages.ERROR)
    if ok:
        modeladmin.message_user(request, done_message % {"n": ok}, level=messages.SUCCESS)


def image_preview(field, size=64):
    if not field:
        return "—"
    try:
        url = field.url
    except ValueError:
        return "—"
    return format_html('<img src="{}" alt="" style="width:{}px;height:{}px;object-fit:cover;border-radius:4px">',
                       url, size, size)


class OutboxDeliveryInline(ReadOnlyInline):
    model = OutboxDelivery
    fields = ("subscriber", "status", "attempts", "next_attempt_at", "delivered_at", "last_error")
    readonly_fields = fields


# --- money and addresses as people read them ---------------------------------


def money_display(field: str, description, *, currency=lambda obj: obj.currency, ordering=None):
    """An admin column or read-only field showing `field` with its currency's
    precision and symbol ("¥59.90"), not as stored ("59.9000").
    Use as a class attribute: `total_text = money_display("total", _("total"))`."""

    def show(modeladmin, obj):
        amount = getattr(obj, field, None)
        return "—" if amount is None else format_price(amount, currency(obj))

    show.__name__ = f"{field}_text"
    return admin.display(description=description, ordering=ordering or field)(show)


def address_text(address) -> str:
    """A postal address snapshot (a dict) as one line of text."""
    if not address:
        return "—"
    if not isinstance(address, dict):
        return str(address)
    who = " ".join(str(address.get(k, "")) for k in ("recipient", "phone")).strip()
    where = " ".join(str(address.get(k, "")) for k in ("province", "city", "district", "detail") if address.get(k))
    postcode = f" ({address['postcode']})" if address.get("postcode") else ""
    return ", ".join(part for part in (who, f"{where}{postcode}".strip()) if part)


class MoneyInput(forms.NumberInput):
    """Shows a stored amount without the storage's trailing zeros (59.9000 →
    59.90; a finer amount such as 0.005 keeps its digits, so nothing is hidden)
    and steps by a cent rather than by the storage's 0.0001."""

    def __init__(self, attrs=None):
        super().__init__({"step": "0.01", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            places = max(2, -value.normalize().as_tuple().exponent)
            value = value.quantize(Decimal(1).scaleb(-places))
        return super().format_value(value)


class MoneyAdminMixin:
    """Admins (and inlines) whose forms edit amounts: money inputs show them
    with the currency's precision."""

    formfield_overrides = {models.DecimalField: {"widget": MoneyInput}}


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "name", "status", "created_at", "dispatched_at")
    list_filter = ("status", "name")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    readonly_fields = ("subscribed",)
    inlines = [OutboxDeliveryInline]

    @admin.display(description=_("subscribers"))
    def subscribed(self, obj):
        """Who the event goes to: an event delivered to all of them at once has no delivery rows
        below (they are written when one fails), so the page names them."""
        return ", ".join(events.subscribers(obj.name)) or "—"


@admin.action(description=_("Retry the selected deliveries now"))
def retry_deliveries(modeladmin, request, queryset):
    count = events.retry(queryset.values_list("pk", flat=True), actor=request.user)
    modeladmin.message_user(request, _("%(n)s deliveries put back for retry.") % {"n": count}, level=messages.SUCCESS)


@admin.register(OutboxDelivery)
class OutboxDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Where an operator finds failing subscribers and dead letters, and
    retries them once the cause is fixed."""

    list_display = ("id", "event", "subscriber", "status", "attempts", "next_attempt_at", "delivered_at", "error_line")
    list_filter = ("status", "subscriber", "event__name")
    search_fields = ("subscriber", "event__name", "last_error")
    list_select_related = ("event",)
    actions = [retry_deliveries]

    @admin.display(description=_("last error"))
    def error_line(self, obj):
        lines = [line for line in obj.last_error.strip().splitlines() if line.strip()]
        return lines[-1][:120] if lines else "—"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key", "scope", "user", "created_at")
    list_filter = ("scope",)
    search_fields = ("key", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
