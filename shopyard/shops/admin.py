from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopyard.core.admin import MoneyAdminMixin, ReadOnlyInline, money_display
from shopyard.core.errors import DomainError
from shopyard.core.events import emit

from . import services
from .models import (
    Shop,
    ShopApplication,
    ShopApplicationDocument,
    ShopApplicationEvent,
    ShopMember,
    ShopStatusChange,
)


class ShopMemberInline(admin.TabularInline):
    model = ShopMember
    extra = 0
    raw_id_fields = ("user",)


class ShopStatusChangeInline(ReadOnlyInline):
    model = ShopStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "reason")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = gettext_lazy("Status history")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=services.MAX_REASON_LENGTH,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


def _status_action(modeladmin, request, queryset, *, service, title, done):
    """Ask for a reason on an intermediate page, then call the service once per shop."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        changed = 0
        for shop in queryset:
            try:
                service(actor=request.user, shop_id=shop.pk, reason=form.cleaned_data["reason"])
                changed += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{shop}: {exc.message}", messages.ERROR)
        if changed:
            modeladmin.message_user(request, done % {"n": changed}, messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "form": form, "shops": queryset, "action": request.POST.get("action", ""),
        "opts": modeladmin.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/shops/shop/status_reason.html", context)


@admin.action(description=gettext_lazy("Suspend the selected shops (asks for a reason)"))
def suspend_shops(modeladmin, request, queryset):
    return _status_action(
        modeladmin, request, queryset, service=services.suspend_shop, title=_("Suspend shops"),
        done=_("%(n)s shop(s) suspended: their products are hidden and their consoles are read-only "
               "(paid orders cannot ship until the shop is reopened)."),
    )


@admin.action(description=gettext_lazy("Reopen the selected shops (asks for a reason)"))
def reopen_shops(modeladmin, request, queryset):
    return _status_action(modeladmin, request, queryset, service=services.reopen_shop, title=_("Reopen shops"),
                          done=_("%(n)s shop(s) reopened."))


@admin.register(Shop)
class ShopAdmin(MoneyAdminMixin, admin.ModelAdmin):
    """Status changes only through the actions (services.suspend_shop / reopen_shop), with a
    reason kept in the history; fees are checked to the currency's precision (Shop.clean)."""

    list_display = ("name", "name_en", "slug", "kind", "status", "shipping_fee_text", "free_shipping_over_text",
                    "product_count", "created_at")
    list_filter = ("kind", "status", "currency")
    search_fields = ("name", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    readonly_fields = ("status", "created_at")
    inlines = [ShopMemberInline, ShopStatusChangeInline]
    actions = [suspend_shops, reopen_shops]
    shipping_fee_text = money_display("shipping_fee", gettext_lazy("shipping fee"))
    free_shipping_over_text = money_display("free_shipping_over", gettext_lazy("free shipping over"))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_products=Count("products"))

    @admin.display(description=gettext_lazy("products"), ordering="n_products")
    def product_count(self, obj):
        return obj.n_products

    def save_model(self, request, obj, form, change):
        old_slug = form.initial.get("slug") if change else None
        super().save_model(request, obj, form, change)
        if old_slug and old_slug != obj.slug:  # the storefront keeps the old slug for a 301
            emit("shop_slug.changed", shop_id=obj.pk, old_slug=old_slug, slug=obj.slug, actor_id=request.user.pk)


@admin.register(ShopStatusChange)
class ShopStatusChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "shop", "from_status", "to_status", "action", "actor_label", "reason")
    list_filter = ("action", "to_status")
    search_fields = ("shop__name", "shop__slug", "actor_label", "reason")
    list_select_related = ("shop",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShopMember)
class ShopMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "shop", "role")
    list_filter = ("role", "shop")
    search_fields = ("user__username", "shop__name", "shop__name_en")
    list_select_related = ("user", "shop")
    raw_id_fields = ("user", "shop")


class ShopApplicationDocumentInline(admin.TabularInline):
    model = ShopApplicationDocument
    extra = 0
    can_delete = False
    fields = ("kind", "content_type", "size", "uploaded_at")
    readonly_fields = fields


class ShopApplicationEventInline(admin.TabularInline):
    model = ShopApplicationEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "actor_label", "action", "from_status", "to_status", "reason")
    readonly_fields = fields


@admin.register(ShopApplication)
class ShopApplicationAdmin(admin.ModelAdmin):
    """Read-only here: operators review on /console/operator/applications/, where the rules run."""

    list_display = ("shop_name", "kind", "applicant", "status", "created_at", "updated_at")
    list_filter = ("status", "kind", "business_category")
    search_fields = ("shop_name", "applicant__username", "contact_name")
    inlines = [ShopApplicationDocumentInline, ShopApplicationEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
