"""Reconciliation: a provider's daily statement (CSV) is matched against our
payments and refunds of that gateway, and what does not agree is listed:

- missing here: a row of the statement we have no succeeded payment/refund for;
- missing there: our succeeded payment/refund completed that day (in
  settings.TIME_ZONE) that the statement does not list;
- amount differs: both sides know it, with different amounts.

Each import is stored with its mismatches. A file that cannot be read whole
(wrong columns, a bad amount or date, not UTF-8, too large) is refused with
a message naming the row, and nothing is stored. Formats: docs/payments.md.
"""

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import ValidationFailed
from shopyard.core.money import CURRENCY_PRECISION

from .models import Payment, Refund, StatementImport, StatementMismatch
from .state import RefundStatus, Status

MAX_ROWS = 50_000
MAX_ERRORS_SHOWN = 5

SIMULATED_COLUMNS = ["date", "type", "reference", "gateway_reference", "amount", "currency"]
# Alipay's 业务明细 (trade detail) bill: the columns we read, by their header names
ALIPAY_COLUMNS = {"trade_no": "支付宝交易号", "out_trade_no": "商户订单号", "kind": "业务类型",
                  "finished": "完成时间", "amount": "订单金额（元）", "refund_no": "退款批次号/请求号"}
FORMATS = {"simulated": "simulated", "alipay": "alipay"}


@dataclass
class Row:
    line: int
    date: datetime.date
    type: str  # payment | refund
    reference: str
    gateway_reference: str
    amount: Decimal
    currency: str


def _fail(messages):
    raise ValidationFailed(fields={"file": messages[:MAX_ERRORS_SHOWN]})


def _amount(text, currency, line, errors):
    try:
        amount = Decimal(text.strip())
    except (InvalidOperation, ValueError, AttributeError):
        errors.append(_("Row %(line)s: “%(value)s” is not an amount.") % {"line": line, "value": text})
        return None
    places = CURRENCY_PRECISION.get(currency, 2)
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -places or amount >= Decimal("1e15"):
        errors.append(_("Row %(line)s: “%(value)s” is not a positive %(currency)s amount.")
                      % {"line": line, "value": text, "currency": currency})
        return None
    return amount


def _date(text, line, errors):
    try:
        return datetime.date.fromisoformat(text.strip()[:10])
    except (ValueError, AttributeError):
        errors.append(_("Row %(line)s: “%(value)s” is not a date (YYYY-MM-DD).") % {"line": line, "value": text})
        return None


def _read_simulated(reader):
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != SIMULATED_COLUMNS:
        _fail([_("The first row must be the columns: %(columns)s.") % {"columns": ",".join(SIMULATED_COLUMNS)}])
    rows, errors = [], []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(SIMULATED_COLUMNS):
            errors.append(_("Row %(line)s: expected %(n)s columns.") % {"line": number, "n": len(SIMULATED_COLUMNS)})
            continue
        day, kind, reference, gateway_reference, amount_text, currency = (c.strip() for c in cells)
        if kind not in ("payment", "refund"):
            errors.append(_("Row %(line)s: the type must be payment or refund.") % {"line": number})
            continue
        if len(currency) != 3 or not currency.isalpha() or not reference or len(reference) > 64:
            errors.append(_("Row %(line)s: a reference and a three-letter currency are required.") % {"line": number})
            continue
        date, amount = _date(day, number, errors), _amount(amount_text, currency.upper(), number, errors)
        if date and amount:
            rows.append(Row(number, date, kind, reference, gateway_reference[:64], amount, currency.upper()))
    return rows, errors


