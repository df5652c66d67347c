"""After-sales statistics: counts and rates by type, reason, product, shop and day for
one shop (the seller console, the seller API) or every shop (the operator page and API).

`figures(shop=..., period=...)` returns one `Figures` value, aggregated in the database
with a fixed number of queries whatever the number of cases (eight). Pages, the API and
the CSV export all read that one value, so they show the same numbers.

What counts (docs/aftersales-stats.md says the same):
- the cases are those OPENED in the period (local days, from 00:00 of the first day to
  the end of the last); each figure is about that cohort;
- units: the units of cases that claim goods: every type but compensation (which returns
  no goods), and not a void case (cancelled, or closed unreturned: state.VOID), the same
  rule the case opening counts a line's units by;
- units sold: units of the shop's order lines paid in the period; the after-sales rate of
  a product is its units in cases ÷ its units sold;
- refunded: the amount approved on cases whose refund completed; store credit apart;
- ended: cases that reached a final status (`closed_at`); average handling time is the
  mean of `closed_at - opened_at` over them;
- resolved within deadline: an ended case for which no deadline fired, that is no
  timeline row of the system doing a deadline action (state.DEADLINES: approving for a
  silent shop, closing an unshipped return, accepting an uninspected return); the share
  is over ended cases;
- disputed: cases either side asked the platform to decide (`escalated_at`); the
  dispute rate is over all cases.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from shopyard.core.access import is_operator
from shopyard.core.errors import NotFound, PermissionDenied, ValidationFailed
from shopyard.core.money import format_price, money_str
from shopyard.core.validation import parse_id

from .models import Case, CaseEvent, CaseLine, Reason
from .state import DEADLINES, VOID, Kind, Role, Status

PRESET_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_PRODUCTS = 100  # product rows shown and exported, most cases first
RATE_PLACES = Decimal("0.0001")

# the actions the deadline job takes when a side let a deadline pass
DEADLINE_ACTIONS = sorted({str(action) for _length, action in DEADLINES.values()})

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


# ---------------------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    """Local days `start`..`end` (both included); `days` is the preset (7, 30, 90) or None
    for a custom range."""

    start: date
    end: date
    days: int | None = None

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list:
        return [self.start + timedelta(days=i) for i in range(self.length)]

    def query(self) -> dict:
        """The query parameters that name this period again (links, the CSV export)."""
        if self.days:
            return {"days": str(self.days)}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _parse_date(value, field, errors):
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors[field] = [_("Enter a date (YYYY-MM-DD).")]
        return None
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = [_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": text[:40]}]
        return None


def parse_period(*, days=None, date_from=None, date_to=None, today=None) -> Period:
    """The period a page or API call asks for: `from` and `to` (YYYY-MM-DD, a custom range
    of at most MAX_DAYS days, ending today at the latest), or the last `days` (7, 30 or 90)
    days up to today; nothing given: the last 30 days. Bad input: ValidationFailed naming
    the field."""
    today = today or timezone.localdate()
    errors = {}
    if (date_from or "").strip() or (date_to or "").strip():
        start = _parse_date(date_from, "from", errors)
        end = _parse_date(date_to, "to", errors)
        if start and end:
            if start > end:
                errors["to"] = [_("The end date is before the start date.")]
            elif end > today:
                errors["to"] = [_("The period cannot end after today (%(today)s).") % {"today": today.isoformat()}]
            elif (end - start).days + 1 > MAX_DAYS:
                errors["from"] = [_("A period can be at most %(n)s days long.") % {"n": MAX_DAYS}]
        if errors:
            raise ValidationFailed(fields=errors)
        return Period(start=start, end=end)
    text = days.strip() if isinstance(days, str) else ("" if days is None else str(days))
    if not text:
        number = DEFAULT_DAYS
    else:
        number = parse_id(text)
        if number not in PRESET_DAYS:
            raise ValidationFailed(fields={"days": [_("Choose the last 7, 30 or 90 days, or enter dates.")]})
    return Period(start=today - timedelta(days=number - 1), end=today, days=number)


# ---------------------------------------------------------------------------- who sees which shop


def operator_shop(actor, shop_id):
    """The shop an operator narrows the figures to (None: every shop). Only operators;
    an unknown shop id is 404, a malformed one 422."""
    from shopyard.shops.models import Shop

    if not is_operator(actor):
        raise PermissionDenied(_("Only platform operators may do this."))
    text = shop_id.strip() if isinstance(shop_id, str) else ("" if shop_id is None else str(shop_id))
    if not text:
        return None
    pk = parse_id(text)
    if pk is None:
        raise ValidationFailed(fields={"shop_id": [_("Choose a shop from the list.")]})
    shop = Shop.objects.filter(pk=pk).first()
    if shop is None:
        raise NotFound(_("Shop not found."))
    return shop


def shops_for_filter():
    """The shops an operator can pick from (id, name), by name."""
    from shopyard.shops.models import Shop

    return list(Shop.objects.order_by("name", "pk").values_list("pk", "name")[:1000])


# ---------------------------------------------------------------------------- the figures


def rate(part, whole) -> Decimal | None:
    """part ÷ whole to four places (None when nothing to divide by)."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def percent(value) -> str:
    """A rate as people read it: 0.2500 -> "25.0%" ("—" without one)."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


@dataclass(frozen=True)
class Amount:
    currency: str
    amount: Decimal

    @property
    def text(self) -> str:
        return money_str(self.amount, self.currency)

    def __str__(self):
        return format_price(self.amount, self.currency)


def amounts_text(values) -> str:
    """Amounts in several currencies as one cell: "¥420.00" ("¥0" style zero: "0")."""
    return "; ".join(str(a) for a in values) or "0"


@dataclass(frozen=True)
class Group:
    """One row of a breakdown (a type or a reason)."""

    key: str
    label: str
    cases: int
    units: int
    share: Decimal | None  # of all cases

    @property
    def share_text(self) -> str:
        return percent(self.share)


@dataclass(frozen=True)
class ProductRow:
    product_id: int | None
    title: str
    units_sold: int
    cases: int
    units: int

    @property
    def rate(self) -> Decimal | None:
        return rate(self.units, self.units_sold)

    @property
    def rate_text(self) -> str:
        return percent(self.rate)


@dataclass(frozen=True)
class ShopRow:
    shop_id: int
    name: str
    cases: int
    disputed: int
    refunded: list = field(default_factory=list)  # [Amount]

    @property
    def dispute_rate(self) -> Decimal | None:
        return rate(self.disputed, self.cases)

    @property
    def dispute_rate_text(self) -> str:
        return percent(self.dispute_rate)

    @property
    def refunded_text(self) -> str:
        return amounts_text(self.refunded)


@dataclass(frozen=True)
class Figures:
    shop: object  # the Shop, or None for every shop
    period: Period
    cases: int
    units: int
    ended: int
    within_deadline: int
    disputed: int
    average_handling: timedelta | None
    refunded: list  # [Amount], one per currency
    credited: list  # [Amount]
    by_kind: list  # [Group], every type
    by_reason: list  # [Group], the reasons given, most cases first
    by_product: list  # [ProductRow]
    by_shop: list  # [ShopRow]
    by_day: list  # [(date, cases)], every day of the period

    @property
    def within_deadline_rate(self) -> Decimal | None:
        return rate(self.within_deadline, self.ended)

    @property
    def dispute_rate(self) -> Decimal | None:
        return rate(self.disputed, self.cases)

    @property
    def within_deadline_text(self) -> str:
        return percent(self.within_deadline_rate)

    @property
    def dispute_rate_text(self) -> str:
        return percent(self.dispute_rate)

    @property
    def refunded_text(self) -> str:
        return amounts_text(self.refunded)

    @property
    def credited_text(self) -> str:
        return amounts_text(self.credited)

    @property
    def average_handling_hours(self) -> Decimal | None:
        if self.average_handling is None:
            return None
        return (Decimal(self.average_handling.total_seconds()) / 3600).quantize(Decimal("0.1"),
                                                                                 rounding=ROUND_HALF_UP)

    def chart_data(self) -> dict:
        """What the charts draw (json_script); the tables beside them carry the same numbers."""
        return {
            "days": {"labels": [d.isoformat() for d, _n in self.by_day], "values": [n for _d, n in self.by_day],
                     "title": _("Cases opened per day")},
            "kinds": {"labels": [g.label for g in self.by_kind], "values": [g.cases for g in self.by_kind],
                      "title": _("Cases by type")},
            "reasons": {"labels": [g.label for g in self.by_reason], "values": [g.cases for g in self.by_reason],
                        "title": _("Cases by reason")},
        }


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _scope(qs, shop, period, *, opened="opened_at", shop_field="shop"):
    qs = qs.filter(**{f"{opened}__gte": period.since, f"{opened}__lt": period.until})
    return qs.filter(**{shop_field: shop}) if shop is not None else qs


# units of a case line count when its case claims goods and is not void
_CLAIMS_UNITS = ~Q(case__kind=Kind.COMPENSATION) & ~Q(case__status__in=list(VOID))


def figures(*, shop, period: Period) -> Figures:
    """Every after-sales figure of `shop` (None: every shop) for the cases opened in
    `period`; eight queries."""
    cases = _scope(Case.objects.all(), shop, period)
    lines = _scope(CaseLine.objects.all(), shop, period, opened="case__opened_at", shop_field="case__shop")
    fired = CaseEvent.objects.filter(case=OuterRef("pk"), role=Role.SYSTEM, action__in=DEADLINE_ACTIONS)
    ended = Q(closed_at__isnull=False)

    # 1. the totals of the cohort
    totals = cases.annotate(fired=Exists(fired)).aggregate(
        cases=Count("pk"), ended=Count("pk", filter=ended), disputed=Count("pk", filter=Q(escalated_at__isnull=False)),
        within=Count("pk", filter=ended & Q(fired=False)),
        handling=Avg(ExpressionWrapper(F("closed_at") - F("opened_at"), output_field=DurationField()), filter=ended),
    )
    # 2. money, per currency: refunds completed, store credit given
    refunded, credited = [], []
    money = (cases.values("currency").order_by("currency")
             .annotate(refunded=Sum("approved_amount", filter=Q(refunded_at__isnull=False)),
                       credited=Sum("approved_amount", filter=Q(compensation=Case.Compensation.CREDIT,
                                                                status=Status.COMPLETED))))
    for row in money:
        if row["refunded"]:
            refunded.append(Amount(row["currency"], row["refunded"]))
        if row["credited"]:
            credited.append(Amount(row["currency"], row["credited"]))
    # 3. cases per (type, reason), 4. units per (type, reason): both breakdowns from these
    counts = list(cases.values("kind", "reason_id", "reason__name", "reason__name_en")
                  .order_by().annotate(n=Count("pk")))
    units = {(r["case__kind"], r["case__reason_id"]): r["n"] or 0 for r in
             lines.filter(_CLAIMS_UNITS).values("case__kind", "case__reason_id").order_by().annotate(n=Sum("quantity"))}
    total = totals["cases"]
    by_kind = []
    for kind in Kind:
        n = sum(r["n"] for r in counts if r["kind"] == kind)
        u = sum(v for (k, _r), v in units.items() if k == kind)
        by_kind.append(Group(kind.value, str(kind.label), n, u, rate(n, total)))
    reasons = {}
    for r in counts:
        label = Reason(name=r["reason__name"], name_en=r["reason__name_en"]).label()
        key = r["reason_id"]
        n, u = reasons.get(key, (label, 0, 0))[1:]
        reasons[key] = (label, n + r["n"], u + units.get((r["kind"], key), 0))
    by_reason = sorted((Group(str(key), label, n, u, rate(n, total)) for key, (label, n, u) in reasons.items()),
                       key=lambda g: (-g.cases, g.label))
    # 5. cases and units per product, 6. units sold per product
    by_product = _products(shop, period, lines)
    # 7. per shop, 8. per day
    by_shop = _shops(cases)
    per_day = dict(cases.annotate(day=TruncDate("opened_at")).values("day").order_by("day")
                   .annotate(n=Count("pk")).values_list("day", "n"))
    return Figures(
        shop=shop, period=period, cases=total, units=sum(units.values()), ended=totals["ended"],
        within_deadline=totals["within"], disputed=totals["disputed"], average_handling=totals["handling"],
        refunded=refunded, credited=credited, by_kind=by_kind, by_reason=by_reason, by_product=by_product,
        by_shop=by_shop, by_day=[(d, per_day.get(d, 0)) for d in period.dates()],
    )


def _products(shop, period, lines) -> list:
    from shopyard.orders.models import OrderLine

    english = _english()
    claimed = {
        r["line__sku__product_id"]: r for r in lines.values("line__sku__product_id").order_by().annotate(
            cases=Count("case_id", distinct=True), units=Sum("quantity", filter=_CLAIMS_UNITS),
            title=Min("line__product_title"), title_en=Min("line__product_title_en"))
    }
    sold_qs = OrderLine.objects.filter(order__paid_at__gte=period.since, order__paid_at__lt=period.until)
    if shop is not None:
        sold_qs = sold_qs.filter(order__shop=shop)
    sold = {
        r["sku__product_id"]: r for r in sold_qs.values("sku__product_id").order_by().annotate(
            n=Sum("quantity"), title=Min("product_title"), title_en=Min("product_title_en"))
    }
    rows = []
    for pid in set(claimed) | set(sold):
        c, s = claimed.get(pid, {}), sold.get(pid, {})
        named = c or s
        title = (named.get("title_en") if english else "") or named.get("title") or ""
        rows.append(ProductRow(product_id=pid, title=title, units_sold=s.get("n") or 0, cases=c.get("cases") or 0,
                               units=c.get("units") or 0))
    rows.sort(key=lambda r: (-r.cases, -(r.rate or 0), -r.units_sold, r.title, r.product_id or 0))
    return rows[:MAX_PRODUCTS]


def _shops(cases) -> list:
    rows = {}
    for r in (cases.values("shop_id", "shop__name", "shop__name_en", "currency").order_by()
              .annotate(n=Count("pk"), disputed=Count("pk", filter=Q(escalated_at__isnull=False)),
                        refunded=Sum("approved_amount", filter=Q(refunded_at__isnull=False)))):
        name = (r["shop__name_en"] if _english() else "") or r["shop__name"]
        row = rows.get(r["shop_id"]) or ShopRow(r["shop_id"], name, 0, 0, [])
        refunded = [*row.refunded, Amount(r["currency"], r["refunded"])] if r["refunded"] else row.refunded
        rows[r["shop_id"]] = ShopRow(row.shop_id, name, row.cases + r["n"], row.disputed + r["disputed"], refunded)
    return sorted(rows.values(), key=lambda s: (-s.cases, s.name, s.shop_id))


# ---------------------------------------------------------------------------- the CSV export


def csv_rows(data: Figures) -> list:
    """The figures as CSV rows (sections one after another, a blank row between), the
    same numbers the pages show."""

    def amounts(values):
        return "; ".join(f"{a.text} {a.currency}" for a in values) or "0"

    hours = data.average_handling_hours
    rows = [
        [_("After-sales statistics")],
        [_("Shop"), data.shop.name if data.shop is not None else _("All shops")],
        [_("From"), data.period.start.isoformat()],
        [_("To"), data.period.end.isoformat()],
        [],
        [_("Figure"), _("Value")],
        [_("Cases"), data.cases],
        [_("Units in after-sales"), data.units],
        [_("Cases ended"), data.ended],
        [_("Ended within deadline"), data.within_deadline],
        [_("Share resolved within deadline"), percent(data.within_deadline_rate)],
        [_("Cases disputed"), data.disputed],
        [_("Dispute rate"), percent(data.dispute_rate)],
        [_("Average handling time (hours)"), "" if hours is None else str(hours)],
        [_("Refunded"), amounts(data.refunded)],
        [_("Store credit"), amounts(data.credited)],
        [],
        [_("Type"), _("Cases"), _("Units"), _("Share of cases")],
        *([g.label, g.cases, g.units, percent(g.share)] for g in data.by_kind),
        [],
        [_("Reason"), _("Cases"), _("Units"), _("Share of cases")],
        *([g.label, g.cases, g.units, percent(g.share)] for g in data.by_reason),
        [],
        [_("Product"), _("Units sold"), _("Cases"), _("Units in after-sales"), _("After-sales rate")],
        *([p.title, p.units_sold, p.cases, p.units, percent(p.rate)] for p in data.by_product),
        [],
        [_("Shop"), _("Cases"), _("Cases disputed"), _("Dispute rate"), _("Refunded")],
        *([s.name, s.cases, s.disputed, percent(s.dispute_rate), amounts(s.refunded)] for s in data.by_shop),
        [],
        [_("Day"), _("Cases")],
        *([d.isoformat(), n] for d, n in data.by_day),
    ]
    return [[csv_cell(cell) for cell in row] for row in rows]


# what a spreadsheet reads as the start of a formula (CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell as it may go into the CSV: text a seller wrote (a shop's name, a product's
    title) that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_filename(data: Figures) -> str:
    scope = f"shop{data.shop.pk}" if data.shop is not None else "all-shops"
    return f"aftersales-stats-{scope}-{data.period.start:%Y%m%d}-{data.period.end:%Y%m%d}.csv"
