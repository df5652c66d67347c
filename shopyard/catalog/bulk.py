"""Bulk catalogue: a shop's products imported and exported as CSV or XLSX
files (one row per SKU), and many SKUs' prices and stock edited at once.

Why here: catalog already sets stock through inventory's services and
inventory imports nothing of catalog, so the dependency keeps pointing one way
(console and the API call this module; this module calls
`inventory.services.set_stock_many`, never the stock tables).

A file is read and checked whole before anything is written. `check_file`
(the dry run) returns every row's errors (row number as the spreadsheet shows
it, column, reason) and what would be created or updated; `import_file` writes
all of it in one transaction with bulk statements, or nothing. The console's
confirmation imports exactly the checked file: it is kept as a
`CatalogImport` behind a token (its shop, its uploader, IMPORT_TTL, once).

Which product a row belongs to: rows sharing a `product_key` are one product.
A group whose SKU codes exist in the shop updates their product; a group of
new codes creates a product. SKU codes are unique on the whole platform, and
a code of another shop is never looked at or changed: it is "already used".
The format is described in docs/catalog-import.md.
"""

import csv
import io
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from shopyard.core.bulk_sql import insert_rows, update_rows
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import CURRENCY_PRECISION
from shopyard.core.slugs import slugify_text
from shopyard.core.validation import parse_id, parse_int
from shopyard.inventory import services as inventory

from . import rich_text
from .models import AttributeOption, Brand, CatalogImport, Category, Product, ProductAttribute, Sku
from .services import MAX_MATRIX_ATTRIBUTES, MAX_MATRIX_OPTIONS, MAX_SKUS, measure, parse_price

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


@dataclass
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "message": str(self.message)}


@dataclass
class SkuRow:
    row: int
    code: str
    options: list  # [(attribute name, value)]
    price: Decimal
    stock: int
    values: dict  # weight / volume / is_active, only for the columns the file has
    sku: Sku | None = None


@dataclass
class Group:
    key: str
    row: int
    fields: dict  # product fields the file sets
    skus: list = field(default_factory=list)
    product: Product | None = None


@dataclass
class Plan:
    """What a file would do: `errors` (every one) or `groups` to write."""

    rows: int = 0
    errors: list = field(default_factory=list)
    groups: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "products_created": sum(1 for g in self.groups if g.product is None),
            "products_updated": sum(1 for g in self.groups if g.product is not None),
            "skus_created": sum(1 for g in self.groups for s in g.skus if s.sku is None),
            "skus_updated": sum(1 for g in self.groups for s in g.skus if s.sku is not None),
        }


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


# --- checking -------------------------------------------------------------------------


def _categories():
    """Category by slug and by path of names ("数码/手机", "Digital/Phones")."""
    cats = list(Category.objects.all())
    by_id = {c.pk: c for c in cats}
    found = {}
    for c in cats:
        found[c.slug.lower()] = c
        chain = [c]
        while chain[-1].parent_id and len(chain) < 10:
            chain.append(by_id[chain[-1].parent_id])
        for attr in ("name", "name_en"):
            names = [getattr(x, attr) for x in reversed(chain)]
            if all(names):
                found.setdefault("/".join(n.strip().lower() for n in names), c)
    return found


def _category(text, categories):
    key = "/".join(part.strip().lower() for part in text.replace(">", "/").split("/"))
    return categories.get(key)


def _brands():
    found = {}
    for b in Brand.objects.all():
        found[b.name.lower()] = b
        if b.name_en:
            found.setdefault(b.name_en.lower(), b)
    return found


