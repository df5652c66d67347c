"""Settlement over HTTP: a seller reads their shop's balance, statements and ledger
entries (and exports them as CSV); an operator sets commission rates, reads every
shop's statements and the ledger's trial balance, closes a due statement and marks a
closed one paid. Handlers parse, authorise, call one service and serialise; every rule
is settlement.services'. Amounts are strings in the statement's currency."""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from shopyard.core.access import api_operator
from shopyard.core.api_support import Id, InSchema, PageMeta, bearer, paginate, responses
from shopyard.core.errors import NotFound
from shopyard.core.money import money_str
from shopyard.shops.queries import shop_for_seller

from . import exports, queries, services
from .state import Status as StatementStatus
from .state import allowed_actions

seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])


class SettlementBalanceOut(Schema):
    shop_id: int
    currency: str
    balance: str = Field(..., description="what the platform owes the shop now (negative: the shop owes)")
    open_statement: str = Field(..., description="entries of the running week so far")
    closed_unpaid: str = Field(..., description="closed statements waiting to be paid")


class StatementOut(Schema):
    id: int
    shop_id: int
    shop_name: str
    currency: str
    period_start: datetime
    period_end: datetime
    status: str
    order_count: int
    sales: str = Field(..., description="what shoppers paid for lines and shipping")
    platform_discounts: str = Field(..., description="discounts the platform funded, credited to the shop")
    commission: str
    commission_returned: str = Field(..., description="commission given back with refunds")
    refunds: str
    payable: str = Field(..., description="sales + platform_discounts − commission + commission_returned − refunds")
    closed_at: datetime | None
    paid_at: datetime | None
    payout_reference: str
    actions: list[str] = Field(..., description="what an operator may do now")


class StatementPage(Schema):
    meta: PageMeta
    results: list[StatementOut]


class LedgerEntryOut(Schema):
    id: int
    statement_id: int
    kind: str
    label: str
    amount: str = Field(..., description="as the seller reads it: positive is owed to the shop")
    currency: str
    order_id: int | None
    order_number: str | None
    order_line_id: int | None
    posting: str = Field(..., description="the source of the entry: order, line or refund")
    created_at: datetime


class LedgerEntryPage(Schema):
    meta: PageMeta
    results: list[LedgerEntryOut]


class OperatorLedgerEntryOut(Schema):
    id: int
    posting: str = Field(..., description="the posting's key: its source and order line")
    account: str
    kind: str
    amount: str = Field(..., description="debit positive, credit negative")
    currency: str
    shop_id: int
    statement_id: int
    order_id: int | None
    order_line_id: int | None
    created_at: datetime


class OperatorLedgerEntryPage(Schema):
    meta: PageMeta
    results: list[OperatorLedgerEntryOut]


class OperatorEntryFilters(Schema):
    shop_id: int | None = Field(None, ge=1, le=2**53)
    statement_id: int | None = Field(None, ge=1, le=2**53)
    order_id: int | None = Field(None, ge=1, le=2**53)
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=100)


class StatementFilters(Schema):
    status: StatementStatus | None = None
    shop_id: int | None = Field(None, ge=1, le=2**53)
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


class SellerEntryFilters(Schema):
    statement_id: int | None = Field(None, ge=1, le=2**53)
    shop_id: int | None = Field(None, ge=1, le=2**53, description="one of your shops (default: the one you act for)")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=100)


class SellerShopQuery(Schema):
    shop_id: int | None = Field(None, ge=1, le=2**53, description="one of your shops (default: the one you act for)")


class MarkPaidIn(InSchema):
    reference: str = Field("", max_length=64, description="the bank transfer's reference")


class RateIn(InSchema):
    rate: str = Field(..., max_length=12, description="percent of what the shopper paid, 0 to 100, e.g. \"5\"")


class CategoryRateOut(Schema):
    category_id: int
    category: str
    rate: str


class ShopRateOut(Schema):
    shop_id: int
    shop: str
    rate: str


class CommissionRatesOut(Schema):
    default_rate: str = Field(..., description="for lines no category or shop rate covers")
    categories: list[CategoryRateOut]
    shops: list[ShopRateOut] = Field(..., description="overrides: a shop's rate wins over every category's")


class TrialBalanceRowOut(Schema):
    account: str
    currency: str
    balance: str = Field(..., description="debits positive, credits negative")


class TrialBalanceOut(Schema):
    rows: list[TrialBalanceRowOut]
    total: str = Field(..., description="always zero: every posting balances")


