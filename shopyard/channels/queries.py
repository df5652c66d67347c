"""Reads for pages and the API, scoped to the caller: a seller sees their shop's
links and numbers, an operator every shop's."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import ValidationFailed
from shopyard.core.money import Money
from shopyard.payments.queries import refunded_amount

from . import tags
from .models import CampaignLink, ChannelTouch, OrderAttribution

REPORT_DAYS_DEFAULT = 30
REPORT_DAYS_MAX = 366


def links_for_shop(shop):
    return CampaignLink.objects.filter(shop=shop).select_related("product").order_by("-created_at", "-id")


def link_for_shop(shop, link_id) -> CampaignLink:
    return get_object_or_404(links_for_shop(shop), pk=link_id)


def link_for_code(code: str):
    """The link a short code names, or None (a malformed code never reaches the database)."""
    if not tags.CODE_RE.match(code or ""):
        return None
    return CampaignLink.objects.select_related("product", "shop").filter(code=code).first()


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def bounds(self):
        tz = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=tz),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz))


def parse_period(start=None, end=None, *, today=None) -> Period:
    """`start`/`end` as YYYY-MM-DD (either may be blank); the default is the last 30 days."""
    today = today or timezone.localdate()
    errors = {}

    def _date(value, name):
        if value in (None, ""):
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10]) if len(str(value)) == 10 else None
        except ValueError:
            return None

    end_d = _date(end, "end")
    start_d = _date(start, "start")
    if end not in (None, "") and end_d is None:
        errors["end"] = [_("Enter a date as YYYY-MM-DD.")]
    if start not in (None, "") and start_d is None:
        errors["start"] = [_("Enter a date as YYYY-MM-DD.")]
    if errors:
        raise ValidationFailed(fields=errors)
    end_d = end_d or today
    start_d = start_d or end_d - timedelta(days=REPORT_DAYS_DEFAULT - 1)
    if start_d > end_d:
        raise ValidationFailed(fields={"start": [_("The start must not be after the end.")]})
    if (end_d - start_d).days >= REPORT_DAYS_MAX:
        raise ValidationFailed(fields={"start": [_("Choose at most %(n)s days.") % {"n": REPORT_DAYS_MAX}]})
    return Period(start_d, end_d)


@dataclass
class ReportRow:
    source: str
    campaign: str
    visits: int = 0
    orders: int = 0
    gmv: dict = field(default_factory=dict)  # currency -> Decimal, net of completed refunds
    refunded: dict = field(default_factory=dict)  # currency -> Decimal returned by those refunds

    @property
    def gmv_money(self) -> list[Money]:
        return [Money(amount, currency) for currency, amount in sorted(self.gmv.items())]


def channel_report(*, period: Period, shop=None) -> dict:
    """Visits, attributed orders and their GMV by channel and campaign (two queries).
    `shop` None: every shop (operators). Visits of a shop are touches that landed
    on its pages or links; its orders are its own orders attributed to a touch.
    GMV is net of refunds: each order's total less what its completed refunds
    returned (payments.queries.refunded_amount), whenever they completed."""
    start, end = period.bounds
    touches = ChannelTouch.objects.filter(created_at__gte=start, created_at__lt=end)
    orders = OrderAttribution.objects.filter(placed_at__gte=start, placed_at__lt=end)
    if shop is not None:
        touches = touches.filter(shop=shop)
        orders = orders.filter(shop=shop)
    rows: dict[tuple, ReportRow] = {}
    for r in touches.values("source", "campaign").annotate(n=Count("id")).order_by():
        rows.setdefault((r["source"], r["campaign"]), ReportRow(r["source"], r["campaign"])).visits = r["n"]
    orders = orders.annotate(returned=refunded_amount("order_id"))
    for r in orders.values("source", "campaign", "currency").annotate(
            n=Count("id"), gmv=Sum("total"), refunded=Sum("returned")).order_by():
        row = rows.setdefault((r["source"], r["campaign"]), ReportRow(r["source"], r["campaign"]))
        row.orders += r["n"]
        refunded = r["refunded"] or Decimal("0")
        row.gmv[r["currency"]] = row.gmv.get(r["currency"], Decimal("0")) + (r["gmv"] or Decimal("0")) - refunded
        if refunded:
            row.refunded[r["currency"]] = row.refunded.get(r["currency"], Decimal("0")) + refunded
    ordered = sorted(rows.values(), key=lambda row: (-sum(row.gmv.values()), -row.visits, row.source, row.campaign))
    total = ReportRow(_("Total"), "")
    for row in ordered:
        total.visits += row.visits
        total.orders += row.orders
        for currency, amount in row.gmv.items():
            total.gmv[currency] = total.gmv.get(currency, Decimal("0")) + amount
    return {"period": period, "rows": ordered, "total": total}
