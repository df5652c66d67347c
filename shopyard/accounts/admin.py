from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin

from .models import Address, ApiToken, User
from .throttle import TryLater


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin login form, showing the login throttle's refusal as a form
    error (the throttle is in the authentication backend, which raises it out
    of authenticate()); accounts.views.admin_login turns it into a 429."""

    def clean(self):
        try:
            return super().clean()
        except TryLater as exc:
            self.request.login_refused = exc
            raise ValidationError(str(exc.message), code="throttled") from None


admin.site.login_form = ThrottledAdminLoginForm


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    fields = (("recipient", "phone"), ("province", "city", "district"), "detail", ("postcode", "is_default"))


class ApiTokenInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApiToken
    extra = 0
    fields = ("prefix", "created_at", "last_used_at", "expires_at")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return True  # revoking a leaked token is a plain delete


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "phone", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "email", "phone", "first_name", "last_name")
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "phone")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "phone", "email", "password1", "password2")}),
    )
    inlines = [AddressInline, ApiTokenInline]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("recipient", "user", "phone", "province", "city", "district", "is_default", "created_at")
    list_filter = ("is_default", "province")
    search_fields = ("recipient", "phone", "user__username", "city", "detail")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by the accounts service (the raw key is shown once);
    the admin lists and revokes them. A token whose user changed password no
    longer works, even while it is still listed here."""

    list_display = ("prefix", "user", "created_at", "last_used_at", "expires_at")
    search_fields = ("prefix", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("user", "prefix", "key_hash", "created_at", "last_used_at", "expires_at", "password_fingerprint")

    def has_add_permission(self, request):
        return False