def statement_out(statement) -> dict:
    c = statement.currency
    figures = queries.figures(statement)
    return {
        "id": statement.pk, "shop_id": statement.shop_id, "shop_name": statement.shop.name, "currency": c,
        "period_start": statement.period_start, "period_end": statement.period_end, "status": statement.status,
        "order_count": figures["order_count"],
        **{k: money_str(figures[k], c) for k in ("sales", "platform_discounts", "commission", "commission_returned",
                                                 "refunds", "payable")},
        "closed_at": statement.closed_at, "paid_at": statement.paid_at,
        "payout_reference": statement.payout_reference,
        "actions": sorted(str(a) for a in allowed_actions(statement.status)),
    }


def entry_out(entry) -> dict:
    return {
        "id": entry.pk, "statement_id": entry.statement_id, "kind": entry.kind, "label": queries.entry_label(entry),
        "amount": money_str(entry.seller_amount, entry.currency), "currency": entry.currency,
        "order_id": entry.order_id, "order_number": entry.order.number if entry.order_id else None,
        "order_line_id": entry.order_line_id, "posting": exports.source_of(entry), "created_at": entry.created_at,
    }


def _statement_page(qs, page, page_size):
    items, meta = paginate(qs, page, page_size)
    return Status(200, {"meta": meta, "results": [statement_out(s) for s in items]})


# ---------------------------------------------------------------------------- seller (permission area: finance)


def _seller_statement(request, statement_id, shop_id=None):
    shop = shop_for_seller(request.auth, shop_id, perm="finance")
    statement = queries.shop_statement(shop, statement_id)
    if statement is None:
        raise NotFound(_("Statement not found."))
    return shop, statement


@seller_router.get("/settlement/balance", response=responses({200: SettlementBalanceOut}), auth=bearer)
def seller_balance(request, filters: Query[SellerShopQuery]):
    """What the platform owes your shop now, the running week's amount so far and what
    closed statements wait to be paid."""
    shop = shop_for_seller(request.auth, filters.shop_id, perm="finance")
    data = queries.summary(shop)
    c = data["currency"]
    return Status(200, {"shop_id": shop.pk, "currency": c, "balance": money_str(data["balance"], c),
                        "open_statement": money_str(data["open"], c),
                        "closed_unpaid": money_str(data["closed_unpaid"], c)})


@seller_router.get("/settlement/statements", response=responses({200: StatementPage}), auth=bearer)
def seller_statements(request, filters: Query[StatementFilters]):
    """Your shop's weekly statements, the latest first (`shop_id`: one of your shops)."""
    shop = shop_for_seller(request.auth, filters.shop_id, perm="finance")
    return _statement_page(queries.shop_statements(shop, status=filters.status).select_related("shop"),
                           filters.page, filters.page_size)


@seller_router.get("/settlement/statements/{statement_id}", response=responses({200: StatementOut}), auth=bearer)
def seller_statement(request, statement_id: Id, filters: Query[SellerShopQuery]):
    """One statement of your shop; another shop's is a 404."""
    _shop, statement = _seller_statement(request, statement_id, filters.shop_id)
    return Status(200, statement_out(statement))


@seller_router.get("/settlement/entries", response=responses({200: LedgerEntryPage}), auth=bearer)
def seller_entries(request, filters: Query[SellerEntryFilters]):
    """Your shop's ledger entries, the latest first, each traceable to its order line
    (`statement_id`: one statement's; another shop's statement is a 404)."""
    shop = shop_for_seller(request.auth, filters.shop_id, perm="finance")
    statement = None
    if filters.statement_id is not None:
        _shop, statement = _seller_statement(request, filters.statement_id, filters.shop_id)
    items, meta = paginate(queries.seller_entries(shop, statement=statement), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [entry_out(e) for e in items]})


@seller_router.get("/settlement/statements/{statement_id}/entries.csv", auth=bearer,
                   response=responses({200: str}))
def seller_statement_csv(request, statement_id: Id, filters: Query[SellerShopQuery]):
    """The statement's entries as CSV (UTF-8 with BOM, formula-safe cells)."""
    shop, statement = _seller_statement(request, statement_id, filters.shop_id)
    return exports.csv_response(statement, queries.seller_entries(shop, statement=statement).order_by("id"))


# ---------------------------------------------------------------------------- operator


def _operator(request):
    return api_operator(request)


def _operator_statement(statement_id):
    statement = queries.operator_statement(statement_id)
    if statement is None:
        raise NotFound(_("Statement not found."))
    return statement


@operator_router.get("/settlement/statements", response=responses({200: StatementPage}), auth=bearer)
def operator_statements(request, filters: Query[StatementFilters]):
    """Every shop's statements (or one shop's), the latest first."""
    _operator(request)
    return _statement_page(queries.operator_statements(status=filters.status, shop_id=filters.shop_id),
                           filters.page, filters.page_size)


