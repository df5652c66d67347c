"""Coupons over HTTP: shoppers list claimable coupons, claim them and read their own;
sellers create, publish, stop and issue their shop's. Handlers parse, authorise
(shops.queries.shop_for_seller) and call one service; coupon_services holds the rules."""

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status

from shopyard.core.api_support import Id, InSchema, PageMeta, bearer, paginate, responses
from shopyard.core.money import money_str
from shopyard.shops.queries import shop_for_seller

from . import coupon_services as services
from .coupon_queries import TABS, claimable_templates, held_coupons, is_expired, shop_templates

router = Router(tags=["coupons"])
seller_router = Router(tags=["seller"])


class CouponTemplateOut(Schema):
    id: int
    shop_id: int | None = Field(None, description="null for a platform coupon")
    name: str
    name_en: str
    benefit: str = Field(..., description="amount | percent | free_shipping")
    benefit_label: str = Field(..., description="e.g. 满¥200.00减¥20.00")
    benefit_label_en: str
    currency: str
    threshold: str
    amount_off: str | None
    percent_off: str | None
    max_off: str | None
    scope: str
    total_quantity: int
    remaining: int
    per_user_limit: int
    validity: str = Field(..., description="fixed | days")
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    claim_starts_at: datetime
    claim_ends_at: datetime
    status: str
    funded_by: str


def template_out(t) -> dict:
    zh, en = services.describe_benefit(t)
    amount = lambda v: None if v is None else money_str(v, t.currency)  # noqa: E731
    return {"id": t.pk, "shop_id": t.shop_id, "name": t.name, "name_en": t.name_en, "benefit": t.benefit,
            "benefit_label": zh, "benefit_label_en": en, "currency": t.currency, "threshold": amount(t.threshold),
            "amount_off": amount(t.amount_off), "percent_off": None if t.percent_off is None else f"{t.percent_off:f}",
            "max_off": amount(t.max_off), "scope": t.scope, "total_quantity": t.total_quantity,
            "remaining": t.remaining, "per_user_limit": t.per_user_limit, "validity": t.validity,
            "valid_from": t.valid_from, "valid_until": t.valid_until, "valid_days": t.valid_days,
            "claim_starts_at": t.claim_starts_at, "claim_ends_at": t.claim_ends_at, "status": t.status,
            "funded_by": t.funded_by}


class TemplatePage(Schema):
    results: list[CouponTemplateOut]
    meta: PageMeta


class CouponOut(Schema):
    id: int
    template: CouponTemplateOut
    status: str = Field(..., description="available | locked (in an unpaid order) | used | expired")
    source: str
    claimed_at: datetime
    valid_from: datetime
    valid_until: datetime
    order_ids: list[int]


def coupon_out(c) -> dict:
    return {"id": c.pk, "template": template_out(c.template), "status": "expired" if is_expired(c) else c.status,
            "source": c.source, "claimed_at": c.claimed_at, "valid_from": c.valid_from, "valid_until": c.valid_until,
            "order_ids": [o.pk for o in c.orders.all()]}


class CouponPage(Schema):
    results: list[CouponOut]
    meta: PageMeta


class Paging(Schema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


class ClaimableFilters(Paging):
    shop_id: int | None = Field(None, ge=1, le=2**53, description="one shop's coupons and the platform's")


class MineFilters(Paging):
    tab: str = Field("usable", pattern="^(usable|used|expired)$", description=" | ".join(TABS))


@router.get("/coupons", response=responses({200: TemplatePage}), auth=None)
def list_claimable(request, filters: Query[ClaimableFilters]):
    """Coupons anyone may claim now (published, claim window open, some left)."""
    qs = claimable_templates(shop_ids=[filters.shop_id]) if filters.shop_id else claimable_templates()
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"results": [template_out(t) for t in items], "meta": meta})


