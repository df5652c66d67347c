"""The file side of the bulk catalogue: the columns, reading CSV and XLSX
into rows of text, and writing the shop's catalogue back out in the same
columns (with formula-looking cells quoted)."""

import csv
import io
import zipfile
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopyard.core.errors import ValidationFailed
from shopyard.core.money import CURRENCY_PRECISION

from ..models import Product, Sku

# the file's columns, in the order export writes them; import accepts them in any order
COLUMNS = ("product_key", "title", "title_en", "category", "brand", "description", "description_en", "status",
           "sku_code", "options", "price", "stock", "weight", "volume", "active")
REQUIRED = ("product_key", "title", "category", "sku_code", "price", "stock")
PRODUCT_COLUMNS = ("title", "title_en", "category", "brand", "description", "description_en", "status")
# Chinese headers a seller may type instead (export writes the English keys)
HEADER_ALIASES = {
    "商品编号": "product_key", "商品名称": "title", "英文名称": "title_en", "类目": "category", "品牌": "brand",
    "描述": "description", "英文描述": "description_en", "状态": "status", "SKU编码": "sku_code",
    "规格": "options", "价格": "price", "库存": "stock", "重量": "weight", "体积": "volume", "启用": "active",
}
COLUMN_LABELS = {
    "product_key": gettext_lazy("product key"), "title": gettext_lazy("title"),
    "title_en": gettext_lazy("English title"), "category": gettext_lazy("category"),
    "brand": gettext_lazy("brand"), "description": gettext_lazy("description"),
    "description_en": gettext_lazy("English description"), "status": gettext_lazy("status"),
    "sku_code": gettext_lazy("SKU code"), "options": gettext_lazy("options"), "price": gettext_lazy("price"),
    "stock": gettext_lazy("stock"), "weight": gettext_lazy("weight (kg)"), "volume": gettext_lazy("volume (m³)"),
    "active": gettext_lazy("active"), "file": gettext_lazy("file"),
}
TEXT_LIMITS = {"product_key": 64, "title": 200, "title_en": 200, "category": 300, "brand": 100,
               "description": 20000, "description_en": 20000, "status": 20, "sku_code": 64, "options": 500,
               "price": 30, "stock": 30, "weight": 30, "volume": 30, "active": 10}

MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024  # a zip bomb is refused before openpyxl reads it
MAX_EDIT_ITEMS = 500
IMPORT_TTL = timedelta(minutes=30)
BATCH = 500
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# a cell starting with one of these is a formula to a spreadsheet: export quotes it with ',
# import takes the quote off again (OWASP "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STATUS_WORDS = {"draft": Product.Status.DRAFT, "草稿": Product.Status.DRAFT, "下架": Product.Status.DRAFT,
                "published": Product.Status.PUBLISHED, "上架": Product.Status.PUBLISHED,
                "已上架": Product.Status.PUBLISHED}
YES = {"1", "yes", "true", "y", "是"}
NO = {"0", "no", "false", "n", "否"}


def _file_error(message):
    raise ValidationFailed(message, fields={"file": [message]})


# --- reading ------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as text: XLSX gives numbers (and 1e-06 for a volume), CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_START:
        text = text[1:]
    return text


def _detect_format(data: bytes, filename: str) -> str:
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04" or name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".xls", ".numbers", ".ods")):
        _file_error(_("Save the file as CSV or as an Excel workbook (.xlsx)."))
    return "csv"


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel in Chinese saves CSV as GBK unless told otherwise
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            _file_error(_("The file is not UTF-8 text (save the CSV as UTF-8)."))
    if "\x00" in text:
        _file_error(_("The file is not a CSV text file."))
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        _file_error(_("The file is not valid CSV: %(why)s.") % {"why": exc})


def _xlsx_rows(data: bytes):
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
                _file_error(_("The workbook is too large once unpacked."))
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValidationFailed:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged or foreign file
        _file_error(_("The file is not a valid Excel workbook (.xlsx)."))
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    except ValidationFailed:
        raise
    except Exception:
        _file_error(_("The file is not a valid Excel workbook (.xlsx)."))
    finally:
        book.close()