def _options(text, add):
    """ "颜色=红;尺码=L" -> [("颜色", "红"), ("尺码", "L")]."""
    if not text:
        return []
    pairs = []
    for part in text.replace("；", ";").split(";"):
        if not part.strip():
            continue
        name, sep, value = part.replace("＝", "=").partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value or "=" in value:
            add("options", _("Write options as name=value pairs separated by ; (for example 颜色=红;尺码=L)."))
            return None
        if len(name) > 50 or len(value) > 50:
            add("options", _("Option names and values have at most 50 characters."))
            return None
        pairs.append((name, value))
    names = [n for n, _v in pairs]
    if len(set(names)) != len(names):
        add("options", _("Name each attribute once."))
        return None
    if len(pairs) > MAX_MATRIX_ATTRIBUTES:
        add("options", _("Give at most %(n)s attributes.") % {"n": MAX_MATRIX_ATTRIBUTES})
        return None
    return pairs


def _whole(text, column, add, *, required):
    if text == "" and not required:
        return None
    value = parse_int(text, max_value=inventory.MAX_STOCK)
    if value is None:
        add(column, _("Stock must be a whole number from 0 to %(max)s.") % {"max": inventory.MAX_STOCK})
    return value


def _check_row(number, row, *, columns, currency, categories, brands, errors):
    def add(column, message):
        errors.append(RowError(number, column, message))

    if row.get("__extra__"):
        add("file", _("This row has more cells than the header has columns."))
    for name in columns:
        if len(row.get(name, "")) > TEXT_LIMITS[name]:
            add(name, _("Use at most %(n)s characters.") % {"n": TEXT_LIMITS[name]})
            row[name] = row[name][:TEXT_LIMITS[name]]
    clean = {"row": number, "key": row["product_key"], "code": row["sku_code"], "raw": row}
    for name in ("product_key", "sku_code"):
        if not row[name]:
            add(name, _("This field is required."))
    if row["category"]:
        clean["category"] = _category(row["category"], categories)
        if clean["category"] is None:
            add("category", _("Unknown category “%(value)s”: give its slug or its path, such as 数码/手机.")
                % {"value": row["category"]})
    if row.get("brand"):
        clean["brand"] = brands.get(row["brand"].lower())
        if clean["brand"] is None:
            add("brand", _("Unknown brand “%(value)s”.") % {"value": row["brand"]})
    if row.get("status"):
        clean["status"] = STATUS_WORDS.get(row["status"].lower())
        if clean["status"] is None:
            add("status", _("The status must be draft or published."))
    local = {}
    clean["price"] = parse_price(row["price"], "price", local, currency=currency) if row["price"] else None
    if not row["price"]:
        add("price", _("This field is required."))
    clean["stock"] = _whole(row["stock"], "stock", add, required=True) if row["stock"] else None
    if not row["stock"]:
        add("stock", _("This field is required."))
    values = {}
    for name, places in (("weight", 3), ("volume", 6)):
        if name in columns:
            values[name] = measure(row[name], name, local, places=places)
    if "active" in columns:
        word = row["active"].lower()
        if word and word not in YES | NO:
            add("active", _("Write 1 for active or 0 for switched off."))
        values["is_active"] = word not in NO
    for name, messages in local.items():
        for message in messages:
            add(name, message)
    clean["values"] = values
    # None: no options column (an existing SKU keeps its options) or options that could not be read
    clean["options"] = _options(row.get("options", ""), add) if "options" in columns else None
    return clean


