"""Reads of flash sales shared by pages and the API, scoped to the caller:
shoppers see published sessions; a seller sees their shop's; operators the
platform's. Listings cost a fixed number of queries."""

from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.queries import visible_skus
from shopyard.core.access import is_operator
from shopyard.core.errors import NotFound, PermissionDenied
from shopyard.core.prepared import PreparedRead
from shopyard.core.validation import parse_id

from .flash_state import Status
from .models import FlashSale, FlashSaleItem

# how far ahead the shoppers' listing looks for the next sessions
UPCOMING_DAYS = 7


def _items(*, visible_only=False):
    items = FlashSaleItem.objects.select_related("sku__product__shop").order_by("id")
    if visible_only:  # shoppers see only what they may buy (catalog's one visibility rule)
        items = items.filter(sku__in=visible_skus())
    return Prefetch("items", queryset=items)


def public_sessions(now=None, *, limit=10):
    """Published sessions that are live now or start within UPCOMING_DAYS, soonest first."""
    now = now or timezone.now()
    return list(FlashSale.objects.filter(status=Status.SCHEDULED, ends_at__gt=now,
                                         starts_at__lte=horizon(now))
                .select_related("shop").prefetch_related(_items(visible_only=True)).order_by("starts_at", "id")[:limit])


def featured_session(now=None):
    """The session the flash-sale page shows: the live one ending first, else the next to start."""
    sessions = public_sessions(now)
    now = now or timezone.now()
    live = [s for s in sessions if s.starts_at <= now]
    return (live or sessions or [None])[0]


def live_item_for_sku(sku_id, now=None):
    """The flash item a SKU is sold as in a live session now (for the product page badge), or None."""
    now = now or timezone.now()
    return (FlashSaleItem.objects.select_related("sale")
            .filter(sku_id=sku_id, sale__status=Status.SCHEDULED, sale__starts_at__lte=now, sale__ends_at__gt=now)
            .order_by("sale__ends_at", "id").first())


def flash_for_product(product_id, now=None, rows=None):
    """({sku_id: flash item live now}, when a session of the product's active SKUs next
    starts or ends, or None), in one query compiled once (core.prepared): what a product
    page shows, and when that changes by itself (the page cache keeps the page no longer).
    `rows`, when given, is product_sessions' answer at `now` (read by the caller already)."""
    now = now or timezone.now()
    live, moments = {}, []
    for item in (product_sessions(product_id, now) if rows is None else rows):
        if item.sale.starts_at <= now:
            live[item.sku_id] = item  # the one ending first wins (rows come latest-ending first)
        moments += [t for t in (item.sale.starts_at, item.sale.ends_at) if t > now]
    return live, (min(moments) if moments else None)


def product_sessions(product_id, now) -> list:
    """The flash items of the product's active SKUs in published sessions that have not ended
    at `now` and start within UPCOMING_DAYS, latest-ending first, with their session: what
    flash_for_product reads. Their units left change with every purchase."""
    return _FLASH_OF_PRODUCT.objects(product_id, now, horizon(now))


def horizon(now):
    """How far ahead of `now` a product's sessions are read (product_sessions)."""
    return now + timedelta(days=UPCOMING_DAYS)


def session_items(product_id, now, until):
    """product_sessions' queryset: `until` is horizon(now). `product_id` may be an OuterRef:
    the product page asks, in its product's own row, whether it has any (storefront.queries),
    and reads them only when it does."""
    return (FlashSaleItem.objects.select_related("sale")
            .filter(sku__product_id=product_id, sku__is_active=True, sale__status=Status.SCHEDULED,
                    sale__ends_at__gt=now, sale__starts_at__lte=until)
            .order_by("-sale__ends_at", "-id"))


_FLASH_OF_PRODUCT = PreparedRead(FlashSaleItem, session_items, kinds=("id", "moment", "moment"))


def seller_sessions(shop):
    return FlashSale.objects.filter(shop=shop).prefetch_related(_items()).order_by("-starts_at", "-id")


def seller_session(shop, sale_id) -> FlashSale:
    sale = seller_sessions(shop).filter(pk=parse_id(sale_id) or 0).first()
    if sale is None:
        raise NotFound(_("Flash sale not found."))
    return sale


def platform_sessions(actor):
    if not is_operator(actor):
        raise PermissionDenied(_("Only platform operators may do this."))
    return FlashSale.objects.filter(shop__isnull=True).prefetch_related(_items()).order_by("-starts_at", "-id")


def platform_session(actor, sale_id) -> FlashSale:
    sale = platform_sessions(actor).filter(pk=parse_id(sale_id) or 0).first()
    if sale is None:
        raise NotFound(_("Flash sale not found."))
    return sale


def phase(sale, now) -> str:
    """upcoming | live | ended | draft | cancelled: what a shopper sees of a session now."""
    if sale.status == Status.SCHEDULED:
        if now < sale.starts_at:
            return "upcoming"
        return "live" if now < sale.ends_at else "ended"
    return sale.status

