"""Review reads, scoped to the caller: everyone reads a product's visible
reviews; a buyer their own (hidden ones too, marked); a shop its own; the
order centre's 待评价 tab and the order page ask here which lines await a review.

Orders must not import reviews (dependency direction), so the 待评价 tab is
composed by the storefront: it narrows orders.queries.buyer_tab_orders with
`awaiting_review` and counts with `awaiting_review_count`.
"""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shopyard.catalog.models import Product
from shopyard.core.validation import parse_id
from shopyard.orders.models import OrderLine

from .models import ProductRating, Review, ReviewPhoto, ShopRating
from .state import PUBLIC, REVIEWABLE_ORDER_STATUSES

# the product page's and the list's filters: name -> condition (labels: filter_label)
FILTERS = {
    "all": Q(),
    "photos": Q(photo_count__gt=0),
    "follow_up": Q(followed_up_at__isnull=False),
    "good": Q(rating__gte=4),
    "medium": Q(rating=3),
    "bad": Q(rating__lte=2),
    **{str(n): Q(rating=n) for n in range(5, 0, -1)},
}

# the seller console's filters
SHOP_FILTERS = {
    "all": Q(),
    "unreplied": Q(replied_at__isnull=True) | Q(followed_up_at__isnull=False, follow_up_replied_at__isnull=True),
    "good": Q(rating__gte=4),
    "medium": Q(rating=3),
    "bad": Q(rating__lte=2),
    "hidden": Q(status="hidden"),
}

LABELS = {
    "all": _("All"), "photos": _("With photos"), "follow_up": _("Followed up"), "good": _("Good"),
    "medium": _("Medium"), "bad": _("Bad"), "unreplied": _("Not replied"), "hidden": _("Hidden"),
}


def filter_label(name) -> str:
    if name in LABELS:
        return str(LABELS[name])
    n = int(name)
    return ngettext("%(n)s star", "%(n)s stars", n) % {"n": n}


def filter_name(value, filters=FILTERS) -> str:
    return value if value in filters else "all"


def _photos():
    return Prefetch("photos", queryset=ReviewPhoto.objects.order_by("part", "position", "id"))


def _listed(qs):
    return qs.select_related("user").prefetch_related(_photos()).order_by("-created_at", "-id")


# --- public --------------------------------------------------------------------


def public_reviews(product_id, *, filter="all"):
    """A product's visible reviews under a filter (FILTERS), newest first, with author and photos."""
    qs = Review.objects.filter(product_id=product_id, status__in=PUBLIC).filter(FILTERS[filter_name(filter)])
    return _listed(qs)


def visible_product(product_id):
    """The product when shoppers may see it (catalog's visibility rule), else None."""
    from shopyard.catalog.queries import visible_products

    pk = parse_id(product_id)
    return visible_products().filter(pk=pk).first() if pk else None


def visible_shop(shop_id):
    """The shop when shoppers may visit it (shops' rule: a suspended shop's page is a 404), else None."""
    from shopyard.shops.queries import active_shops

    pk = parse_id(shop_id)
    return active_shops().filter(pk=pk).first() if pk else None


def _pct(part, whole) -> int:
    return int((Decimal(part * 100) / whole).to_integral_value(ROUND_HALF_UP)) if whole else 0


def _average(total, count) -> Decimal | None:
    return (Decimal(total) / count).quantize(Decimal("0.1"), ROUND_HALF_UP) if count else None


def product_summary(product_id) -> dict:
    """What a product page shows of its reviews, from one row: count, average
    stars, share of good (4-5 stars), count and share per star, and the counts
    the filters show."""
    row = ProductRating.objects.filter(product_id=product_id).first() or ProductRating(product_id=product_id)
    return summarise(row)


def rated():
    """The rating rows of products with visible reviews. The product page reads its product's
    `stars_total` and `count` from here in the product's own row (storefront.queries) and
    gives them to rating_of."""
    return ProductRating.objects.filter(count__gt=0)


def rating_of(stars_total, count):
    """(average stars, count) from a `rated` row's stars_total and count, or None without one:
    what search engines read (the product page's structured data)."""
    return (_average(stars_total, count), count) if count else None


def product_ratings(product_ids) -> dict:
    """{product id: (average stars, count)} of the given products that have visible
    reviews, in one query: what search ranks by."""
    rows = rated().filter(product_id__in=list(product_ids)).values_list("product_id", "stars_total", "count")
    return {pk: rating_of(total, count) for pk, total, count in rows}


def summarise(row) -> dict:
    per_star = {n: getattr(row, f"star_{n}") for n in range(1, 6)}
    good, medium, bad = per_star[4] + per_star[5], per_star[3], per_star[1] + per_star[2]
    counts = {"all": row.count, "photos": row.with_photos, "follow_up": row.with_follow_up,
              "good": good, "medium": medium, "bad": bad, **{str(n): c for n, c in per_star.items()}}
    return {
        "count": row.count,
        "average": _average(row.stars_total, row.count),
        "good_share": _pct(good, row.count),
        "stars": [{"stars": n, "count": per_star[n], "share": _pct(per_star[n], row.count)} for n in range(5, 0, -1)],
        "filters": [{"name": name, "label": filter_label(name), "count": counts[name]} for name in FILTERS],
    }


def shop_summary(shop_id) -> dict:
    """A shop's ratings (products, logistics, service: averages over its visible reviews)."""
    row = ShopRating.objects.filter(shop_id=shop_id).first() or ShopRating(shop_id=shop_id)
    return {
        "count": row.count,
        "product": _average(row.stars_total, row.count),
        "logistics": _average(row.logistics_total, row.count),
        "service": _average(row.service_total, row.count),
        "good_share": _pct(row.good, row.count),
    }


