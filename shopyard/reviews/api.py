"""Reviews over HTTP: parse, authorise, call a service, serialise.

- everyone: a visible product's reviews with a filter, and its aggregate;
- buyers (bearer): the lines they may review, their reviews (hidden ones marked),
  writing a review and its one follow-up (multipart, with photos);
- sellers: their shop's reviews and the one reply to a review and to its follow-up;
- operators: every review, hide and show with a reason.
Every rule (completed orders only, once per line, 1-5 stars, photo checks, one
follow-up, one reply, another buyer's or shop's review is 404) is the services'.
"""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from shopyard.core.access import api_operator
from shopyard.core.api_support import Id, InSchema, PageMeta, bearer, paginate, responses
from shopyard.core.errors import NotFound
from shopyard.core.i18n import localized
from shopyard.shops.queries import shop_for_seller

from . import queries, services
from .state import Status as ReviewStatus

router = Router(tags=["reviews"])
seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])

FILTER_HELP = "all, photos, follow_up, good (4-5 stars), medium (3), bad (1-2), or 1..5 for one star count"


class ReviewPhotoOut(Schema):
    part: str
    url: str
    thumbnail: str


class ReviewOut(Schema):
    id: int
    product_id: int
    author: str
    anonymous: bool
    rating: int
    logistics: int
    service: int
    text: str
    sku_name: str
    photos: list[ReviewPhotoOut]
    created_at: datetime
    follow_up: str
    followed_up_at: datetime | None
    reply: str
    replied_at: datetime | None
    follow_up_reply: str
    follow_up_replied_at: datetime | None


class OwnReviewOut(ReviewOut):
    order_id: int
    line_id: int
    status: str
    hidden_reason: str


def review_out(r, *, own=False) -> dict:
    out = {
        "id": r.pk, "product_id": r.product_id, "author": queries.author_label(r), "anonymous": r.anonymous,
        "rating": r.rating, "logistics": r.logistics, "service": r.service, "text": r.text,
        "sku_name": localized(r, "sku_name"),
        "photos": [{"part": p.part, "url": p.image.url, "thumbnail": p.thumbnail.url} for p in r.photos.all()],
        "created_at": r.created_at, "follow_up": r.follow_up, "followed_up_at": r.followed_up_at,
        "reply": r.reply, "replied_at": r.replied_at, "follow_up_reply": r.follow_up_reply,
        "follow_up_replied_at": r.follow_up_replied_at,
    }
    if own:
        out.update({"order_id": r.order_id, "line_id": r.line_id, "status": r.status,
                    "hidden_reason": r.hidden_reason})
    return out


class StarCount(Schema):
    stars: int
    count: int
    share: int = Field(..., description="percent of the reviews, rounded")


class FilterCount(Schema):
    name: str
    label: str
    count: int


class SummaryOut(Schema):
    count: int
    average: Decimal | None
    good_share: int = Field(..., description="percent of reviews with 4 or 5 stars, rounded")
    stars: list[StarCount]
    filters: list[FilterCount]


class ProductReviewPage(Schema):
    summary: SummaryOut
    meta: PageMeta
    results: list[ReviewOut]


class OwnReviewPage(Schema):
    meta: PageMeta
    results: list[OwnReviewOut]


class ReviewPaging(Schema):
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


class ReviewFilters(ReviewPaging):
    filter: str = Field("all", max_length=20, description=FILTER_HELP)


class ShopFilters(ReviewPaging):
    filter: str = Field("all", max_length=20, description="all, unreplied, good, medium, bad, hidden")
    stars: int | None = Field(None, ge=1, le=5)


class OperatorFilters(ReviewPaging):
    status: ReviewStatus | None = None


class ShopRatingOut(Schema):
    count: int
    product: Decimal | None
    logistics: Decimal | None
    service: Decimal | None
    good_share: int


# --- public --------------------------------------------------------------------

@router.get("/products/{product_id}/reviews", response=responses({200: ProductReviewPage}))
def product_reviews(request, product_id: Id, filters: Query[ReviewFilters]):
    """A visible product's visible reviews, newest first, with the aggregate (404 for a hidden product)."""
    if queries.visible_product(product_id) is None:
        raise NotFound(_("Product not found."))
    items, meta = paginate(queries.public_reviews(product_id, filter=filters.filter), filters.page, filters.page_size)
    return Status(200, {"summary": queries.product_summary(product_id), "meta": meta,
                        "results": [review_out(r) for r in items]})


@router.get("/shops/{shop_id}/rating", response=responses({200: ShopRatingOut}))
def shop_rating(request, shop_id: Id):
    """A shop's ratings: average product stars, logistics and service scores of its visible reviews
    (404 for an unknown or suspended shop)."""
    if queries.visible_shop(shop_id) is None:
        raise NotFound(_("Shop not found."))
    return Status(200, queries.shop_summary(shop_id))


# --- buyers --------------------------------------------------------------------

class ReviewableLineOut(Schema):
    order_id: int
    order_number: str
    line_id: int
    product_id: int
    product_title: str
    sku_name: str
    completed_at: datetime | None


class ReviewForm(Schema):
    rating: int = Field(..., ge=1, le=5, description="product stars, 1-5")
    logistics: int = Field(..., ge=1, le=5)
    service: int = Field(..., ge=1, le=5)
    text: str = Field("", max_length=services.MAX_TEXT)
    anonymous: bool = False


