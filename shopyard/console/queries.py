"""Console reads, always scoped to the current shop."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from shopyard.catalog.models import Brand, Product, Sku
from shopyard.catalog.queries import category_tree, with_cover
from shopyard.core.validation import parse_id
from shopyard.orders.models import Order
from shopyard.orders.state import SOLD, Action, statuses_allowing


def dashboard(shop) -> dict:
    products = Product.objects.filter(shop=shop).aggregate(
        published=Count("pk", filter=Q(status=Product.Status.PUBLISHED)),
        draft=Count("pk", filter=Q(status=Product.Status.DRAFT)),
    )
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    orders = Order.objects.filter(shop=shop).aggregate(
        to_ship=Count("pk", filter=Q(status__in=statuses_allowing(Action.SHIP))),
        pending=Count("pk", filter=Q(status__in=statuses_allowing(Action.PAY))),
        today=Count("pk", filter=Q(placed_at__gte=start, placed_at__lt=start + timedelta(days=1))),
        today_sales=Sum("total", filter=Q(placed_at__gte=start, status__in=SOLD)),
    )
    return {
        "published": products["published"], "draft": products["draft"],
        "to_ship": orders["to_ship"], "pending": orders["pending"], "today": orders["today"],
        "today_sales": orders["today_sales"] or Decimal("0"),
        "currency": shop.currency,
        # the status filters the dashboard's counters link to
        "pending_status": statuses_allowing(Action.PAY)[0], "to_ship_status": statuses_allowing(Action.SHIP)[0],
        "recent": list(Order.objects.filter(shop=shop).select_related("user").order_by("-id")[:5]),
    }


def shop_products(shop, *, q=None, status=None):
    qs = Product.objects.filter(shop=shop)
    if status in Product.Status.values:
        qs = qs.filter(status=status)
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