@operator_router.get("/settlement/statements/{statement_id}", response=responses({200: StatementOut}), auth=bearer)
def operator_statement(request, statement_id: Id):
    _operator(request)
    return Status(200, statement_out(_operator_statement(statement_id)))


@operator_router.post("/settlement/statements/{statement_id}/close", response=responses({200: StatementOut}),
                      auth=bearer)
def close_statement(request, statement_id: Id):
    """Close a statement whose week has ended (the weekly job does it too); an open week or
    a statement already closed is a 409 with nothing changed."""
    user = _operator(request)
    services.close_statement(actor=user, statement_id=statement_id)
    return Status(200, statement_out(_operator_statement(statement_id)))


@operator_router.post("/settlement/statements/{statement_id}/mark-paid", response=responses({200: StatementOut}),
                      auth=bearer)
def mark_paid(request, statement_id: Id, payload: MarkPaidIn):
    """Record that the shop was paid what a closed statement says (posts the payout); a
    statement already paid, or still open, is a 409 with nothing changed."""
    user = _operator(request)
    services.mark_paid(actor=user, statement_id=statement_id, reference=payload.reference)
    return Status(200, statement_out(_operator_statement(statement_id)))


def _rates_out():
    table = queries.commission_table()
    return {
        "default_rate": str(table["default"]),
        "categories": [{"category_id": r.category_id, "category": r.category.name, "rate": str(r.rate)}
                       for r in table["categories"]],
        "shops": [{"shop_id": r.shop_id, "shop": r.shop.name, "rate": str(r.rate)} for r in table["shops"]],
    }


@operator_router.get("/settlement/commission-rates", response=responses({200: CommissionRatesOut}), auth=bearer)
def commission_rates(request):
    _operator(request)
    return Status(200, _rates_out())


@operator_router.put("/settlement/commission-rates/categories/{category_id}",
                     response=responses({200: CommissionRatesOut}), auth=bearer)
def set_category_rate(request, category_id: Id, payload: RateIn):
    """Set a category's rate (0–100 %); subcategories without their own use it."""
    services.set_category_rate(actor=_operator(request), category_id=category_id, rate=payload.rate)
    return Status(200, _rates_out())


@operator_router.delete("/settlement/commission-rates/categories/{category_id}",
                        response=responses({200: CommissionRatesOut}), auth=bearer)
def clear_category_rate(request, category_id: Id):
    services.clear_category_rate(actor=_operator(request), category_id=category_id)
    return Status(200, _rates_out())


@operator_router.put("/settlement/commission-rates/shops/{shop_id}", response=responses({200: CommissionRatesOut}),
                     auth=bearer)
def set_shop_rate(request, shop_id: Id, payload: RateIn):
    """Give a shop its own rate (0–100 %), which wins over every category's."""
    services.set_shop_rate(actor=_operator(request), shop_id=shop_id, rate=payload.rate)
    return Status(200, _rates_out())


@operator_router.delete("/settlement/commission-rates/shops/{shop_id}", response=responses({200: CommissionRatesOut}),
                        auth=bearer)
def clear_shop_rate(request, shop_id: Id):
    services.clear_shop_rate(actor=_operator(request), shop_id=shop_id)
    return Status(200, _rates_out())


@operator_router.get("/settlement/entries", response=responses({200: OperatorLedgerEntryPage}), auth=bearer)
def operator_entries(request, filters: Query[OperatorEntryFilters]):
    """Every account's entries (one shop's, statement's or order's), the latest first."""
    _operator(request)
    qs = queries.operator_entries(shop_id=filters.shop_id, statement_id=filters.statement_id,
                                  order_id=filters.order_id)
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [{
        "id": e.pk, "posting": e.posting.key, "account": e.account, "kind": e.kind,
        "amount": money_str(e.amount, e.currency), "currency": e.currency, "shop_id": e.shop_id,
        "statement_id": e.statement_id, "order_id": e.order_id, "order_line_id": e.order_line_id,
        "created_at": e.created_at} for e in items]})


@operator_router.get("/settlement/trial-balance", response=responses({200: TrialBalanceOut}), auth=bearer)
def trial_balance(request):
    """Every account's balance per currency; the total is zero when the ledger balances."""
    _operator(request)
    rows = queries.trial_balance()
    total = sum(rows.values(), Decimal("0"))
    return Status(200, {"rows": [{"account": a, "currency": c, "balance": money_str(v, c)}
                                 for (a, c), v in rows.items()], "total": str(total.quantize(Decimal("0.01")))})


__all__ = ["operator_router", "seller_router"]