def check_file(*, shop, data: bytes, filename: str = "") -> Plan:
    """The dry run: every error of every row, or the plan to write. Writes nothing."""
    columns, rows = read_file(data=data, filename=filename)
    plan = Plan(rows=len(rows))
    errors = plan.errors
    categories, brands = _categories(), _brands()
    cleaned = [_check_row(n, dict(r, **{c: r.get(c, "") for c in REQUIRED}), columns=columns,
                          currency=shop.currency, categories=categories, brands=brands, errors=errors)
               for n, r in rows]

    # SKU codes: once per file; a code of this shop updates its SKU, another shop's is "already used"
    first_row = {}
    for c in cleaned:
        if c["code"] in first_row:
            errors.append(RowError(c["row"], "sku_code", _("SKU code %(code)s is already on row %(row)s.")
                                   % {"code": c["code"], "row": first_row[c["code"]]}))
            c["duplicate"] = True
        elif c["code"]:
            first_row[c["code"]] = c["row"]
    codes = list(first_row)
    known = {}
    for start in range(0, len(codes), BATCH):
        for sku in Sku.objects.filter(code__in=codes[start:start + BATCH]).select_related("product"):
            known[sku.code] = sku
    for c in cleaned:
        sku = known.get(c["code"])
        if sku is not None and sku.product.shop_id != shop.pk:
            errors.append(RowError(c["row"], "sku_code", _("The SKU code %(code)s is already used.")
                                   % {"code": c["code"]}))
        elif sku is not None and not c.get("duplicate"):
            c["sku"] = sku

    groups: dict[str, dict] = {}
    for c in cleaned:
        if c["key"]:
            groups.setdefault(c["key"], []).append(c)
    product_of_group = {}
    claimed = {}
    for key, members in groups.items():
        product_ids = {}
        for c in members:
            if c.get("sku"):
                product_ids.setdefault(c["sku"].product_id, c)
        if len(product_ids) > 1:
            first, *others = product_ids.values()
            for c in others:
                errors.append(RowError(c["row"], "sku_code", _(
                    "SKU %(code)s belongs to another product than SKU %(other)s on row %(row)s: give it that "
                    "product's key.") % {"code": c["code"], "other": first["code"], "row": first["row"]}))
            continue
        if product_ids:
            (product_id, c), = product_ids.items()
            if product_id in claimed:
                errors.append(RowError(c["row"], "product_key", _(
                    "This product's SKUs already have the product key %(key)s on row %(row)s: one product, "
                    "one key.") % {"key": claimed[product_id][0], "row": claimed[product_id][1]}))
                continue
            claimed[product_id] = (key, members[0]["row"])
            product_of_group[key] = c["sku"].product
    existing_attrs = _attribute_names([p.pk for p in product_of_group.values()])
    outside = _active_skus_outside(product_of_group, groups)

    for key, members in groups.items():
        group = _check_group(key, members, columns, product_of_group.get(key), existing_attrs, outside, errors)
        if group is not None:
            plan.groups.append(group)
    if errors:
        errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
        plan.groups = []
    return plan


def _attribute_names(product_ids) -> dict:
    names = {}
    for product_id, name in (ProductAttribute.objects.filter(product_id__in=product_ids)
                             .order_by("product_id", "position", "id").values_list("product_id", "name")):
        names.setdefault(product_id, []).append(name)
    return names


def _active_skus_outside(product_of_group, groups) -> set:
    """Products that keep active SKUs the file does not list."""
    listed = {c["code"] for members in groups.values() for c in members}
    ids = [p.pk for p in product_of_group.values()]
    found = set()
    for start in range(0, len(ids), BATCH):
        found |= {pid for pid, code in Sku.objects.filter(product_id__in=ids[start:start + BATCH], is_active=True)
                  .values_list("product_id", "code") if code not in listed}
    return found