class FollowUpForm(Schema):
    text: str = Field(..., max_length=services.MAX_TEXT)


@router.get("/reviews/reviewable", response=responses({200: list[ReviewableLineOut]}), auth=bearer)
def reviewable(request):
    """The lines of your completed orders still waiting for a review (the 待评价 tab)."""
    return Status(200, [{
        "order_id": line.order_id, "order_number": line.order.number, "line_id": line.pk,
        "product_id": line.product_id_snapshot, "product_title": localized(line, "product_title"),
        "sku_name": localized(line, "sku_name"), "completed_at": line.order.completed_at,
    } for line in queries.reviewable_lines(request.auth)[:200]])


@router.get("/reviews/mine", response=responses({200: OwnReviewPage}), auth=bearer)
def my_reviews(request, filters: Query[ReviewPaging]):
    """Your reviews, hidden ones too (status "hidden", with the reason)."""
    items, meta = paginate(queries.my_reviews(request.auth), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [review_out(r, own=True) for r in items]})


@router.post("/orders/{order_id}/lines/{line_id}/review", response=responses({201: OwnReviewOut}), auth=bearer)
def create_review(request, order_id: Id, line_id: Id, payload: Form[ReviewForm],
                  photos: File[list[UploadedFile]] = None):
    """Review a line of your completed order (multipart: the fields and up to 6 `photos`)."""
    r = services.create_review(actor=request.auth, order_id=order_id, line_id=line_id, rating=payload.rating,
                               logistics=payload.logistics, service=payload.service, text=payload.text,
                               anonymous=payload.anonymous, photos=photos or [])
    return Status(201, review_out(queries.my_reviews(request.auth).get(pk=r.pk), own=True))


@router.post("/reviews/{review_id}/follow-up", response=responses({200: OwnReviewOut}), auth=bearer)
def follow_up(request, review_id: Id, payload: Form[FollowUpForm], photos: File[list[UploadedFile]] = None):
    """Add the one follow-up (追评) to your review (multipart: `text` and up to 6 `photos`)."""
    r = services.add_follow_up(actor=request.auth, review_id=review_id, text=payload.text, photos=photos or [])
    return Status(200, review_out(queries.my_reviews(request.auth).get(pk=r.pk), own=True))


# --- sellers -------------------------------------------------------------------

class ReviewReplyIn(InSchema):
    text: str = Field(..., max_length=services.MAX_REPLY)


@seller_router.get("/reviews", response=responses({200: OwnReviewPage}), auth=bearer)
def seller_reviews(request, filters: Query[ShopFilters]):
    """Your shop's reviews, newest first (filter=unreplied: a review or follow-up without your reply)."""
    shop = shop_for_seller(request.auth, perm="reviews")
    items, meta = paginate(queries.shop_reviews(shop, filter=filters.filter, stars=filters.stars),
                           filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [review_out(r, own=True) for r in items]})


def _seller_out(shop, review_id):
    return review_out(queries.shop_reviews(shop).get(pk=review_id), own=True)


@seller_router.post("/reviews/{review_id}/reply", response=responses({200: OwnReviewOut}), auth=bearer)
def seller_reply(request, review_id: Id, payload: ReviewReplyIn):
    """Reply once to a review of your shop (409 the second time; 404 for another shop's)."""
    shop = shop_for_seller(request.auth, write=True, perm="reviews")
    services.reply(actor=request.auth, shop=shop, review_id=review_id, text=payload.text)
    return Status(200, _seller_out(shop, review_id))


@seller_router.post("/reviews/{review_id}/follow-up-reply", response=responses({200: OwnReviewOut}), auth=bearer)
def seller_follow_up_reply(request, review_id: Id, payload: ReviewReplyIn):
    """Reply once to the review's follow-up (409 before there is one, or the second time)."""
    shop = shop_for_seller(request.auth, write=True, perm="reviews")
    services.reply_to_follow_up(actor=request.auth, shop=shop, review_id=review_id, text=payload.text)
    return Status(200, _seller_out(shop, review_id))


# --- operators -----------------------------------------------------------------

class ModerationReasonIn(InSchema):
    reason: str = Field(..., max_length=services.MAX_REASON)


def _operator(request):
    api_operator(request, _("Only platform operators may hide or show reviews."))


@operator_router.get("/reviews", response=responses({200: OwnReviewPage}), auth=bearer)
def operator_reviews(request, filters: Query[OperatorFilters]):
    """Every review, newest first, optionally of one status."""
    _operator(request)
    items, meta = paginate(queries.all_reviews(status=filters.status), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [review_out(r, own=True) for r in items]})


@operator_router.post("/reviews/{review_id}/hide", response=responses({200: OwnReviewOut}), auth=bearer)
def operator_hide(request, review_id: Id, payload: ModerationReasonIn):
    """Hide a review from product pages and aggregates, with a reason (409 when hidden already)."""
    r = services.hide_review(actor=request.auth, review_id=review_id, reason=payload.reason)
    return Status(200, review_out(queries.all_reviews().get(pk=r.pk), own=True))


@operator_router.post("/reviews/{review_id}/show", response=responses({200: OwnReviewOut}), auth=bearer)
def operator_show(request, review_id: Id, payload: ModerationReasonIn):
    """Show a hidden review again, with a reason (409 when it is visible)."""
    r = services.show_review(actor=request.auth, review_id=review_id, reason=payload.reason)
    return Status(200, review_out(queries.all_reviews().get(pk=r.pk), own=True))
