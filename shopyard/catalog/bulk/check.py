"""The dry run: every row of a file checked, every error collected with its
row and column, and the plan of what an import would create or update."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from shopyard.core.validation import parse_int
from shopyard.inventory import services as inventory

from ..models import Brand, Category, Product, ProductAttribute, Sku
from ..services import MAX_MATRIX_ATTRIBUTES, MAX_MATRIX_OPTIONS, MAX_SKUS, measure, parse_price
from .files import (
    BATCH,
    COLUMNS,
    NO,
    PRODUCT_COLUMNS,
    REQUIRED,
    STATUS_WORDS,
    TEXT_LIMITS,
    YES,
    read_file,
)


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