def _check_group(key, members, columns, product, existing_attrs, outside, errors):
    first = members[0]

    def add(c, column, message):
        errors.append(RowError(c["row"], column, message))

    # product columns: the first row of the product says; later rows repeat it or leave it blank
    for c in members[1:]:
        for name in PRODUCT_COLUMNS:
            if name in columns and c["raw"][name] and c["raw"][name] != first["raw"][name]:
                add(c, name, _("Differs from row %(row)s of the same product key.") % {"row": first["row"]})
    if not first["raw"]["title"]:
        add(first, "title", _("This field is required."))
    if not first["raw"]["category"]:
        add(first, "category", _("This field is required."))
    if len(members) > MAX_SKUS:
        add(members[MAX_SKUS], "sku_code", _("Give at most %(n)s SKUs.") % {"n": MAX_SKUS})
    # options: every SKU of a product names the same attributes; no two SKUs alike
    names, combos = None, {}
    values_of: dict[str, set] = {}
    for c in members:
        options = c["options"]
        if options is None and "options" not in columns and c.get("sku") is None:
            options = []  # a new SKU without options
        if options is None:
            continue
        these = [n for n, _v in options]
        if names is None:
            names = these
        elif these != names:
            add(c, "options", _("Give the same attributes as row %(row)s: %(names)s.")
                % {"row": first["row"], "names": ", ".join(names) or "—"})
            continue
        combo = tuple(v for _n, v in options)
        if combo in combos:
            add(c, "options", _("Row %(row)s has the same options.") % {"row": combos[combo]})
        combos.setdefault(combo, c["row"])
        for n, v in options:
            values_of.setdefault(n, set()).add(v)
    if any(len(v) > MAX_MATRIX_OPTIONS for v in values_of.values()):
        add(first, "options", _("Give at most %(n)s options per attribute.") % {"n": MAX_MATRIX_OPTIONS})
    if (product is not None and "options" in columns and product.pk in outside
            and names is not None and names != existing_attrs.get(product.pk, [])):
        add(first, "options", _("This product's other SKUs vary on %(names)s: use the same attributes, or "
                                "change the attributes in the product editor.")
            % {"names": ", ".join(existing_attrs.get(product.pk, [])) or "—"})
    if (product is not None and "options" not in columns and existing_attrs.get(product.pk)
            and any(c.get("sku") is None for c in members)):
        add(next(c for c in members if c.get("sku") is None), "sku_code", _(
            "Give the options of the new SKUs: this product varies on %(names)s.")
            % {"names": ", ".join(existing_attrs[product.pk])})
    status = first.get("status")
    if status == Product.Status.PUBLISHED:
        active = [c for c in members if c["values"].get("is_active", True)]
        if not active and not (product is not None and product.pk in outside):
            add(first, "status", _("Add an active SKU before publishing."))
    if _has_errors(members, errors):
        return None
    fields = {"title": first["raw"]["title"], "category": first["category"]}
    for name in ("title_en", "description", "description_en"):
        if name in columns:
            fields[name] = first["raw"][name]
    if "brand" in columns:
        fields["brand"] = first.get("brand")
    if first.get("status"):
        fields["status"] = first["status"]
    group = Group(key=key, row=first["row"], fields=fields, product=product)
    for c in members:
        group.skus.append(SkuRow(row=c["row"], code=c["code"], options=c["options"] if "options" in columns else None,
                                 price=c["price"], stock=c["stock"], values=c["values"], sku=c.get("sku")))
    return group


def _has_errors(members, errors):
    rows = {c["row"] for c in members}
    return any(e.row in rows for e in errors)


# --- writing ----------------------------------------------------------------------------


def _write(plan: Plan, *, shop, actor) -> dict:
    """Everything the plan says, in the caller's transaction, a statement per batch."""
    now = timezone.now()
    groups = plan.groups
    summary = plan.summary
    existing_ids = sorted(g.product.pk for g in groups if g.product is not None)
    locked = {}
    for start in range(0, len(existing_ids), BATCH):
        for p in Product.objects.select_for_update().filter(shop=shop, pk__in=existing_ids[start:start + BATCH]):
            locked[p.pk] = p
    new_products = []
    for g in groups:
        f = g.fields
        if g.product is None:
            status = f.get("status", Product.Status.DRAFT)
            g.product = Product(
                shop=shop, currency=shop.currency, title=f["title"], title_en=f.get("title_en", ""),
                description=rich_text.sanitize(f.get("description", "")),
                description_en=rich_text.sanitize(f.get("description_en", "")),
                category=f["category"], brand=f.get("brand"), slug=slugify_text(f["title"]), status=status,
                published_at=now if status == Product.Status.PUBLISHED else None)
            new_products.append(g.product)
            continue
        if g.product.pk not in locked:  # deleted between the check and the write
            raise Conflict(_("A product of this file was changed meanwhile; check the file again."))
        p = g.product = locked[g.product.pk]
        p.title, p.category = f["title"], f["category"]
        for name in ("title_en", "description", "description_en"):
            if name in f:
                setattr(p, name, rich_text.sanitize(f[name]) if name.startswith("description") else f[name])
        if "brand" in f:
            p.brand = f["brand"]
        if "status" in f:
            p.status = f["status"]
            if p.status == Product.Status.PUBLISHED and p.published_at is None:
                p.published_at = now
        p.slug = slugify_text(p.title)
        p.updated_at = now
    Product.objects.bulk_create(new_products, batch_size=BATCH)
    update_rows(Product, [g.product for g in groups if g.product.pk in locked],
                ["title", "title_en", "description", "description_en", "category", "brand", "status",
                 "published_at", "slug", "updated_at"])
    options = _write_options(groups)
    _write_skus(groups, options, actor)
    ids = [g.product.pk for g in groups]
    _refresh_price_ranges(ids)
    created = [p.pk for p in new_products]
    emit("products.changed", shop_id=shop.pk, product_ids=ids, created_ids=created, source="import",
         actor_id=getattr(actor, "pk", None))
    return summary


