"""A seller's promotions over HTTP (/api/v1/seller/promotions): list, create, read,
change, publish and stop. Handlers parse, authorise (shops.queries.shop_for_seller)
and call one service; the rules of what a promotion may hold and when it may
change are promotions.rules and promotions.services."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status

from shopyard.core.api_support import BodyId, Id, InSchema, PageMeta, bearer, paginate, responses
from shopyard.core.errors import DomainError, NotFound
from shopyard.shops.queries import shop_for_seller

from . import queries, services
from .rules import parse

seller_router = Router(tags=["seller"])


class PromotionIn(InSchema):
    kind: str = Field(..., max_length=30, description="time_discount, spend_tiers, multi_buy, bundle_price, gift "
                                                       "or add_on")
    name: str = Field(..., max_length=200)
    name_en: str = Field("", max_length=200)
    starts_at: datetime
    ends_at: datetime
    rules: dict[str, Any] = Field(..., description='the kind\'s rule, e.g. {"nth": 2, "percent_off": "50"}; '
                                                  "see docs/promotions.md")
    scope: Literal["all", "categories", "products", "skus"] = "all"
    target_ids: list[BodyId] | None = Field(None, max_length=500, description="the scope's categories, "
                                                                              "products or SKUs")
    stacks_with: list[str] | None = Field(None, max_length=20, description="kinds it combines with; "
                                                                           "omitted: the kind's default")


class PromotionPatch(InSchema):
    """Only the fields sent change. Once a promotion has started only its names and its end can."""

    name: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    rules: dict[str, Any] | None = None
    scope: Literal["all", "categories", "products", "skus"] | None = None
    target_ids: list[BodyId] | None = Field(None, max_length=500)
    stacks_with: list[str] | None = Field(None, max_length=20)


class PromotionOut(Schema):
    id: int
    kind: str
    name: str
    name_en: str
    status: str
    phase: Literal["draft", "scheduled", "live", "ended"]
    starts_at: datetime
    ends_at: datetime
    currency: str
    rules: dict[str, Any]
    summary: str
    summary_en: str
    scope: str
    target_ids: list[int]
    stacks_with: list[str]
    created_at: datetime
    published_at: datetime | None
    stopped_at: datetime | None


class PromotionPage(Schema):
    meta: PageMeta
    results: list[PromotionOut]


class PromotionFilters(Schema):
    phase: Literal["draft", "scheduled", "live", "ended"] | None = None
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(24, ge=1, le=100)


def _targets(p) -> list[int]:
    relation = {"categories": p.categories, "products": p.products, "skus": p.skus}.get(p.scope)
    return [row.pk for row in relation.all()] if relation is not None else []


def out(p) -> dict:
    try:
        summary, summary_en = parse(p.kind, p.rules, currency=p.currency).describe(p.currency)
    except (DomainError, AttributeError):
        summary = summary_en = ""
    return {
        "id": p.pk, "kind": p.kind, "name": p.name, "name_en": p.name_en, "status": p.status, "phase": p.phase,
        "starts_at": p.starts_at, "ends_at": p.ends_at, "currency": p.currency, "rules": p.rules,
        "summary": summary, "summary_en": summary_en, "scope": p.scope, "target_ids": _targets(p),
        "stacks_with": list(p.stacks_with or []), "created_at": p.created_at, "published_at": p.published_at,
        "stopped_at": p.stopped_at,
    }


def _one(shop, promotion_id) -> dict:
    promotion = queries.promotion_of(shop, promotion_id)
    if promotion is None:
        raise NotFound()
    return out(promotion)


@seller_router.get("/promotions", response=responses({200: PromotionPage}), auth=bearer)
def seller_promotions(request, filters: Query[PromotionFilters]):
    """The caller's shop's promotions, newest first, each with its phase."""
    shop = shop_for_seller(request.auth, perm="promotions")
    items, meta = paginate(queries.promotions_of(shop, phase=filters.phase), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [out(p) for p in items]})


@seller_router.post("/promotions", response=responses({201: PromotionOut}), auth=bearer)
def seller_create_promotion(request, payload: PromotionIn):
    """A draft promotion; nothing is priced at it until it is published."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    promotion = services.create_promotion(actor=request.auth, shop=shop, **payload.dict())
    return Status(201, _one(shop, promotion.pk))


@seller_router.get("/promotions/{promotion_id}", response=responses({200: PromotionOut}), auth=bearer)
def seller_get_promotion(request, promotion_id: Id):
    return Status(200, _one(shop_for_seller(request.auth, perm="promotions"), promotion_id))


@seller_router.patch("/promotions/{promotion_id}", response=responses({200: PromotionOut}), auth=bearer)
def seller_update_promotion(request, promotion_id: Id, payload: PromotionPatch):
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    services.update_promotion(actor=request.auth, shop=shop, promotion_id=promotion_id,
                              **payload.dict(exclude_unset=True))
    return Status(200, _one(shop, promotion_id))


@seller_router.post("/promotions/{promotion_id}/publish", response=responses({200: PromotionOut}), auth=bearer)
def seller_publish_promotion(request, promotion_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    services.publish_promotion(actor=request.auth, shop=shop, promotion_id=promotion_id)
    return Status(200, _one(shop, promotion_id))


@seller_router.post("/promotions/{promotion_id}/stop", response=responses({200: PromotionOut}), auth=bearer)
def seller_stop_promotion(request, promotion_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    services.stop_promotion(actor=request.auth, shop=shop, promotion_id=promotion_id)
    return Status(200, _one(shop, promotion_id))


__all__ = ["seller_router"]
