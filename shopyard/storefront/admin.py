"""The operator console for the home page. Saving and deleting go through
`services`, so every change is validated in one place and bumps the page
cache; the picture is uploaded through a plain file field that the service
decodes and resizes (the stored files are never set by the form)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from shopyard.core import images
from shopyard.core.admin import image_preview
from shopyard.core.errors import DomainError, ValidationFailed

from . import services
from .models import FeaturedCategory, HomeBanner


class HomeBannerForm(forms.ModelForm):
    upload = forms.FileField(label=_("picture"), required=False,
                             help_text=_("JPEG, PNG, WebP or GIF; shown at 1600×600."))

    class Meta:
        model = HomeBanner
        fields = ("title", "title_en", "upload", "link", "position", "starts_at", "ends_at", "is_active")

    def clean_upload(self):
        # the service decodes the picture again when saving; checking here
        # too puts the message next to the field instead of after a redirect
        upload = self.cleaned_data.get("upload")
        if upload:
            try:
                images.check_upload(upload, field="upload", max_bytes=services.BANNER_MAX_BYTES)
            except ValidationFailed as exc:
                raise forms.ValidationError(exc.fields["upload"]) from None
        return upload

    def clean(self):
        cleaned = super().clean()
        if not self.cleaned_data.get("upload") and not self.instance.image:
            self.add_error("upload", _("Upload a picture for the banner."))
        return cleaned


def _field_errors(exc: DomainError) -> dict:
    mapping = {"image": "upload"}
    return {mapping.get(k, k): (v if isinstance(v, list | tuple) else [v]) for k, v in exc.fields.items()}


class ServiceSaveMixin:
    """Adding, editing (also the list's editable position) and deleting call
    the service; a domain error becomes a message, never a 500."""

    def _report(self, request, exc: DomainError):
        details = [str(m) for msgs in _field_errors(exc).values() for m in msgs]
        self.message_user(request, " ".join(details) or exc.message, level=messages.ERROR)

    def delete_model(self, request, obj):
        self.delete_service(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_service(actor=request.user, obj=obj)


@admin.register(HomeBanner)
class HomeBannerAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = HomeBannerForm
    list_display = ("preview", "title", "title_en", "link", "position", "starts_at", "ends_at", "is_active")
    list_display_links = ("preview", "title")
    list_editable = ("position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "title_en")
    ordering = ("position", "id")
    readonly_fields = ("current_picture",)
    fields = ("title", "title_en", "current_picture", "upload", "link", "position", "starts_at", "ends_at", "is_active")

    @admin.display(description=_("picture"))
    def preview(self, obj):
        return image_preview(obj.display, size=48)

    @admin.display(description=_("current picture"))
    def current_picture(self, obj):
        return image_preview(obj.display, size=160)

    def save_form(self, request, form, change):
        obj = form.save(commit=False)
        obj._upload = form.cleaned_data.get("upload") if "upload" in form.cleaned_data else None
        return obj

    def save_model(self, request, obj, form, change):
        try:
            services.save_banner(actor=request.user, banner=obj, upload=getattr(obj, "_upload", None))
        except DomainError as exc:
            self._report(request, exc)

    def delete_service(self, *, actor, obj):
        services.delete_banner(actor=actor, banner=obj)


@admin.register(FeaturedCategory)
class FeaturedCategoryAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ("category", "position", "starts_at", "ends_at", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("category",)
    autocomplete_fields = ("category",)
    ordering = ("position", "id")
    fields = ("category", "position", "starts_at", "ends_at", "is_active")

    def save_model(self, request, obj, form, change):
        try:
            services.save_featured(actor=request.user, featured=obj)
        except DomainError as exc:
            self._report(request, exc)

    def delete_service(self, *, actor, obj):
        services.delete_featured(actor=actor, featured=obj)