@router.post("/coupons/{template_id}/claim", response=responses({201: CouponOut}), auth=bearer)
def claim(request, template_id: Id):
    """Claim one coupon: 409 with the reason when stopped, not open, all claimed or at your limit."""
    coupon = services.claim_coupon(actor=request.auth, template_id=template_id)
    return Status(201, coupon_out(coupon))


@router.get("/me/coupons", response=responses({200: CouponPage}), auth=bearer)
def my_coupons(request, filters: Query[MineFilters]):
    qs = held_coupons(request.auth, filters.tab).prefetch_related("orders")
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"results": [coupon_out(c) for c in items], "meta": meta})


# --- sellers -------------------------------------------------------------------------------

class CouponTemplateIn(InSchema):
    name: str = Field(..., max_length=100)
    name_en: str = Field("", max_length=100)
    benefit: str = Field(..., description="amount | percent | free_shipping")
    threshold: str | None = Field(None, max_length=20, description="minimum spend; 0 or empty for none")
    amount_off: str | None = Field(None, max_length=20)
    percent_off: str | None = Field(None, max_length=10, description="in (0, 100]")
    max_off: str | None = Field(None, max_length=20, description="the most a percentage coupon takes off")
    scope: str = Field("all", description="all | categories | products")
    target_ids: list[int] | None = Field(None, max_length=500)
    total_quantity: int = Field(..., description="1 to 10,000,000")
    per_user_limit: int = Field(1, description="1 to 100")
    validity: str = Field("fixed", description="fixed (valid_from/valid_until) | days (valid_days after claiming)")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None
    claim_starts_at: datetime
    claim_ends_at: datetime


class IssueIn(InSchema):
    usernames: list[str] = Field(..., min_length=1, max_length=services.MAX_ISSUE)


class IssuedOut(Schema):
    username: str
    coupon_id: int


class SkippedOut(Schema):
    username: str
    reason: str


class IssueReportOut(Schema):
    issued: list[IssuedOut]
    skipped: list[SkippedOut]


@seller_router.get("/coupons", response=responses({200: TemplatePage}), auth=bearer)
def seller_templates(request, filters: Query[Paging]):
    shop = shop_for_seller(request.auth, perm="promotions")
    items, meta = paginate(shop_templates(shop).order_by("-id"), filters.page, filters.page_size)
    return Status(200, {"results": [template_out(t) for t in items], "meta": meta})


@seller_router.post("/coupons", response=responses({201: CouponTemplateOut}), auth=bearer)
def seller_create(request, payload: CouponTemplateIn):
    """A draft coupon template of the seller's shop, funded by the shop; publish it to hand it out."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    template = services.create_template(actor=request.auth, shop=shop, **payload.dict())
    return Status(201, template_out(template))


@seller_router.post("/coupons/{template_id}/publish", response=responses({200: CouponTemplateOut}), auth=bearer)
def seller_publish(request, template_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    return Status(200, template_out(services.publish_template(actor=request.auth, shop=shop, template_id=template_id)))


@seller_router.post("/coupons/{template_id}/stop", response=responses({200: CouponTemplateOut}), auth=bearer)
def seller_stop(request, template_id: Id):
    """No more claims or issues; coupons already held stay usable until they expire."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    return Status(200, template_out(services.stop_template(actor=request.auth, shop=shop, template_id=template_id)))


@seller_router.post("/coupons/{template_id}/issue", response=responses({200: IssueReportOut}), auth=bearer)
def seller_issue(request, template_id: Id, payload: IssueIn):
    """Give one coupon to each named shopper; the report says who got one and why the others did not."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    report = services.issue_coupons(actor=request.auth, shop=shop, template_id=template_id, usernames=payload.usernames)
    return Status(200, {"issued": [{"username": n, "coupon_id": c.pk} for n, c in report.issued],
                        "skipped": [{"username": n, "reason": str(r)} for n, r in report.skipped]})


__all__ = ["router", "seller_router"]
