"""Settlement reads for pages and the API, already scoped: a seller reads only their
shop's statements and entries (a foreign id is simply not found); operators read all."""

from decimal import Decimal

from django.db.models import Sum

from .models import Account, CategoryCommission, Entry, Kind, ShopCommission, Statement
from .services import default_rate, statement_totals
from .state import Status

ZERO = Decimal("0")


def balance(shop) -> Decimal:
    """What the platform owes the shop now (its seller-payable account's credit balance):
    every open and closed-but-unpaid statement, less payouts."""
    total = Entry.objects.filter(shop=shop, account=Account.SELLER_PAYABLE).aggregate(t=Sum("amount"))["t"]
    return -(total or ZERO)


def summary(shop) -> dict:
    """The balance page's figures: the balance, the running (open) statement's amount so
    far and what closed statements wait to be paid. Two queries."""
    rows = (Entry.objects.filter(shop=shop, account=Account.SELLER_PAYABLE)
            .values("statement__status").annotate(t=Sum("amount")))
    by_status = {row["statement__status"]: -(row["t"] or ZERO) for row in rows}
    unpaid = (Statement.objects.filter(shop=shop, status=Status.CLOSED).aggregate(t=Sum("payable"))["t"]
              or ZERO)
    return {
        "balance": sum(by_status.values(), ZERO), "open": by_status.get(Status.OPEN, ZERO), "closed_unpaid": unpaid,
        "currency": shop.currency,
    }


def shop_statements(shop, *, status=None):
    qs = Statement.objects.filter(shop=shop)
    return qs.filter(status=status) if status else qs


def shop_statement(shop, statement_id) -> Statement | None:
    return Statement.objects.filter(shop=shop, pk=statement_id).select_related("shop").first()


def figures(statement) -> dict:
    """The statement's totals: frozen once closed, computed from its entries while open."""
    if statement.status == Status.OPEN:
        return statement_totals(statement)
    return {k: getattr(statement, k) for k in ("order_count", "sales", "platform_discounts", "commission",
                                                "commission_returned", "refunds", "payable")}


def seller_entries(shop, *, statement=None):
    """The shop's seller-payable entries (newest first), with their order and line."""
    qs = Entry.objects.filter(shop=shop, account=Account.SELLER_PAYABLE)
    if statement is not None:
        qs = qs.filter(statement=statement)
    return qs.select_related("order", "order_line", "posting").order_by("-id")


def operator_entries(*, shop_id=None, statement_id=None, order_id=None):
    """Every account's entries for operators, filtered, the latest first."""
    qs = Entry.objects.select_related("posting")
    for field, value in (("shop_id", shop_id), ("statement_id", statement_id), ("order_id", order_id)):
        if value:
            qs = qs.filter(**{field: value})
    return qs.order_by("-id")


def operator_statements(*, status=None, shop_id=None):
    qs = Statement.objects.select_related("shop")
    if status:
        qs = qs.filter(status=status)
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    return qs


def operator_statement(statement_id) -> Statement | None:
    return Statement.objects.filter(pk=statement_id).select_related("shop", "paid_by").first()


def trial_balance() -> dict:
    """{(account, currency): sum} over the whole ledger (debits positive): their sum is zero."""
    rows = Entry.objects.values("account", "currency").annotate(t=Sum("amount")).order_by("account", "currency")
    return {(row["account"], row["currency"]): row["t"] for row in rows}


def commission_table() -> dict:
    """The operator's rates page: the default, every category rate and every shop override."""
    return {
        "default": default_rate(),
        "categories": list(CategoryCommission.objects.select_related("category").order_by("category__name")),
        "shops": list(ShopCommission.objects.select_related("shop").order_by("shop__name")),
    }


def entry_label(entry) -> str:
    return str(Kind(entry.kind).label)


def category_choices():
    from shopyard.catalog.models import Category

    return list(Category.objects.order_by("parent_id", "position", "pk").values_list("pk", "name"))


def shop_choices():
    from shopyard.shops.models import Shop

    return list(Shop.objects.order_by("name").values_list("pk", "name"))