def masked_name(name: str) -> str:
    """An anonymous author as Taobao shows one: the first character and two stars (张**)."""
    return f"{name[:1] or '*'}**"


def author_label(review) -> str:
    name = review.user.display_name
    return masked_name(name) if review.anonymous else name


# --- buyer ---------------------------------------------------------------------


def buyer_line(user, *, order_id, line_id):
    """A line of `user`'s order, with its order; None for anything else (404)."""
    order_pk, line_pk = parse_id(order_id), parse_id(line_id)
    if order_pk is None or line_pk is None or not getattr(user, "pk", None):
        return None
    return OrderLine.objects.select_related("order").filter(pk=line_pk, order_id=order_pk, order__user=user).first()


def line_is_reviewed(line) -> bool:
    return Review.objects.filter(line=line).exists()


def product_of_line(line):
    """The product a line bought, when it still exists."""
    return Product.objects.filter(pk=line.product_id_snapshot).values_list("pk", flat=True).first()


def buyer_review(user, review_id):
    pk = parse_id(review_id)
    if pk is None or not getattr(user, "pk", None):
        return None
    return Review.objects.select_related("order").filter(pk=pk, user=user).first()


def my_reviews(user):
    """The buyer's own reviews, hidden ones included (pages mark them hidden)."""
    return _listed(Review.objects.filter(user=user).select_related("product", "order"))


def review_deadline(order):
    return order.completed_at + timedelta(days=settings.REVIEW_WINDOW_DAYS) if order.completed_at else None


def follow_up_deadline(order):
    return order.completed_at + timedelta(days=settings.FOLLOW_UP_WINDOW_DAYS) if order.completed_at else None


def can_follow_up(review, *, now=None) -> bool:
    deadline = follow_up_deadline(review.order)
    return review.followed_up_at is None and (deadline is None or (now or timezone.now()) <= deadline)


def _awaiting_lines():
    return OrderLine.objects.filter(is_gift=False).exclude(Exists(Review.objects.filter(line=OuterRef("pk"))))


def awaiting_review_q(*, now=None) -> Q:
    """Orders with a line the buyer may still review: completed within the window,
    with a non-gift line not reviewed yet."""
    now = now or timezone.now()
    return Q(status__in=REVIEWABLE_ORDER_STATUSES,
             completed_at__gte=now - timedelta(days=settings.REVIEW_WINDOW_DAYS)) & Q(
        Exists(_awaiting_lines().filter(order=OuterRef("pk"))))


def awaiting_review(orders, *, now=None):
    """Narrow an order queryset (orders.queries.buyer_tab_orders) to the 待评价 tab."""
    return orders.filter(awaiting_review_q(now=now))


def awaiting_review_count(user, *, now=None) -> int:
    from shopyard.orders.models import Order

    return Order.objects.filter(user=user).filter(awaiting_review_q(now=now)).count()


def reviewable_lines(user, *, now=None):
    """The lines `user` may review now, newest order first (the API's list)."""
    now = now or timezone.now()
    return _awaiting_lines().filter(
        order__user=user, order__status__in=REVIEWABLE_ORDER_STATUSES,
        order__completed_at__gte=now - timedelta(days=settings.REVIEW_WINDOW_DAYS),
    ).select_related("order", "order__shop").order_by("-order_id", "id")


def line_states(order, *, now=None) -> dict:
    """Per line of `order` (the buyer's): its review (or None), whether it may be
    reviewed and whether the review may be followed up now. One query."""
    now = now or timezone.now()
    reviews = {r.line_id: r for r in Review.objects.filter(order=order)}
    reviewable = order.status in REVIEWABLE_ORDER_STATUSES
    in_window = reviewable and order.completed_at is not None and now <= review_deadline(order)
    states = {}
    for line in order.lines.all():
        review = reviews.get(line.pk)
        if review is not None:
            review.order = order
        states[line.pk] = {
            "review": review,
            "can_review": review is None and in_window and not line.is_gift,
            "can_follow_up": review is not None and reviewable and can_follow_up(review, now=now),
        }
    return states


# --- seller --------------------------------------------------------------------


def shop_reviews(shop, *, filter="all", stars=None):
    """The shop's reviews (hidden ones too, marked), newest first."""
    qs = Review.objects.filter(shop=shop).filter(SHOP_FILTERS[filter_name(filter, SHOP_FILTERS)])
    if stars is not None:
        qs = qs.filter(rating=stars)
    return _listed(qs.select_related("product"))


def shop_review(shop, review_id):
    pk = parse_id(review_id)
    return Review.objects.filter(pk=pk, shop=shop).first() if pk else None


# --- operators -----------------------------------------------------------------


def all_reviews(*, status=None):
    qs = Review.objects.all()
    if status:
        qs = qs.filter(status=status)
    return _listed(qs.select_related("product", "shop"))


def decorate(reviews) -> list:
    """What pages show of each review: the author (masked when anonymous), the SKU
    and product in the page's language, and the photos of the review and of its
    follow-up (from the prefetched photos)."""
    from shopyard.core.i18n import localized

    out = []
    for r in reviews:
        r.author = author_label(r)
        r.sku_label = localized(r, "sku_name")
        photos = list(r.photos.all())
        r.review_photos = [p for p in photos if p.part == ReviewPhoto.Part.REVIEW]
        r.follow_up_photos = [p for p in photos if p.part == ReviewPhoto.Part.FOLLOW_UP]
        if Review.product.is_cached(r):
            r.product_label = localized(r.product, "title")
        out.append(r)
    return out
