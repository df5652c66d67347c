"""A statement's entries as CSV for the seller's spreadsheet: UTF-8 with a byte-order
mark (Excel reads the Chinese right), one row per entry, amounts as the seller reads
them (numbers, not text), and no text cell a spreadsheet would run as a formula (a product
title such as "=HYPERLINK(…)" gets a leading apostrophe: aftersales.stats.csv_cell)."""

import csv

from django.http import HttpResponse
from django.utils.translation import gettext as _

from shopyard.aftersales.stats import csv_cell
from shopyard.core.money import Money

from .models import Kind


def source_of(entry) -> str:
    """Where an entry comes from, as its posting's key names it ("order:12:line:34";
    queries.seller_entries reads the posting with the entry)."""
    return entry.posting.key


def rows(statement, entries):
    yield [_("Statement"), _("Period start"), _("Period end"), _("Entry"), _("Time"), _("Kind"), _("Order"),
           _("Order line"), _("Product"), _("Source"), _("Amount"), _("Currency")]
    for e in entries:
        yield [csv_cell(cell) for cell in (
            statement.pk, statement.period_start.date().isoformat(), statement.period_end.date().isoformat(), e.pk,
            e.created_at.strftime("%Y-%m-%d %H:%M:%S"), str(Kind(e.kind).label),
            e.order.number if e.order_id else "", e.order_line_id or "",
            e.order_line.product_title if e.order_line_id else "", source_of(e),
            Money(e.seller_amount, e.currency).quantize().amount, e.currency)]


def filename(statement) -> str:
    return f"statement-{statement.shop_id}-{statement.period_start:%Y%m%d}.csv"


def csv_response(statement, entries) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(statement)}"'
    response.write("\ufeff")
    csv.writer(response).writerows(rows(statement, entries))
    return response
