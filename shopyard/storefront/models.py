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


class SlugRedirect(models.Model):
    """An old slug of a shop or category page, kept so its links answer with a 301
    to the current page (products redirect by id: their URL holds it)."""

    class Kind(models.TextChoices):
        SHOP = "shop", _("Shop")
        CATEGORY = "category", _("Category")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    old_slug = models.CharField(_("old slug"), max_length=100)
    object_id = models.PositiveBigIntegerField(_("object id"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("slug redirect")
        verbose_name_plural = _("slug redirects")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "old_slug"], name="uniq_slug_redirect")]

    def __str__(self):
        return f"{self.kind}: {self.old_slug} → {self.object_id}"
