"""Reads for the home page's operator content: one query per kind, whatever
the number of rows. Rows that start later are read too (never many), so the
same query also tells when the page next changes by itself. And the product
page's catalogue rows, with what decides which of its other parts it reads."""

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from shopyard.catalog.queries import product_row_read, product_rows
from shopyard.promotions import flash_queries, group_queries
from shopyard.reviews import queries as review_queries
from shopyard.service import queries as service_queries

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


# --- the product page -------------------------------------------------------------------
# Most products have no answered question, no group buy and no flash sale, and many no
# review: reading each part's rows cost a statement apiece on every view whose rows were
# not kept. The product's own row says, by an Exists over each app's own queryset (the
# rule stays in its home), which parts have rows at `now`, and carries its rating.


def _page_parts(now, until):
    product = OuterRef("pk")
    rating = review_queries.rated().filter(product_id=product)
    return {
        "has_questions": Exists(service_queries.shown_questions(product)),
        "has_group_buys": Exists(group_queries.offer_items(product, now)),
        "has_flash_sales": Exists(flash_queries.session_items(product, now, until)),
        "rating_stars": Subquery(rating.values("stars_total")),
        "rating_count": Subquery(rating.values("count")),
    }


# compiled once (core.prepared): every product view whose rows are not kept reads it
_PRODUCT_PAGE_ROW = product_row_read(_page_parts, kinds=("moment", "moment"))


def product_page_rows(product_id, now):
    """What a product page reads of the catalogue at `now`: (product as product_rows reads it
    with its category path and brand, (answered questions' count, the newest few), group-buy
    items (group_queries.offer_rows), flash items (flash_queries.product_sessions), rating
    (reviews' rating_of: search engines' structured data)). A part without rows costs no
    statement: two for a product with none (its row with its pictures and attributes, its SKUs)."""
    p = product_rows(product_id, row=_PRODUCT_PAGE_ROW, variables=(now, flash_queries.horizon(now)))
    has = p.__dict__  # the parts' answers leave the product (it is kept: storefront.fragments)
    questions = service_queries.product_qa_block(product_id) if has.pop("has_questions") else (0, [])
    group_items = group_queries.offer_rows(product_id, now) if has.pop("has_group_buys") else []
    flash_items = flash_queries.product_sessions(product_id, now) if has.pop("has_flash_sales") else []
    rating = review_queries.rating_of(has.pop("rating_stars"), has.pop("rating_count"))
    return p, questions, group_items, flash_items, rating
