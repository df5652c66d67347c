"""Reads of promotions shared by the pricing loaders, pages and API."""

from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shopyard.core.prepared import PreparedRead

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


def current_and_coming_rows(*, shop_ids, now) -> list:
    """`current_and_coming` as a list. A basket, a product page or a listing of one shop
    (most of them) reads it by a statement compiled once (core.prepared): it runs on
    every order and price."""
    ids = list(shop_ids)
    if len(ids) == 1:
        return _CURRENT_AND_COMING_OF_ONE.objects(ids[0], now)
    return list(current_and_coming(shop_ids=ids, now=now))


_CURRENT_AND_COMING_OF_ONE = PreparedRead(
    Promotion, lambda shop_id, now: current_and_coming(shop_ids=[shop_id], now=now), kinds=("id", "moment"))


def is_live(promotion, now) -> bool:
    """live_filter's rule for a row already loaded."""
    return promotion.status == Status.PUBLISHED and promotion.starts_at <= now < promotion.ends_at


def shop_promotions(shop):
    return Promotion.objects.filter(shop=shop)


def platform_promotions():
    return Promotion.objects.filter(shop__isnull=True)


class Phase(models.TextChoices):
    """Where a promotion stands for the people running it: its status read with the clock."""

    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


def with_phase(qs, now=None):
    """`qs` annotated with `phase` (Phase): a draft; published and not started yet (scheduled);
    live (live_filter, the rule the pricing loaders use); or ended (stopped, or past its end).
    The one place that derives it, for console pages, the API and the operator's admin."""
    now = now or timezone.now()
    return qs.annotate(phase=Case(
        When(status=Status.DRAFT, then=Value(Phase.DRAFT.value)),
        When(live_filter(now), then=Value(Phase.LIVE.value)),
        When(status=Status.PUBLISHED, starts_at__gt=now, then=Value(Phase.SCHEDULED.value)),
        default=Value(Phase.ENDED.value), output_field=models.CharField()))


def promotions_of(shop, *, phase=None, now=None):
    """A shop's promotions (shop None: the platform's), newest first, each with its phase."""
    qs = with_phase(shop_promotions(shop) if shop is not None else platform_promotions(), now)
    if phase:
        qs = qs.filter(phase=phase)
    return qs.prefetch_related("categories", "products", "skus").order_by("-id")


def promotion_of(shop, promotion_id, now=None):
    """One promotion of `shop` (None: the platform) with its phase, or None (a foreign id too)."""
    return promotions_of(shop, now=now).filter(pk=promotion_id).first()
