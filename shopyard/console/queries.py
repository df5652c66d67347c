"""Console reads, always scoped to the current shop."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from shopyard.catalog.models import Brand, Product, Sku
from shopyard.catalog.queries import category_tree, with_cover
from shopyard.checkout.pricing import price_lines
from shopyard.core.money import Money, format_price
from shopyard.core.validation import parse_id
from shopyard.orders import queries as order_queries
from shopyard.orders.models import Order
from shopyard.orders.state import SOLD, Action, statuses_allowing
from shopyard.settlement.queries import balance as settlement_balance

# a whole phone number as typed in a search box: mainland mobile or +international
PHONE_QUERY = re.compile(r"^\+?[0-9]{6,15}$")


def today_bounds(now=None) -> tuple[datetime, datetime]:
    """Midnight to midnight of the shop's day (settings.TIME_ZONE), not UTC's:
    a seller in Shanghai closes the day at 00:00 Beijing time."""
    tz = ZoneInfo(settings.TIME_ZONE)
    day = timezone.localtime(now or timezone.now(), tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def low_stock_threshold(shop) -> int:
    return settings.LOW_STOCK_THRESHOLD


def low_stock_skus(shop, *, threshold=None, limit=20):
    """Active SKUs of the shop at or under the threshold, emptiest first (one query)."""
    threshold = low_stock_threshold(shop) if threshold is None else threshold
    return (Sku.objects.filter(product__shop=shop, is_active=True, stock__quantity__lte=threshold)
            .select_related("product", "stock").order_by("stock__quantity", "pk")[:limit])


def dashboard(shop, *, now=None) -> dict:
    """The dashboard's figures: one query for products, one for orders, one
    for low-stock SKUs, one for the latest orders, one for the balance."""
    products = Product.objects.filter(shop=shop).aggregate(
        published=Count("pk", filter=Q(status=Product.Status.PUBLISHED)),
        draft=Count("pk", filter=Q(status=Product.Status.DRAFT)),
    )
    start, end = today_bounds(now)
    paid_today = Q(paid_at__gte=start, paid_at__lt=end, status__in=SOLD)
    orders = Order.objects.filter(shop=shop).aggregate(
        to_ship=Count("pk", filter=Q(status__in=statuses_allowing(Action.SHIP))),
        pending=Count("pk", filter=Q(status__in=statuses_allowing(Action.PAY))),
        today=Count("pk", filter=paid_today),
        today_sales=Sum("total", filter=paid_today),
    )
    threshold = low_stock_threshold(shop)
    today_sales = orders["today_sales"] or Decimal("0")
    return {
        "published": products["published"], "draft": products["draft"],
        "to_ship": orders["to_ship"], "pending": orders["pending"], "today": orders["today"],
        "today_sales": today_sales, "today_sales_display": format_price(today_sales, shop.currency),
        "currency": shop.currency,
        # the status filters the dashboard's counters link to
        "pending_status": statuses_allowing(Action.PAY)[0], "to_ship_status": statuses_allowing(Action.SHIP)[0],
        "low_stock": list(low_stock_skus(shop, threshold=threshold)), "low_stock_threshold": threshold,
        "recent": list(Order.objects.filter(shop=shop).select_related("user").order_by("-id")[:5]),
        # what the platform owes the shop now (settlement's ledger): one query
        "balance": settlement_balance(shop),
    }


def shop_orders(shop, *, status=None, q=None, paid_today=False, now=None):
    """The shop's orders for the console list: by status (a value of
    orders.state.Status), by order number (part of it) or buyer phone (the
    address snapshot's, or the buyer account's; whole number), and "paid today"."""
    qs = order_queries.shop_orders(shop, status=status or None)
    if q:
        match = Q(number__icontains=q)
        if PHONE_QUERY.match(q):
            match |= Q(shipping_address__phone=q) | Q(user__phone=q)
        qs = qs.filter(match)
    if paid_today:
        start, end = today_bounds(now)
        qs = qs.filter(paid_at__gte=start, paid_at__lt=end, status__in=SOLD)
    return qs


def packing_orders(shop, ids):
    """The shop's orders among `ids` (a foreign or unknown id is simply absent),
    with their lines, in id order."""
    return list(order_queries.shop_orders(shop).filter(pk__in=ids).order_by("pk"))


def shippable_orders(shop, ids=None):
    """Paid orders waiting to ship and not on hold (optionally among `ids`), oldest first."""
    qs = order_queries.shop_orders(shop).filter(status__in=statuses_allowing(Action.SHIP), hold="")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return list(qs.order_by("pk")[:100])


def shop_products(shop, *, q=None, status=None, low_stock=False):
    qs = Product.objects.filter(shop=shop)
    if status in Product.Status.values:
        qs = qs.filter(status=status)
    if low_stock:
        low = Sku.objects.filter(product__shop=shop, is_active=True,
                                 stock__quantity__lte=low_stock_threshold(shop)).values("product_id")
        qs = qs.filter(pk__in=low)
    if q:
        by_code = Sku.objects.filter(code__iexact=q).values("product_id")
        qs = qs.filter(Q(title__icontains=q) | Q(title_en__icontains=q) | Q(pk__in=by_code))
    qs = qs.annotate(
        total_stock=Sum("skus__stock__quantity", filter=Q(skus__is_active=True)),
        sku_count=Count("skus", filter=Q(skus__is_active=True)),
    )
    return with_cover(qs).order_by("-id")


def shop_product(shop, product_id):
    product_id = parse_id(product_id)
    if product_id is None:
        return None
    return with_cover(Product.objects.filter(shop=shop, pk=product_id)).first()


def category_choices():
    """The two-level tree as (id, label, depth) rows for one <select>."""
    rows = []
    for root in category_tree():
        rows.append((root.pk, root.label, 0))
        rows.extend((child.pk, child.label, 1) for child in root.child_list)
    return rows


def brand_choices():
    return list(Brand.objects.order_by("name"))



# --- promotions ------------------------------------------------------------

PICKER_LIMIT = 300  # products or SKUs a picker lists


def promotion_products(shop):
    """The shop's products for the scope picker (drafts too: a promotion may be set up first)."""
    return list(Product.objects.filter(shop=shop).order_by("-id")[:PICKER_LIMIT])


