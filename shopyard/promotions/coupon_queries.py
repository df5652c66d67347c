"""Reads of coupons shared by the pricing loader, pages and API, scoped to the caller."""

from django.db.models import Exists, F, Q
from django.utils import timezone

from .coupon_state import CouponStatus, TemplateStatus
from .models import CouponTemplate, UserCoupon

TABS = ("usable", "used", "expired")


def usable_filter(now=None) -> Q:
    """The one rule of when a held coupon may price an order: available and now inside
    [valid_from, valid_until)."""
    now = now or timezone.now()
    return Q(status=CouponStatus.AVAILABLE, valid_from__lte=now, valid_until__gt=now)


def holds_usable(user_id, now):
    """Whether `user_id` holds any coupon `usable_filter(now)` admits, in any shop: an
    EXISTS for a statement already sent (checkout reads it with the address), so that a
    shopper who holds none (most orders) costs no read of their coupons."""
    return Exists(UserCoupon.objects.filter(user_id=user_id).filter(usable_filter(now)))


def claimable_templates(*, shop_ids=None, platform=True, now=None):
    """Published templates a shopper may claim now: inside the claim window, some left, not
    expired. `shop_ids` narrows to those shops (plus the platform's when `platform`)."""
    now = now or timezone.now()
    qs = (CouponTemplate.objects.filter(status=TemplateStatus.ACTIVE, claim_starts_at__lte=now,
                                        claim_ends_at__gt=now, issued__lt=F("total_quantity"))
          .exclude(validity=CouponTemplate.Validity.FIXED, valid_until__lte=now)
          .select_related("shop"))
    if shop_ids is not None:
        where = Q(shop_id__in=list(shop_ids))
        if platform:
            where |= Q(shop__isnull=True)
        qs = qs.filter(where)
    return qs.order_by("shop_id", "threshold", "id")


def held_coupons(user, tab="usable", now=None):
    """The user's coupons on a "my coupons" tab: usable (available, not expired, including
    not yet valid ones), used (used, or locked by an unpaid order), expired."""
    now = now or timezone.now()
    qs = UserCoupon.objects.filter(user=user).select_related("template", "template__shop")
    if tab == "used":
        return qs.filter(status__in=[CouponStatus.USED, CouponStatus.LOCKED]).order_by("-locked_at", "-id")
    if tab == "expired":
        return qs.filter(status=CouponStatus.AVAILABLE, valid_until__lte=now).order_by("-valid_until", "-id")
    return qs.filter(status=CouponStatus.AVAILABLE, valid_until__gt=now).order_by("valid_until", "id")


def tab_counts(user, now=None) -> dict:
    return {tab: held_coupons(user, tab, now).count() for tab in TABS}


def held_counts(user, template_ids) -> dict:
    """{template id: how many of it the user holds} for claim buttons ("claimed")."""
    if not getattr(user, "is_authenticated", False):
        return {}
    counts = {}
    for template_id in UserCoupon.objects.filter(user=user, template_id__in=list(template_ids)).values_list(
            "template_id", flat=True):
        counts[template_id] = counts.get(template_id, 0) + 1
    return counts


def is_expired(coupon, now=None) -> bool:
    return coupon.status == CouponStatus.AVAILABLE and coupon.valid_until <= (now or timezone.now())


def shop_templates(shop):
    return CouponTemplate.objects.filter(shop=shop)


def platform_templates():
    return CouponTemplate.objects.filter(shop__isnull=True)
