"""Reads for the home page's operator content: one query per kind, whatever
the number of rows. Rows that start later are read too (never many), so the
same query also tells when the page next changes by itself."""

from django.db.models import Q
from django.utils import timezone

from .models import FeaturedCategory, HomeBanner


def _live_and_next(qs, now):
    rows = list(qs.filter(is_active=True).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)))
    live = [r for r in rows if r.starts_at is None or r.starts_at <= now]
    moments = [r.starts_at for r in rows if r.starts_at is not None and r.starts_at > now]
    moments += [r.ends_at for r in live if r.ends_at is not None]
    return live, min(moments, default=None)


def home_content(now=None) -> dict:
    """The banners and featured categories live at `now`, in order, and the
    next moment one of them starts or ends (None: nothing scheduled)."""
    now = now or timezone.now()
    banners, next_banner = _live_and_next(HomeBanner.objects.all(), now)
    featured, next_featured = _live_and_next(FeaturedCategory.objects.select_related("category"), now)
    moments = [m for m in (next_banner, next_featured) if m is not None]
    return {"banners": banners, "featured": featured, "changes_at": min(moments, default=None)}
