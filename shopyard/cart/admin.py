from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import money_display

from .models import Cart, CartLine


def _line_currency(line):
    return line.sku.product.currency


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    raw_id_fields = ("sku",)
    fields = ("sku", "quantity", "selected", "added_price_text", "added_at")
    readonly_fields = ("added_price_text", "added_at")
    added_price_text = money_display("added_price", _("price when added"), currency=_line_currency)


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "session_key", "line_count", "updated_at")
    list_filter = (("user", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "session_key")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("updated_at",)
    inlines = [CartLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_lines=Count("lines"))

    @admin.display(description=_("lines"), ordering="n_lines")
    def line_count(self, obj):
        return obj.n_lines


@admin.register(CartLine)
class CartLineAdmin(admin.ModelAdmin):
    list_display = ("cart", "sku", "quantity", "selected", "added_price_text", "added_at")
    search_fields = ("sku__code", "cart__user__username")
    list_select_related = ("cart", "sku", "sku__product")
    raw_id_fields = ("cart", "sku")
    fields = ("cart", "sku", "quantity", "selected", "added_price_text", "added_at")
    readonly_fields = ("added_price_text", "added_at")
    added_price_text = money_display("added_price", _("price when added"), currency=_line_currency)
