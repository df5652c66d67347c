"""Operator admin for cross-cutting records, plus helpers the app admins share.

Admin pages edit data; they never hold business rules. Actions call one
service each, and status fields are read-only because state changes go
through the services' state machines."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shopyard.core.errors import DomainError

from .models import IdempotencyRecord, OutboxEvent

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


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "name", "created_at", "dispatched_at", "attempts")
    list_filter = ("name", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    date_hierarchy = "created_at"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key", "scope", "user", "created_at")
    list_filter = ("scope",)
    search_fields = ("key", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
