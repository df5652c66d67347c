"""Campaign links and the channel report over HTTP: sellers for their shop,
operators for every shop. Parse, authorise, call a service or query, shape JSON."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from shopyard.core.access import api_operator
from shopyard.core.api_support import Id, InSchema, bearer, responses
from shopyard.core.money import money_str
from shopyard.shops.queries import shop_for_seller

from . import queries, services, views

seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])


class LinkIn(InSchema):
    name: str = Field(..., max_length=200)
    source: str = Field(..., max_length=200, description="the channel: wechat, weibo, douyin, email …")
    medium: str = Field("", max_length=200)
    campaign: str = Field(..., max_length=200)
    target: Literal["product", "shop"]
    product_id: int | None = Field(None, ge=1, le=2**63 - 1)


class LinkOut(Schema):
    id: int
    name: str
    source: str
    medium: str
    campaign: str
    target: str
    product_id: int | None
    code: str
    short_url: str
    full_url: str
    created_at: datetime


class PeriodIn(Schema):
    start: date | None = None
    end: date | None = None


class ChannelAmountOut(Schema):
    currency: str
    amount: str


class ReportRowOut(Schema):
    channel: str
    campaign: str
    visits: int
    orders: int
    gmv: list[ChannelAmountOut]


class ReportOut(Schema):
    start: date
    end: date
    rows: list[ReportRowOut]
    total: ReportRowOut


def link_out(request, link, path=None) -> dict:
    return {
        "id": link.pk, "name": link.name, "source": link.source, "medium": link.medium,
        "campaign": link.campaign, "target": link.target, "product_id": link.product_id, "code": link.code,
        "short_url": request.build_absolute_uri(f"/s/{link.code}/"),
        "full_url": request.build_absolute_uri(path or views.target_path(link)), "created_at": link.created_at,
    }


def links_out(request, links) -> list[dict]:
    """link_out for a list, the targets' canonical URLs in one query."""
    links = list(links)
    paths = views.target_paths(links)
    return [link_out(request, link, paths[link.pk]) for link in links]


def _row(row) -> dict:
    return {"channel": row.source, "campaign": row.campaign, "visits": row.visits, "orders": row.orders,
            "gmv": [{"currency": m.currency, "amount": money_str(m.amount, m.currency)} for m in row.gmv_money]}


def report_out(report) -> dict:
    return {"start": report["period"].start, "end": report["period"].end,
            "rows": [_row(r) for r in report["rows"]], "total": _row(report["total"])}


@seller_router.get("/campaign-links", response=responses({200: list[LinkOut]}), auth=bearer)
def list_links(request):
    shop = shop_for_seller(request.auth, perm="channels")
    return links_out(request, queries.links_for_shop(shop).select_related("shop")[:1000])


@seller_router.post("/campaign-links", response=responses({201: LinkOut}), auth=bearer)
def create_link(request, payload: LinkIn):
    shop = shop_for_seller(request.auth, write=True, perm="channels")
    link = services.create_campaign_link(actor=request.auth, shop=shop, data=payload.dict())
    return Status(201, link_out(request, link))


@seller_router.get("/campaign-links/{link_id}", response=responses({200: LinkOut}), auth=bearer)
def get_link(request, link_id: Id):
    shop = shop_for_seller(request.auth, perm="channels")
    return link_out(request, queries.link_for_shop(shop, link_id))


@seller_router.get("/channel-report", response=responses({200: ReportOut}), auth=bearer)
def seller_report(request, period: Query[PeriodIn]):
    shop = shop_for_seller(request.auth, perm="channels")
    return report_out(queries.channel_report(period=queries.parse_period(period.start, period.end), shop=shop))


@operator_router.get("/channel-report", response=responses({200: ReportOut}), auth=bearer)
def operator_report(request, period: Query[PeriodIn]):
    api_operator(request)
    return report_out(queries.channel_report(period=queries.parse_period(period.start, period.end)))
