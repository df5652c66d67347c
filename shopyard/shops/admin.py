from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import MoneyAdminMixin, money_display

from .models import Shop, ShopMember


class ShopMemberInline(admin.TabularInline):
    model = ShopMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Shop)
class ShopAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "name_en", "slug", "kind", "status", "shipping_fee_text", "free_shipping_over_text",
                    "product_count", "created_at")
    list_filter = ("kind", "status", "currency")
    search_fields = ("name", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    readonly_fields = ("status", "created_at")
    inlines = [ShopMemberInline]
    shipping_fee_text = money_display("shipping_fee", _("shipping fee"))
    free_shipping_over_text = money_display("free_shipping_over", _("free shipping over"))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_products=Count("products"))

    @admin.display(description=_("products"), ordering="n_products")
    def product_count(self, obj):
        return obj.n_products


@admin.register(ShopMember)
class ShopMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "shop", "role")
    list_filter = ("role", "shop")
    search_fields = ("user__username", "shop__name", "shop__name_en")
    list_select_related = ("user", "shop")
    raw_id_fields = ("user", "shop")
