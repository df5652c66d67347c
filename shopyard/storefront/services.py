"""Operator changes to the home page. Every change goes through here, from
the admin or the demo loader, so the link and schedule rules have one home
and every change emits `home.changed`, which bumps the page-cache version:
anonymous visitors see the new home page at once."""

import uuid
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from shopyard.core import images
from shopyard.core.errors import ValidationFailed
from shopyard.core.events import emit

from .context_processors import forget_category_tree
from .models import FeaturedCategory, HomeBanner

BANNER_MAX_BYTES = 5 * 1024 * 1024
BANNER_DISPLAY_SIZE = (1600, 600)
LINK_SCHEMES = ("http", "https")


def clean_link(link) -> str:
    """A banner goes to a site path ("/c/phones/") or an http(s) address.
    Anything else (javascript:, data:, a protocol-relative "//host" or a
    path with spaces or control characters) is refused: the link is put in
    an href on the home page."""
    link = (link or "").strip()
    if not link:
        return ""
    message = _("Enter a site path starting with / or an http(s) address.")
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in link):
        raise ValidationFailed(fields={"link": [message]})
    try:
        parts = urlsplit(link)
    except ValueError:
        raise ValidationFailed(fields={"link": [message]}) from None
    if parts.scheme:
        if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
            raise ValidationFailed(fields={"link": [message]})
    elif not link.startswith("/") or link.startswith("//"):
        raise ValidationFailed(fields={"link": [message]})
    return link


def check_schedule(starts_at, ends_at) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed(fields={"ends_at": [_("The end must be after the start.")]})


def _delete_files(storage, names) -> None:
    for name in names:
        if name:
            try:
                storage.delete(name)
            except OSError:  # already gone, or the storage is down: nothing more to do here
                pass


@transaction.atomic
def _save(banner):
    banner.save()
    emit("home.changed", kind="banner", id=banner.pk)


def save_banner(*, actor, banner: HomeBanner, upload=None) -> HomeBanner:
    """Save `banner` (new or changed fields already set) and, when given,
    its new picture. The upload is decoded in full and its resized copy made
    before any file is written; files written by a call that then fails are
    deleted, and replaced files are deleted once the change commits."""
    banner.link = clean_link(banner.link)
    check_schedule(banner.starts_at, banner.ends_at)
    if upload is None and not banner.image:
        raise ValidationFailed(fields={"image": [_("Upload a picture for the banner.")]})
    storage = HomeBanner._meta.get_field("image").storage
    written, replaced = [], []
    try:
        if upload is not None:
            data, ext = images.check_upload(upload, field="image", max_bytes=BANNER_MAX_BYTES)
            display = images.make_thumbnail(data, BANNER_DISPLAY_SIZE, field="image")
            replaced = [banner.image.name, banner.display.name] if banner.pk else []
            banner.image.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
            written.append(banner.image.name)
            banner.display.save(f"{uuid.uuid4().hex}.jpg", display, save=False)
            written.append(banner.display.name)
        with transaction.atomic():
            _save(banner)
            if replaced:
                transaction.on_commit(lambda: _delete_files(storage, replaced))
    except BaseException:
        _delete_files(storage, written)
        raise
    return banner


def delete_banner(*, actor, banner: HomeBanner) -> None:
    storage = HomeBanner._meta.get_field("image").storage
    names = [banner.image.name, banner.display.name]
    with transaction.atomic():
        pk = banner.pk
        banner.delete()
        emit("home.changed", kind="banner", id=pk)
        transaction.on_commit(lambda: _delete_files(storage, names))


@transaction.atomic
def save_featured(*, actor, featured: FeaturedCategory) -> FeaturedCategory:
    if featured.category_id is None:
        raise ValidationFailed(fields={"category": [_("Choose a category.")]})
    check_schedule(featured.starts_at, featured.ends_at)
    featured.save()
    emit("home.changed", kind="featured", id=featured.pk)
    return featured


@transaction.atomic
def delete_featured(*, actor, featured: FeaturedCategory) -> None:
    pk = featured.pk
    featured.delete()
    emit("home.changed", kind="featured", id=pk)


# --- slug history (SEO) ---------------------------------------------------------
# The shop and category admins emit `shop_slug.changed` / `category_slug.changed`
# when an operator edits a slug; the old one is kept here so its links answer
# with a 301 (storefront.seo.moved_slug). Idempotent: a redelivered event finds
# its row; a slug taken back by its object drops its history row.


@transaction.atomic
def record_slug_change(*, actor=None, kind: str, object_id: int, old_slug: str, slug: str) -> None:
    from .models import SlugRedirect

    old_slug, slug = (old_slug or "")[:100], (slug or "")[:100]
    SlugRedirect.objects.filter(kind=kind, old_slug=slug).delete()
    if old_slug and old_slug != slug:
        SlugRedirect.objects.update_or_create(kind=kind, old_slug=old_slug, defaults={"object_id": object_id})


def on_shop_slug_changed(payload) -> None:
    record_slug_change(kind="shop", object_id=payload["shop_id"], old_slug=payload["old_slug"], slug=payload["slug"])


def on_category_slug_changed(payload) -> None:
    record_slug_change(kind="category", object_id=payload["category_id"], old_slug=payload["old_slug"],
                       slug=payload["slug"])


def on_category_changed(payload) -> None:
    """The header's category menu (context_processors._categories) is read again at the next
    request: an operator's rename, move or delete shows at once, not when the kept tree expires."""
    forget_category_tree()