def _write_options(groups) -> dict:
    """The attribute options the rows name, created where missing: {(product id, name, value): option}."""
    wanted = [(g.product.pk, names) for g in groups
              for names in [[n for n, _v in (g.skus[0].options or [])]] if names]
    product_ids = [pid for pid, _n in wanted]
    attrs = {}
    for start in range(0, len(product_ids), BATCH):
        for a in ProductAttribute.objects.filter(product_id__in=product_ids[start:start + BATCH]):
            attrs[(a.product_id, a.name)] = a
    new_attrs = []
    for pid, names in wanted:
        for pos, name in enumerate(names):
            if (pid, name) not in attrs:
                attrs[(pid, name)] = ProductAttribute(product_id=pid, name=name, position=pos)
                new_attrs.append(attrs[(pid, name)])
    ProductAttribute.objects.bulk_create(new_attrs, batch_size=BATCH)
    attr_ids = [a.pk for a in attrs.values()]
    opts, top = {}, {}
    for start in range(0, len(attr_ids), BATCH):
        for o in AttributeOption.objects.filter(attribute_id__in=attr_ids[start:start + BATCH]):
            opts[(o.attribute_id, o.value)] = o
            top[o.attribute_id] = max(top.get(o.attribute_id, 0), o.position + 1)
    new_opts = []
    result = {}
    for g in groups:
        for s in g.skus:
            for name, value in s.options or []:
                attr = attrs[(g.product.pk, name)]
                option = opts.get((attr.pk, value))
                if option is None:
                    option = opts[(attr.pk, value)] = AttributeOption(attribute=attr, value=value,
                                                                      position=top.get(attr.pk, 0))
                    top[attr.pk] = top.get(attr.pk, 0) + 1
                    new_opts.append(option)
                result[(g.product.pk, name, value)] = option
    AttributeOption.objects.bulk_create(new_opts, batch_size=BATCH)
    return result


def _write_skus(groups, options, actor) -> None:
    new, changed, linked = [], [], []
    update_fields = {"price"}
    for g in groups:
        for s in g.skus:
            picked = [options[(g.product.pk, n, v)] for n, v in s.options] if s.options is not None else None
            sku = s.sku or Sku(product=g.product, code=s.code, price=s.price)
            sku.price = s.price
            if picked is not None:
                sku.name = " / ".join(o.value for o in picked)
                sku.name_en = " / ".join(o.value_en or o.value for o in picked)
                update_fields |= {"name", "name_en"}
            for name, value in s.values.items():
                setattr(sku, name, value)
                update_fields.add(name)
            (changed if s.sku else new).append(sku)
            s.sku = sku
            if picked is not None:
                linked.append((sku, picked))
    Sku.objects.bulk_create(new, batch_size=BATCH)
    update_rows(Sku, changed, sorted(update_fields))
    through = Sku.options.through
    relinked = [sku.pk for sku, _p in linked]
    for start in range(0, len(relinked), BATCH):
        through.objects.filter(sku_id__in=relinked[start:start + BATCH]).delete()
    insert_rows(through, [through(sku_id=sku.pk, attributeoption_id=o.pk) for sku, picked in linked for o in picked])
    inventory.set_stock_many(quantities={s.sku.pk: s.stock for g in groups for s in g.skus}, actor=actor)


