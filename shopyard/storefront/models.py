"""What the platform's operators put on the home page: banners and featured
categories, each with an order and an optional schedule. The rules (link
schemes, schedule order) live in `services`; `clean()` calls them so the
admin form shows the same field messages."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from shopyard.core.errors import ValidationFailed
from shopyard.core.i18n import localized


def _as_django_error(exc: ValidationFailed) -> ValidationError:
    return ValidationError({k: v if isinstance(v, list | tuple) else [v] for k, v in exc.fields.items()})


class Scheduled(models.Model):
    position = models.PositiveIntegerField(_("position"), default=0)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]


class HomeBanner(Scheduled):
    title = models.CharField(_("title"), max_length=100)
    title_en = models.CharField(_("English title"), max_length=100, blank=True)
    image = models.ImageField(_("image"), upload_to="banners/", blank=True)
    display = models.ImageField(_("resized image"), upload_to="banners/display/", blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True,
                            help_text=_("A site path such as /c/phones/ or an http(s) address."))

    class Meta(Scheduled.Meta):
        verbose_name = _("home banner")
        verbose_name_plural = _("home banners")
        indexes = [models.Index(fields=["is_active", "position"])]

    def __str__(self):
        return self.title

    @property
    def label(self):
        return localized(self, "title")

    def clean(self):
        from . import services

        try:
            self.link = services.clean_link(self.link)
            services.check_schedule(self.starts_at, self.ends_at)
        except ValidationFailed as exc:
            raise _as_django_error(exc) from None


class FeaturedCategory(Scheduled):
    category = models.ForeignKey("catalog.Category", verbose_name=_("category"), on_delete=models.CASCADE,
                                 related_name="featured")

    class Meta(Scheduled.Meta):
        verbose_name = _("featured category")
        verbose_name_plural = _("featured categories")

    def __str__(self):
        return str(self.category)

    def clean(self):
        from . import services

        try:
            services.check_schedule(self.starts_at, self.ends_at)
        except ValidationFailed as exc:
            raise _as_django_error(exc) from None
