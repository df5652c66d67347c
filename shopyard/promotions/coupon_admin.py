"""The operator console for coupons: platform coupon templates are created,
published and stopped here (a shop's may be stopped too, for moderation), and
coupons are issued to chosen users in bulk with a report. Every write goes
through coupon_services; the admin form only collects input."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import money_display
from shopyard.core.errors import DomainError, ValidationFailed

from . import coupon_services as services
from .models import CouponTemplate, UserCoupon

FORM_FIELDS = ("name", "name_en", "benefit", "threshold", "amount_off", "percent_off", "max_off", "scope",
               "categories", "products", "total_quantity", "per_user_limit", "validity", "valid_from", "valid_until",
               "valid_days", "claim_starts_at", "claim_ends_at")


class _Rollback(Exception):
    pass


def _create_kwargs(data) -> dict:
    kwargs = {k: data.get(k) for k in FORM_FIELDS if k not in ("categories", "products")}
    scope = data.get("scope")
    targets = data.get("categories") if scope == "categories" else data.get("products") if scope == "products" else None
    kwargs["target_ids"] = [t.pk for t in targets] if targets is not None else None
    for key in ("threshold", "amount_off", "percent_off", "max_off"):
        if kwargs[key] is not None:
            kwargs[key] = str(kwargs[key])
    return kwargs


class PlatformTemplateForm(forms.ModelForm):
    """A platform coupon; the service checks it (the same rules sellers meet), its field
    errors shown beside the fields."""

    class Meta:
        model = CouponTemplate
        fields = FORM_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                services.create_template(actor=self.actor, shop=None, **_create_kwargs(cleaned))
                raise _Rollback
        except _Rollback:
            pass
        except ValidationFailed as exc:
            for key, messages_ in exc.fields.items():
                field = key.split("[")[0]
                field = {"target_ids": "products" if cleaned.get("scope") == "products" else "categories"}.get(field, field)
                self.add_error(field if field in self.fields else None, list(map(str, messages_)))
        except DomainError as exc:
            self.add_error(None, str(exc.message))
        return cleaned


class IssueForm(forms.Form):
    usernames = forms.CharField(label=_("usernames"), widget=forms.Textarea(attrs={"rows": 8}),
                                help_text=_("One username per line (or separated by commas)."))


@admin.register(CouponTemplate)
class CouponTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "shop", "benefit", "threshold_text", "amount_off_text", "percent_off", "issued",
                    "total_quantity", "status", "claim_ends_at", "issue_link")
    # amounts show with the currency's precision ("¥199.00"), never as stored
    threshold_text = money_display("threshold", _("threshold"))
    amount_off_text = money_display("amount_off", _("amount off"))
    max_off_text = money_display("max_off", _("at most off"))
    MONEY_FIELDS = {"threshold": "threshold_text", "amount_off": "amount_off_text", "max_off": "max_off_text"}

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:
            return fields
        return [self.MONEY_FIELDS.get(name, name) for name in fields]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(self.MONEY_FIELDS.values() if obj else ())]
    list_filter = ("status", "benefit", ("shop", admin.EmptyFieldListFilter))
    list_select_related = ("shop",)
    search_fields = ("name", "name_en", "shop__name")
    actions = ("publish", "stop")
    autocomplete_fields = ("categories", "products")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, form=PlatformTemplateForm, **kwargs)
        form.actor = request.user
        return form

    def has_change_permission(self, request, obj=None):
        # a template is not edited once written (what a shopper claimed must stay what it was):
        # the change page is read-only, publish and stop are actions
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.create_template(actor=request.user, shop=None, **_create_kwargs(form.cleaned_data))
        obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # the service set the scope's rows

    @admin.display(description=_("issue"))
    def issue_link(self, obj):
        if obj.status != CouponTemplate.Status.ACTIVE:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:promotions_coupontemplate_issue", args=[obj.pk]),
                           _("Issue to users"))

    def _run(self, request, queryset, service):
        done = 0
        for template in queryset:
            try:
                service(actor=request.user, shop=template.shop, template_id=template.pk)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{template}: {exc.message}", level=messages.ERROR)
        if done:
            self.message_user(request, _("%(n)s coupon template(s) changed.") % {"n": done})

    @admin.action(description=_("Publish the selected coupon templates"))
    def publish(self, request, queryset):
        self._run(request, queryset, services.publish_template)

    @admin.action(description=_("Stop handing out the selected coupon templates"))
    def stop(self, request, queryset):
        self._run(request, queryset, services.stop_template)

    def get_urls(self):
        return [path("<int:pk>/issue/", self.admin_site.admin_view(self.issue_view),
                     name="promotions_coupontemplate_issue"), *super().get_urls()]

    def issue_view(self, request, pk):
        template = get_object_or_404(CouponTemplate, pk=pk)
        form = IssueForm(request.POST or None)
        report = None
        if request.method == "POST" and form.is_valid():
            names = [n for chunk in form.cleaned_data["usernames"].splitlines() for n in chunk.split(",")]
            try:
                report = services.issue_coupons(actor=request.user, shop=template.shop, template_id=template.pk,
                                                usernames=[n for n in names if n.strip()])
            except DomainError as exc:
                details = [str(m) for v in exc.fields.values() for m in v]
                form.add_error(None, " ".join(details) or str(exc.message))
            template.refresh_from_db()
        context = {**self.admin_site.each_context(request), "title": _("Issue coupons: %(name)s") % {"name": template},
                   "template": template, "form": form, "report": report, "opts": self.model._meta}
        return render(request, "admin/promotions/issue_coupons.html", context)


@admin.register(UserCoupon)
class UserCouponAdmin(admin.ModelAdmin):
    list_display = ("id", "template", "user", "status", "source", "claimed_at", "valid_until", "checkout_id")
    list_filter = ("status", "source")
    list_select_related = ("template", "user")
    search_fields = ("user__username", "template__name")
    readonly_fields = [f.name for f in UserCoupon._meta.fields] + ["orders"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