def _refresh_price_ranges(product_ids) -> None:
    """catalog.services.refresh_price_range for many products in a few statements."""
    products = []
    for start in range(0, len(product_ids), BATCH):
        chunk = product_ids[start:start + BATCH]
        ranges = {r["product_id"]: r for r in Sku.objects.filter(product_id__in=chunk, is_active=True)
                  .values("product_id").annotate(lo=Min("price"), hi=Max("price"))}
        for pid in chunk:
            r = ranges.get(pid, {})
            products.append(Product(pk=pid, min_price=r.get("lo") or Decimal("0"), max_price=r.get("hi") or Decimal("0")))
    update_rows(Product, products, ["min_price", "max_price"])


def _apply(*, actor, shop, data, filename) -> dict:
    plan = check_file(shop=shop, data=data, filename=filename)
    if not plan.ok:
        raise ImportRefused(plan)
    try:
        with transaction.atomic():
            return _write(plan, shop=shop, actor=actor)
    except IntegrityError:  # a SKU code taken by someone else between the check and the write
        raise Conflict(_("Another change to these SKU codes came first; check the file again.")) from None


class ImportRefused(ValidationFailed):
    """The file has row errors: nothing was written; `errors` lists them all."""

    def __init__(self, plan):
        self.plan = plan
        self.errors = plan.errors
        fields = {}
        for e in plan.errors[:200]:
            fields.setdefault(f"rows[{e.row}].{e.column}", []).append(str(e.message))
        n = len(plan.errors)
        super().__init__(ngettext("The file has %(n)s error; nothing was imported.",
                                  "The file has %(n)s errors; nothing was imported.", n) % {"n": n}, fields=fields)


def import_file(*, actor, shop, data: bytes, filename: str = "") -> dict:
    """Check and import a file in one step (the API's `dry_run=false`): all or nothing."""
    return _apply(actor=actor, shop=shop, data=data, filename=filename)


def stage_import(*, actor, shop, data: bytes, filename: str = "") -> tuple[Plan, CatalogImport | None]:
    """The dry run the console and the API show before confirming: the plan, and
    when the file has no errors the stored file whose token confirms it. Old
    staged files of the shop are removed here (no periodic job needed)."""
    plan = check_file(shop=shop, data=data, filename=filename)
    CatalogImport.objects.filter(shop=shop, created_at__lt=timezone.now() - 2 * IMPORT_TTL).delete()
    if not plan.ok:
        return plan, None
    staged = CatalogImport.objects.create(token=secrets.token_urlsafe(24), shop=shop, created_by=actor,
                                          filename=(filename or "")[:200], data=data, summary=plan.summary)
    return plan, staged


def confirm_import(*, actor, shop, token: str) -> dict:
    """Import the file staged under `token`, once: a second confirmation (a
    replay, a double click) is a Conflict and imports nothing again; another
    shop's or user's token, or an expired one, is not found. The file is
    checked again, as the catalogue may have changed since the dry run."""
    token = str(token or "")[:64]
    staged = CatalogImport.objects.filter(token=token, shop=shop, created_by=actor).first() if token else None
    if staged is None or staged.created_at < timezone.now() - IMPORT_TTL:
        raise NotFound(_("This import is unknown or has expired; upload the file again."))
    with transaction.atomic():
        # the conditional UPDATE lets one confirmation through, on SQLite and PostgreSQL alike
        claimed = CatalogImport.objects.filter(pk=staged.pk, status=CatalogImport.Status.PENDING).update(
            status=CatalogImport.Status.APPLIED, applied_at=timezone.now())
        if not claimed:
            raise Conflict(_("This file was already imported."), code="import_already_applied")
        summary = _apply(actor=actor, shop=shop, data=bytes(staged.data), filename=staged.filename)
    CatalogImport.objects.filter(pk=staged.pk).update(data=b"")  # the file is not needed any more
    return summary


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


