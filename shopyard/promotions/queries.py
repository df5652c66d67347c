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


def current_and_coming(*, shop_ids, now=None):
    """Published promotions of these shops and the platform's that have not ended: the live
    ones (is_live) and those still to start, whose start is when prices change next."""
    now = now or timezone.now()
    return Promotion.objects.filter(status=Status.PUBLISHED, ends_at__gt=now).filter(
        Q(shop_id__in=list(shop_ids)) | Q(shop__isnull=True))


def is_live(promotion, now) -> bool:
    """live_filter's rule for a row already loaded."""
    return promotion.status == Status.PUBLISHED and promotion.starts_at <= now < promotion.ends_at


def shop_promotions(shop):
    return Promotion.objects.filter(shop=shop)


def platform_promotions():
    return Promotion.objects.filter(shop__isnull=True)

