"""The seller's money pages (console, the current shop only; permission area: finance):
the balance with the statements, one statement with its entries, every entry, and a
statement's entries as CSV. Figures come from settlement.queries; a foreign statement
id is a 404."""

from django.http import Http404

from shopyard.settlement import exports
from shopyard.settlement import queries as settlement

from .access import seller_required
from .views import _page, _render


def _statement(request, pk):
    statement = settlement.shop_statement(request.console.shop, pk)
    if statement is None:
        raise Http404
    return statement


@seller_required("finance")
def balance(request):
    shop = request.console.shop
    page = _page(request, settlement.shop_statements(shop))
    rows = [(s, settlement.figures(s)) for s in page.object_list]
    return _render(request, "console/settlement.html", {
        "summary": settlement.summary(shop), "page": page, "rows": rows, "nav": "settlement"})


@seller_required("finance")
def statement_detail(request, pk):
    statement = _statement(request, pk)
    page = _page(request, settlement.seller_entries(request.console.shop, statement=statement))
    return _render(request, "console/settlement_statement.html", {
        "statement": statement, "figures": settlement.figures(statement), "page": page, "nav": "settlement"})


@seller_required("finance")
def entries(request):
    page = _page(request, settlement.seller_entries(request.console.shop))
    return _render(request, "console/settlement_entries.html", {"page": page, "nav": "settlement"})


@seller_required("finance")
def statement_export(request, pk):
    statement = _statement(request, pk)
    return exports.csv_response(
        statement, settlement.seller_entries(request.console.shop, statement=statement).order_by("id"))
