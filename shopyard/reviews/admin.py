"""Operator admin for reviews: moderation only through the actions, which ask for
a reason and call services.hide_review / show_review (the state machine, the
history row, the aggregates). Reviews, photos, history and ratings are read-only
here: buyers and sellers write them through their pages and the API."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, image_preview
from shopyard.core.errors import DomainError

from . import services
from .models import ProductRating, Review, ReviewPhoto, ReviewStatusChange, ShopRating


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=services.MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


def _moderate(modeladmin, request, queryset, *, service, title, done):
    """Ask for a reason on an intermediate page, then call the service once per review."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        changed = 0
        for review in queryset:
            try:
                service(actor=request.user, review_id=review.pk, reason=form.cleaned_data["reason"])
                changed += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"#{review.pk}: {exc.message}", messages.ERROR)
        if changed:
            modeladmin.message_user(request, done % {"n": changed}, messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "form": form, "reviews": queryset, "action": request.POST.get("action", ""),
        "opts": modeladmin.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/reviews/review/moderation_reason.html", context)


@admin.action(description=gettext_lazy("Hide the selected reviews (asks for a reason)"))
def hide_reviews(modeladmin, request, queryset):
    return _moderate(modeladmin, request, queryset, service=services.hide_review, title=_("Hide reviews"),
                     done=_("%(n)s review(s) hidden from product pages and ratings."))


@admin.action(description=gettext_lazy("Show the selected reviews again (asks for a reason)"))
def show_reviews(modeladmin, request, queryset):
    return _moderate(modeladmin, request, queryset, service=services.show_review, title=_("Show reviews again"),
                     done=_("%(n)s review(s) shown again."))


class ReviewPhotoInline(ReadOnlyInline):
    model = ReviewPhoto
    fields = ("preview", "part", "position")
    readonly_fields = fields
    show_change_link = False

    @admin.display(description=gettext_lazy("photo"))
    def preview(self, obj):
        return image_preview(obj.thumbnail)


class ReviewStatusChangeInline(ReadOnlyInline):
    model = ReviewStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "reason")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = gettext_lazy("Status history")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("id", "product", "shop", "user", "rating", "logistics", "service", "photo_count", "status",
                    "replied", "created_at")
    list_filter = ("status", "rating", "anonymous")
    search_fields = ("text", "follow_up", "reply", "user__username", "shop__name", "product__title")
    list_select_related = ("product", "shop", "user")
    actions = [hide_reviews, show_reviews]
    inlines = [ReviewPhotoInline, ReviewStatusChangeInline]
    readonly_fields = [f.name for f in Review._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("replied"), boolean=True)
    def replied(self, obj):
        return obj.replied_at is not None


@admin.register(ReviewStatusChange)
class ReviewStatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "review", "from_status", "to_status", "action", "actor_label", "reason")
    list_filter = ("action", "to_status")
    search_fields = ("actor_label", "reason")


@admin.register(ProductRating)
class ProductRatingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("product", "count", "stars_total", "star_5", "star_4", "star_3", "star_2", "star_1",
                    "with_photos", "updated_at")
    list_select_related = ("product",)
    search_fields = ("product__title",)


@admin.register(ShopRating)
class ShopRatingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("shop", "count", "stars_total", "logistics_total", "service_total", "good", "updated_at")
    list_select_related = ("shop",)
