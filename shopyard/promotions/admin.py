"""The operator page for platform campaigns: limited-time discounts and
cross-shop spend-and-save tiers the platform runs (and pays for) across shops.

Nothing here saves a promotion itself: the form's clean() calls
services.create_promotion / update_promotion (inside the admin's transaction),
so every rule of what a campaign may hold, and what may change once it has
started, is the service's; a refusal becomes field messages on the form. The
admin then shows the row the service wrote. Publishing and stopping are
actions that call the services too."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.translation import get_language, gettext_lazy, ngettext

from shopyard.catalog.models import Category
from shopyard.core.errors import DomainError

from . import queries, services
from .kinds import default_stacks_with
from .models import Promotion
from .rules import parse

_SPLIT = re.compile(r"[\s,，、;；]+")
_FORM_FIELD = {"kind": "kind", "name": "name", "name_en": "name_en", "starts_at": "starts_at", "ends_at": "ends_at",
               "scope": "scope", "currency": "currency", "stacks_with": "exclusive"}
RULES_HELP = gettext_lazy(
    'A limited-time discount: {"percent_off": "20"} or {"price": "99.00"}. Cross-shop tiers: '
    '{"tiers": [{"threshold": "300", "amount_off": "30"}, {"threshold": "600", "amount_off": "70"}]}, '
    'a tier may give "percent_off" instead; "repeat": true with one tier repeats it for every threshold, '
    'up to an optional "cap".')


def _form_field(key: str) -> str | None:
    if key.startswith("rules"):
        return "rules"
    if key.startswith("target_ids"):
        return "target_ids"
    return _FORM_FIELD.get(key)


class CampaignForm(forms.ModelForm):
    kind = forms.ChoiceField(label=gettext_lazy("kind"),
                             choices=[(k.value, k.label) for k in services.kinds_for(None)])
    rules = forms.JSONField(label=gettext_lazy("rules"), help_text=RULES_HELP)
    categories = forms.ModelMultipleChoiceField(
        label=gettext_lazy("categories"), queryset=Category.objects.order_by("parent_id", "name"), required=False,
        widget=FilteredSelectMultiple(gettext_lazy("categories"), is_stacked=False),
        help_text=gettext_lazy("For the scope “Categories”; their subcategories are included."))
    target_ids = forms.CharField(
        label=gettext_lazy("product or SKU ids"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("For the scopes “Chosen products” and “Chosen SKUs”: ids separated by commas."))
    exclusive = forms.BooleanField(label=gettext_lazy("does not combine with other promotions or coupons"),
                                   required=False)

    actor = None  # set per request by CampaignAdmin.get_form

    class Meta:
        model = Promotion
        fields = ("kind", "name", "name_en", "starts_at", "ends_at", "currency", "rules", "scope")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved = None
        promotion = self.instance if self.instance.pk else None
        if promotion is not None:
            for name in ("kind", "currency"):  # absent when the page is read-only
                if name in self.fields:
                    self.fields[name].disabled = True
            self.initial["exclusive"] = not promotion.stacks_with
            if promotion.scope == Promotion.Scope.CATEGORIES:
                self.initial["categories"] = list(promotion.categories.all())
            elif promotion.scope in (Promotion.Scope.PRODUCTS, Promotion.Scope.SKUS):
                relation = promotion.products if promotion.scope == Promotion.Scope.PRODUCTS else promotion.skus
                self.initial["target_ids"] = ", ".join(str(pk) for pk in relation.values_list("pk", flat=True))

    def _targets(self, data):
        if data.get("scope") == Promotion.Scope.CATEGORIES:
            return [c.pk for c in data.get("categories") or []]
        if data.get("scope") in (Promotion.Scope.PRODUCTS, Promotion.Scope.SKUS):
            return [part for part in _SPLIT.split(data.get("target_ids") or "") if part]
        return None

    def _payload(self, data) -> dict:
        kind = data["kind"]
        return {"name": data.get("name", ""), "name_en": data.get("name_en", ""), "starts_at": data["starts_at"],
                "ends_at": data["ends_at"], "rules": data["rules"], "scope": data["scope"],
                "target_ids": self._targets(data),
                "stacks_with": [] if data.get("exclusive") else sorted(default_stacks_with(kind))}

    def _changes(self, promotion, payload) -> dict:
        """Only what the operator changed: a started campaign takes new names and a new end only."""
        changed = {k: payload[k] for k in ("name", "name_en") if payload[k] != getattr(promotion, k)}
        # the admin's widgets show whole seconds
        changed.update({k: payload[k] for k in ("starts_at", "ends_at")
                        if payload[k].replace(microsecond=0) != getattr(promotion, k).replace(microsecond=0)})
        try:
            same_rules = parse(promotion.kind, payload["rules"], currency=promotion.currency) == parse(
                promotion.kind, promotion.rules, currency=promotion.currency)
        except DomainError:
            same_rules = False
        if not same_rules:
            changed["rules"] = payload["rules"]
        current = self.initial.get("categories") or self.initial.get("target_ids") or ""
        current = [c.pk for c in current] if isinstance(current, list) else [p for p in _SPLIT.split(current) if p]
        if payload["scope"] != promotion.scope or [str(t) for t in payload["target_ids"] or []] != [
                str(t) for t in current]:
            changed.update(scope=payload["scope"], target_ids=payload["target_ids"])
        if bool(payload["stacks_with"]) != bool(promotion.stacks_with):
            changed["stacks_with"] = payload["stacks_with"]
        return changed

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        promotion = self.instance if self.instance.pk else None
        try:
            payload = self._payload(data)
            if promotion is None:
                self.saved = services.create_promotion(actor=self.actor, shop=None, kind=data["kind"],
                                                       currency=data.get("currency") or "CNY", **payload)
            else:
                changed = self._changes(promotion, payload)
                self.saved = services.update_promotion(actor=self.actor, shop=None, promotion_id=promotion.pk,
                                                       **changed) if changed else promotion
        except DomainError as exc:
            if exc.code == "promotion_started" or not exc.fields:
                raise forms.ValidationError(str(exc.message)) from None
            for key, msgs in exc.fields.items():
                for message in msgs if isinstance(msgs, list | tuple) else [msgs]:
                    self.add_error(_form_field(key), f"{key}: {message}" if key.startswith("rules.") else message)
        return data


def _act(modeladmin, request, queryset, *, service, done):
    count = 0
    for promotion in queryset:
        try:
            service(actor=request.user, shop=None, promotion_id=promotion.pk)
            count += 1
        except DomainError as exc:
            details = [str(m) for msgs in exc.fields.values() for m in (msgs if isinstance(msgs, list) else [msgs])]
            modeladmin.message_user(request, f"{promotion.name}: {' '.join(details) or exc.message}", messages.ERROR)
    if count:
        modeladmin.message_user(request, done(count), messages.SUCCESS)


@admin.action(description=gettext_lazy("Publish the selected campaigns"))
def publish_campaigns(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, service=services.publish_promotion,
         done=lambda n: ngettext("%(n)s campaign published.", "%(n)s campaigns published.", n) % {"n": n})


@admin.action(description=gettext_lazy("Stop the selected campaigns"))
def stop_campaigns(modeladmin, request, queryset):
    _act(modeladmin, request, queryset, service=services.stop_promotion,
         done=lambda n: ngettext("%(n)s campaign stopped.", "%(n)s campaigns stopped.", n) % {"n": n})


@admin.register(Promotion)
class CampaignAdmin(admin.ModelAdmin):
    """Platform campaigns are run here; shops' promotions are listed for reference and open
    read-only (shops run theirs in the seller console)."""

    form = CampaignForm
    actions = [publish_campaigns, stop_campaigns]
    list_display = ("name", "owner", "kind", "phase_label", "starts_at", "ends_at", "summary")
    list_filter = (("shop", admin.EmptyFieldListFilter), "kind", "status")
    search_fields = ("name", "name_en")
    readonly_fields = ("status", "published_at", "stopped_at", "created_by")
    fieldsets = (
        (None, {"fields": ("kind", "name", "name_en", "starts_at", "ends_at", "currency")}),
        (gettext_lazy("Rule"), {"fields": ("rules", "exclusive")}),
        (gettext_lazy("Applies to"), {"fields": ("scope", "categories", "target_ids")}),
        (gettext_lazy("Status"), {"fields": ("status", "published_at", "stopped_at", "created_by")}),
    )

    def get_queryset(self, request):
        return queries.with_phase(Promotion.objects.select_related("shop"))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.shop_id is not None:
            return False  # a shop's own promotion: its sellers change it, through the console
        return super().has_change_permission(request, obj)

    @admin.display(description=gettext_lazy("shop"), ordering="shop")
    def owner(self, obj):
        return obj.shop.name if obj.shop_id else gettext_lazy("Platform")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def has_delete_permission(self, request, obj=None):
        return False  # a campaign is stopped, and stays for the orders it priced

    def save_form(self, request, form, change):
        return form.saved  # written by the service in form.clean()

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        pass

    @admin.display(description=gettext_lazy("status"), ordering="phase")
    def phase_label(self, obj):
        return queries.Phase(obj.phase).label

    @admin.display(description=gettext_lazy("rule"))
    def summary(self, obj):
        try:
            zh, en = parse(obj.kind, obj.rules, currency=obj.currency).describe(obj.currency)
        except DomainError:
            return ""
        return en if (get_language() or "").startswith("en") else zh


# coupon templates and bulk issuing, and flash sales, have their own modules; importing them registers them
from . import coupon_admin, flash_admin  # noqa: E402, F401, I001
