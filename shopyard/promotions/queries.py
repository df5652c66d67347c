"""Reads of promotions shared by the pricing loaders, pages and API."""

from django.db.models import Q
from django.utils import timezone

from .models import Promotion
from .state import Status


def live_filter(now=None) -> Q:
    """The one rule of when a promotion prices anything: published, and now inside
    [starts_at, ends_at)."""
    now = now or timezone.now()
    return Q(status=Status.PUBLISHED, starts_at__lte=now, ends_at__gt=now)


def live_promotions(*, shop_ids, now=None):
    """Live promotions of these shops and the platform's (shop empty)."""
    return Promotion.objects.filter(live_filter(now)).filter(Q(shop_id__in=list(shop_ids)) | Q(shop__isnull=True))


def shop_promotions(shop):
    return Promotion.objects.filter(shop=shop)


def platform_promotions():
    return Promotion.objects.filter(shop__isnull=True)