def read_file(*, data: bytes, filename: str = "") -> tuple[list, list]:
    """The header's columns and the data rows [(row number, {column: text})];
    blank rows are skipped. ValidationFailed on `file` when the file as a whole
    cannot be used (size, format, header, too many rows)."""
    if not data:
        _file_error(_("The file is empty."))
    if len(data) > MAX_IMPORT_BYTES:
        _file_error(_("The file is larger than %(n)s MB.") % {"n": MAX_IMPORT_BYTES // (1024 * 1024)})
    fmt = _detect_format(data, filename)
    source = _xlsx_rows(data) if fmt == "xlsx" else _csv_rows(data)
    header = None
    rows = []
    for number, cells in enumerate(source, start=1):
        texts = [cell_text(c) for c in cells]
        if header is None:
            header = _header(texts)
            continue
        if not any(texts):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            _file_error(_("A file has at most %(n)s rows; split it into several files.") % {"n": MAX_IMPORT_ROWS})
        extra = texts[len(header):]
        row = {name: (texts[i] if i < len(texts) else "") for i, name in enumerate(header) if name}
        if any(extra):
            row["__extra__"] = "1"
        rows.append((number, row))
    if header is None:
        _file_error(_("The file is empty."))
    if not rows:
        _file_error(_("The file has no rows below its header."))
    return [h for h in header if h], rows


def _header(texts) -> list:
    names, unknown = [], []
    for text in texts:
        key = text.strip()
        name = key.lower() if key.lower() in COLUMNS else HEADER_ALIASES.get(key)
        if not key:
            names.append(None)
        elif name is None:
            unknown.append(key)
            names.append(None)
        else:
            names.append(name)
    if unknown:
        _file_error(_("Unknown columns: %(names)s. The columns are: %(columns)s.")
                    % {"names": ", ".join(unknown[:10]), "columns": ", ".join(COLUMNS)})
    given = [n for n in names if n]
    repeated = sorted({n for n in given if given.count(n) > 1})
    if repeated:
        _file_error(_("These columns appear twice: %(names)s.") % {"names": ", ".join(repeated)})
    missing = [n for n in REQUIRED if n not in given]
    if missing:
        _file_error(_("The file needs the columns: %(names)s.") % {"names": ", ".join(missing)})
    return names


# --- export -------------------------------------------------------------------------------


def _safe(value: str) -> str:
    return "'" + value if value[:1] in FORMULA_START else value


def _xlsx_text(value: str) -> str:
    """XML cannot hold most control characters; openpyxl refuses them."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", _safe(value))


def _amount(value, places) -> str:
    return "" if value is None else format(value.quantize(Decimal(1).scaleb(-places)), "f")


def export_rows(shop):
    """One dict per SKU of the shop (drafts and switched-off SKUs too), in the
    import's columns, so that the exported file imports back unchanged."""
    skus = (Sku.objects.filter(product__shop=shop).select_related("product__category", "product__brand", "stock")
            .prefetch_related("options__attribute").order_by("product_id", "id"))
    for sku in skus.iterator(chunk_size=2000):
        p = sku.product
        opts = sorted(sku.options.all(), key=lambda o: (o.attribute.position, o.attribute_id))
        stock = sku.stock.quantity if hasattr(sku, "stock") else 0
        yield {
            "product_key": str(p.pk), "title": p.title, "title_en": p.title_en, "category": p.category.slug,
            "brand": p.brand.name if p.brand_id else "", "description": p.description,
            "description_en": p.description_en, "status": p.status, "sku_code": sku.code,
            "options": ";".join(f"{o.attribute.name}={o.value}" for o in opts),
            "price": _amount(sku.price, CURRENCY_PRECISION.get(p.currency, 2)), "stock": stock,
            "weight": _amount(sku.weight, 3), "volume": _amount(sku.volume, 6),
            "active": "1" if sku.is_active else "0",
        }


NUMERIC = ("price", "stock", "weight", "volume")


def export_file(*, shop, fmt: str) -> tuple[bytes, str, str]:
    """(file bytes, content type, file name) of the shop's catalogue. Text cells
    that a spreadsheet would run as a formula are quoted."""
    if fmt not in FORMATS:
        raise ValidationFailed(fields={"format": [_("Choose csv or xlsx.")]})
    name = f"products-{shop.slug or shop.pk}-{timezone.localdate():%Y%m%d}.{fmt}"
    rows = export_rows(shop)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row[c] if c in NUMERIC else _safe(row[c]) for c in COLUMNS])
        return ("\ufeff" + out.getvalue()).encode("utf-8"), FORMATS[fmt], name
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("products")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([_xlsx_number(row[c]) if c in NUMERIC else _xlsx_text(row[c]) for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), FORMATS[fmt], name


def _xlsx_number(value):
    if value in ("", None):
        return None
    return value if isinstance(value, int) else Decimal(value)