def promotion_skus(shop):
    """The shop's SKUs for the scope, gift and add-on pickers, with stock for the label."""
    return list(Sku.objects.filter(product__shop=shop).select_related("product", "stock")
                .order_by("product_id", "pk")[:PICKER_LIMIT])


def price_examples(preview, *, lang) -> list:
    """Each example basket of a promotion preview priced by the pipeline with that promotion
    alone: rows of {lines: [(priced line, explanation)], list total, price, saving}."""
    rows = []
    for example in preview.examples:
        pricing = price_lines([(sku, quantity, i) for i, (sku, quantity) in enumerate(example.entries)],
                              offers=[preview.offer])
        if pricing.total is None:
            continue
        lines = pricing.lines
        listed = sum((line.line_total for line in lines if not line.is_gift), start=_zero(lines))
        paid = sum((line.net_total for line in lines), start=_zero(lines))
        rows.append({"lines": [(line, line.explain(lang)) for line in lines], "list_total": listed,
                     "price": paid, "saving": listed - paid, "tier": example.note,
                     "gift": any(line.is_gift for line in lines)})
    return rows


def _zero(lines):
    return Money.zero(lines[0].unit_price.currency)


def campaign_groups(campaign, *, limit=200):
    """A group-buy campaign's groups, newest first, each with how many joined and how many paid."""
    from shopyard.promotions.models import Group

    return list(Group.objects.filter(campaign=campaign).select_related("item__sku__product", "leader")
                .annotate(joined=Count("members"), paid=Count("members", filter=Q(members__paid_at__isnull=False)))
                .order_by("-id")[:limit])
