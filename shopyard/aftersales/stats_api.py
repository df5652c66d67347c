"""After-sales statistics over HTTP: a seller reads their shop's figures, an operator every
shop's or one shop's (`shop_id`). The period is `days` (7, 30, 90) or `from` and `to`
(YYYY-MM-DD, at most 366 days); the figures are aftersales.stats.figures', the ones the
pages and the CSV export show."""

from datetime import date

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from shopyard.core.api_support import bearer, responses
from shopyard.core.errors import NotFound, PermissionDenied, ValidationFailed
from shopyard.core.validation import parse_id
from shopyard.shops.queries import shop_for_seller

from . import stats

seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])


class PeriodQuery(Schema):
    days: str | None = Field(None, description="the last 7, 30 or 90 days (default 30)")
    date_from: str | None = Field(None, alias="from", description="first day, YYYY-MM-DD (with `to`)")
    date_to: str | None = Field(None, alias="to", description="last day, YYYY-MM-DD, today at the latest")


class SellerQuery(PeriodQuery):
    shop_id: str | None = Field(None, description="one of your shops (default: the one you act for)")


class OperatorQuery(PeriodQuery):
    shop_id: str | None = Field(None, description="one shop (default: every shop)")


class StatsAmountOut(Schema):
    currency: str
    amount: str


class StatsGroupOut(Schema):
    key: str
    label: str
    cases: int
    units: int
    share: str | None = Field(..., description="of all cases, 0-1 to four places")


class StatsProductOut(Schema):
    product_id: int | None
    title: str
    units_sold: int
    cases: int
    units: int
    rate: str | None = Field(..., description="units in after-sales ÷ units sold")


class ShopOut(Schema):
    shop_id: int
    name: str
    cases: int
    disputed: int
    dispute_rate: str | None
    refunded: list[StatsAmountOut]


class DayOut(Schema):
    date: date
    cases: int


class StatsOut(Schema):
    shop_id: int | None
    date_from: date
    date_to: date
    days: int | None
    cases: int
    units: int
    ended: int
    within_deadline: int
    within_deadline_rate: str | None = Field(..., description="ended cases no deadline fired on ÷ ended cases")
    disputed: int
    dispute_rate: str | None
    average_handling_seconds: int | None = Field(..., description="opening to end, mean over ended cases")
    refunded: list[StatsAmountOut]
    credited: list[StatsAmountOut]
    by_kind: list[StatsGroupOut]
    by_reason: list[StatsGroupOut]
    by_product: list[StatsProductOut]
    by_shop: list[ShopOut]
    by_day: list[DayOut]


def _text(value):
    return None if value is None else str(value)


def _amounts(values):
    return [{"currency": a.currency, "amount": a.text} for a in values]


def stats_out(data) -> dict:
    handling = data.average_handling
    return {
        "shop_id": data.shop.pk if data.shop is not None else None,
        "date_from": data.period.start, "date_to": data.period.end, "days": data.period.days,
        "cases": data.cases, "units": data.units, "ended": data.ended, "within_deadline": data.within_deadline,
        "within_deadline_rate": _text(data.within_deadline_rate), "disputed": data.disputed,
        "dispute_rate": _text(data.dispute_rate),
        "average_handling_seconds": None if handling is None else int(handling.total_seconds()),
        "refunded": _amounts(data.refunded), "credited": _amounts(data.credited),
        "by_kind": [{**g.__dict__, "share": _text(g.share)} for g in data.by_kind],
        "by_reason": [{**g.__dict__, "share": _text(g.share)} for g in data.by_reason],
        "by_product": [{"product_id": p.product_id, "title": p.title, "units_sold": p.units_sold,
                        "cases": p.cases, "units": p.units, "rate": _text(p.rate)} for p in data.by_product],
        "by_shop": [{"shop_id": s.shop_id, "name": s.name, "cases": s.cases, "disputed": s.disputed,
                     "dispute_rate": _text(s.dispute_rate), "refunded": _amounts(s.refunded)} for s in data.by_shop],
        "by_day": [{"date": d, "cases": n} for d, n in data.by_day],
    }


def _period(query):
    return stats.parse_period(days=query.days, date_from=query.date_from, date_to=query.date_to)


@seller_router.get("/aftersales/stats", response=responses({200: StatsOut}), auth=bearer)
def seller_stats(request, query: Query[SellerQuery]):
    """Your shop's after-sales figures for a period (cases opened in it)."""
    shop_id = (query.shop_id or "").strip()
    if shop_id:
        pk = parse_id(shop_id)
        if pk is None:
            raise ValidationFailed(fields={"shop_id": [_("Choose a shop from the list.")]})
        try:
            shop = shop_for_seller(request.auth, pk, perm="statistics")
        except PermissionDenied:
            raise NotFound(_("Shop not found.")) from None
    else:
        shop = shop_for_seller(request.auth, perm="statistics")
    return stats_out(stats.figures(shop=shop, period=_period(query)))


@operator_router.get("/aftersales/stats", response=responses({200: StatsOut}), auth=bearer)
def operator_stats(request, query: Query[OperatorQuery]):
    """Every shop's after-sales figures, or one shop's (`shop_id`), for a period."""
    shop = stats.operator_shop(request.auth, query.shop_id)
    return stats_out(stats.figures(shop=shop, period=_period(query)))


__all__ = ["operator_router", "seller_router"]