def _read_alipay(reader):
    """Alipay's 业务明细 CSV: comment lines (#…) around a header row; 业务类型 交易 is a
    payment (商户订单号 = our payment reference), 退款 a refund (退款批次号/请求号 = our
    refund reference); amounts in yuan, negative for refunds."""
    header, rows, errors = None, [], []
    for number, cells in enumerate(reader, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header is None:
            header = {name: i for i, name in enumerate(cells)}
            if not set(ALIPAY_COLUMNS.values()) <= header.keys():
                _fail([_("The first row must be the columns: %(columns)s.")
                       % {"columns": ",".join(ALIPAY_COLUMNS.values())}])
            continue
        if len(cells) < len(header):
            errors.append(_("Row %(line)s: expected %(n)s columns.") % {"line": number, "n": len(header)})
            continue
        cell = {key: cells[header[name]] for key, name in ALIPAY_COLUMNS.items()}
        kind = {"交易": "payment", "退款": "refund"}.get(cell["kind"])
        if kind is None:
            errors.append(_("Row %(line)s: the type must be payment or refund.") % {"line": number})
            continue
        reference = cell["out_trade_no"] if kind == "payment" else cell["refund_no"]
        if not reference or len(reference) > 64:
            errors.append(_("Row %(line)s: a reference and a three-letter currency are required.") % {"line": number})
            continue
        date = _date(cell["finished"], number, errors)
        amount = _amount(cell["amount"].lstrip("-"), "CNY", number, errors)
        if date and amount:
            rows.append(Row(number, date, kind, reference, cell["trade_no"][:64], amount, "CNY"))
    if header is None:
        _fail([_("The first row must be the columns: %(columns)s.") % {"columns": ",".join(ALIPAY_COLUMNS.values())}])
    return rows, errors


def check_size(size: int) -> None:
    """A statement larger than SHOPYARD_MAX_UPLOAD_BYTES is refused unread."""
    if size > settings.MAX_UPLOAD_BYTES:
        _fail([_("The file is larger than %(n)s KB.") % {"n": settings.MAX_UPLOAD_BYTES // 1024}])


def parse_statement(*, gateway, data: bytes) -> list[Row]:
    """The statement's rows, or ValidationFailed naming what is wrong (first few rows)."""
    if gateway not in FORMATS:
        raise ValidationFailed(fields={"gateway": [_("No statement format for this gateway.")]})
    if not data:
        _fail([_("The file is empty.")])
    check_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail([_("The file is not UTF-8 text (save the CSV as UTF-8).")])
    if "\x00" in text:
        _fail([_("The file is not a CSV text file.")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows, errors = (_read_simulated if FORMATS[gateway] == "simulated" else _read_alipay)(reader)
    except csv.Error as exc:
        _fail([_("The file is not valid CSV: %(why)s.") % {"why": exc}])
    if errors:
        _fail(errors)
    if not rows:
        _fail([_("The statement has no rows.")])
    if len(rows) > MAX_ROWS:
        _fail([_("A statement has at most %(n)s rows.") % {"n": MAX_ROWS}])
    if len({r.date for r in rows}) != 1:
        _fail([_("A daily statement covers one date; this one has several.")])
    seen = set()
    for row in rows:
        if (row.type, row.reference) in seen:
            _fail([_("Row %(line)s: %(reference)s is listed twice.") % {"line": row.line, "reference": row.reference}])
        seen.add((row.type, row.reference))
    return rows


def _day_bounds(day):
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def import_statement(*, actor, gateway, data: bytes, filename="") -> StatementImport:
    """Parse, match and store one daily statement with its mismatches (all or nothing)."""
    rows = parse_statement(gateway=gateway, data=data)
    day = rows[0].date
    start, end = _day_bounds(day)
    ours = {
        "payment": {p.reference: p for p in Payment.objects.filter(
            gateway=gateway, status=Status.SUCCEEDED,
            reference__in=[r.reference for r in rows if r.type == "payment"])},
        "refund": {r.reference: r for r in Refund.objects.filter(
            payment__gateway=gateway, status=RefundStatus.SUCCEEDED,
            reference__in=[r.reference for r in rows if r.type == "refund"])},
    }
    mismatches, matched, listed = [], 0, set()
    for row in rows:
        record = ours[row.type].get(row.reference)
        listed.add((row.type, row.reference))
        if record is None:
            mismatches.append(StatementMismatch(
                kind=StatementMismatch.Kind.MISSING_HERE, record_type=row.type, reference=row.reference,
                gateway_reference=row.gateway_reference, statement_amount=row.amount, currency=row.currency))
        elif record.amount != row.amount or record.currency != row.currency:
            mismatches.append(StatementMismatch(
                kind=StatementMismatch.Kind.AMOUNT_DIFFERS, record_type=row.type, reference=row.reference,
                gateway_reference=row.gateway_reference, statement_amount=row.amount, our_amount=record.amount,
                currency=row.currency))
        else:
            matched += 1
    day_records = [
        ("payment", Payment.objects.filter(gateway=gateway, status=Status.SUCCEEDED, completed_at__gte=start,
                                           completed_at__lt=end).order_by("pk")),
        ("refund", Refund.objects.filter(payment__gateway=gateway, status=RefundStatus.SUCCEEDED,
                                         completed_at__gte=start, completed_at__lt=end).order_by("pk")),
    ]
    for record_type, records in day_records:
        for record in records:
            if (record_type, record.reference) not in listed:
                mismatches.append(StatementMismatch(
                    kind=StatementMismatch.Kind.MISSING_THERE, record_type=record_type, reference=record.reference,
                    gateway_reference=getattr(record, "gateway_reference", ""), our_amount=record.amount,
                    currency=record.currency))
    with transaction.atomic():
        statement = StatementImport.objects.create(
            gateway=gateway, statement_date=day, filename=(filename or "")[:200], rows=len(rows), matched=matched,
            imported_by=actor if getattr(actor, "pk", None) else None)
        for mismatch in mismatches:
            mismatch.statement = statement
        StatementMismatch.objects.bulk_create(mismatches)
    return statement