# --- bulk price and stock edit --------------------------------------------------------------


def shop_skus(shop, *, q: str = "", status: str = ""):
    """The shop's SKUs for the bulk editor, with product and stock."""
    qs = Sku.objects.filter(product__shop=shop).select_related("product", "stock").order_by("product_id", "id")
    q = (q or "").strip()[:100]
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(product__title__icontains=q) | Q(product__title_en__icontains=q)
                       | Q(name__icontains=q))
    if status in Product.Status.values:
        qs = qs.filter(product__status=status)
    return qs


def edit_skus(*, actor, shop, items) -> dict:
    """Set the price and/or stock of many of the shop's SKUs at once, all or
    nothing. `items`: [{"sku_id", "price"?, "stock"?, "stock_seen"?}]; errors
    name the item (`items[3].price`). A SKU id of another shop is a 404.
    `stock_seen` (the figure the editor showed) refuses a row whose stock
    changed meanwhile, so units sold while the seller typed are not lost."""
    if not isinstance(items, list | tuple) or not items:
        raise ValidationFailed(fields={"items": [_("Change at least one SKU.")]})
    if len(items) > MAX_EDIT_ITEMS:
        raise ValidationFailed(fields={"items": [_("Edit at most %(n)s SKUs at once.") % {"n": MAX_EDIT_ITEMS}]})
    errors, ids = {}, []
    for i, item in enumerate(items):
        sku_id = parse_id((item or {}).get("sku_id"))
        if sku_id is None:
            errors[f"items[{i}].sku_id"] = [_("Enter a valid id.")]
        elif sku_id in ids:
            errors[f"items[{i}].sku_id"] = [_("Each SKU once.")]
        ids.append(sku_id)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        skus = {s.pk: s for s in Sku.objects.select_for_update().filter(pk__in=ids, product__shop=shop)
                .select_related("product").order_by("pk")}
        if len(skus) != len(ids):
            raise NotFound(_("SKU not found."))
        current = inventory.available(ids)
        prices, stocks = [], {}
        for i, item in enumerate(items):
            sku = skus[ids[i]]
            if item.get("price") not in (None, ""):
                price = parse_price(item["price"], f"items[{i}].price", errors, currency=sku.product.currency)
                if price is not None and price != sku.price:
                    sku.price = price
                    prices.append(sku)
            if item.get("stock") not in (None, ""):
                stock = parse_int(item["stock"], max_value=inventory.MAX_STOCK)
                if stock is None:
                    errors[f"items[{i}].stock"] = [
                        _("Stock must be a whole number from 0 to %(max)s.") % {"max": inventory.MAX_STOCK}]
                    continue
                seen = item.get("stock_seen")
                if seen not in (None, "") and parse_int(seen) != current.get(sku.pk, 0):
                    if stock != parse_int(seen):
                        errors[f"items[{i}].stock"] = [_(
                            "Stock changed while you were editing: %(now)s on hand now; enter the new figure "
                            "again.") % {"now": current.get(sku.pk, 0)}]
                    continue
                if stock != current.get(sku.pk, 0):
                    stocks[sku.pk] = stock
        if errors:
            raise ValidationFailed(fields=errors)
        update_rows(Sku, prices, ["price"])
        inventory.set_stock_many(quantities=stocks, actor=actor)
        product_ids = sorted({skus[i].product_id for i in [s.pk for s in prices] + list(stocks)})
        if prices:
            _refresh_price_ranges(sorted({s.product_id for s in prices}))
        if product_ids:
            emit("products.changed", shop_id=shop.pk, product_ids=product_ids, created_ids=[], source="bulk_edit",
                 actor_id=getattr(actor, "pk", None))
    return {"prices_changed": len(prices), "stocks_changed": len(stocks), "products": len(product_ids)}
