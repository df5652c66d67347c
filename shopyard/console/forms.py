"""The product editor's form state: parsed from POST, built from a product,
turned into the data dict that catalog.services.create_product/update_product
take, and decorated with the field errors those services raise.

The editor is a plain HTML form (no JavaScript needed): up to three attribute
slots and a table of SKU rows named `sku-<row>-<field>`. Regenerating the SKU
table from the attributes is a server round trip that keeps typed rows.
"""

import itertools
import re
import secrets
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from shopyard.catalog import services as catalog
from shopyard.core.errors import ValidationFailed
from shopyard.core.validation import parse_int

MAX_ATTRIBUTES = catalog.MAX_MATRIX_ATTRIBUTES
MAX_ROWS = catalog.MAX_SKUS
PRODUCT_FIELDS = ("category_id", "brand_id", "title", "title_en", "description", "description_en",
                  "seo_title", "seo_description")
SKU_FIELDS = ("code", "price", "stock", "options")
_SPLIT = re.compile(r"[,，、;；\n]")
_ERROR_KEY = re.compile(r"^(attributes|skus)\[([0-9]{1,4})\]\.(\w+)$")


def split_options(text: str) -> list[str]:
    """'红色, 蓝色，绿色' -> ['红色', '蓝色', '绿色'] (ASCII or Chinese commas)."""
    return [part.strip() for part in _SPLIT.split(text or "") if part.strip()]


@dataclass
class AttrSlot:
    name: str = ""
    name_en: str = ""
    options: str = ""
    options_en: str = ""
    errors: dict = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        return not (self.name or self.name_en or self.options or self.options_en)

    @property
    def values(self) -> list[str]:
        return split_options(self.options)

    @property
    def values_en(self) -> list[str]:
        return split_options(self.options_en)


@dataclass
class SkuRow:
    options: list = field(default_factory=list)
    code: str = ""
    price: str = ""
    stock: str = "0"
    # the stock the form showed: saving applies the seller's change as a delta,
    # so units sold while the form was open are not written back
    stock_seen: str = ""
    active: bool = True
    # the id of the SKU's own picture ("" none); None: the form had no picture field
    image: str | None = None
    # kg, what weight-based freight templates count ("" none); None: the form had no weight field
    weight: str | None = None
    errors: dict = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        return not (self.code or self.price or any(self.options))


@dataclass
class EditorState:
    fields: dict = field(default_factory=lambda: dict.fromkeys(PRODUCT_FIELDS, ""))
    attributes: list = field(default_factory=list)  # non-blank AttrSlots, in order
    rows: list = field(default_factory=list)
    publish: bool = False
    code_base: str = ""
    default_price: str = ""  # for new rows, or for every row with "apply to all"
    default_stock: str = ""
    freight_template: str = ""  # the product's freight template id, "" for the shop's flat fee
    errors: dict = field(default_factory=dict)  # product-level field -> [messages]
    other_errors: list = field(default_factory=list)  # messages with no field to sit next to

    @property
    def attribute_slots(self) -> list:
        """The attributes followed by blank slots, MAX_ATTRIBUTES in all."""
        slots = list(self.attributes[:MAX_ATTRIBUTES])
        return slots + [AttrSlot() for _i in range(MAX_ATTRIBUTES - len(slots))]

    @property
    def named_attributes(self) -> list:
        return [a for a in self.attributes if a.name or a.values]

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.other_errors or any(a.errors for a in self.attributes)
                    or any(r.errors for r in self.rows))

    def option_choices(self):
        """Per attribute column: the options a SKU row may pick."""
        return [a.values for a in self.attributes]


def new_code_base() -> str:
    return f"SY{secrets.token_hex(3).upper()}"


def _str(post, key, limit=20000) -> str:
    return str(post.get(key, "") or "").strip()[:limit]


def parse_post(post) -> EditorState:
    """Read the editor from request.POST; blank attribute slots and blank or
    deleted SKU rows are dropped so that service error indices match rows."""
    state = EditorState()
    state.fields = {name: _str(post, name) for name in PRODUCT_FIELDS}
    state.publish = post.get("publish") in ("1", "on", "true")
    state.default_price = _str(post, "default_price", 50)
    state.default_stock = _str(post, "default_stock", 50)
    state.freight_template = _str(post, "freight_template_id", 20)
    state.code_base = re.sub(r"[^A-Za-z0-9-]", "", _str(post, "code_base", 20)) or new_code_base()
    for i in range(MAX_ATTRIBUTES):
        slot = AttrSlot(
            name=_str(post, f"attr-{i}-name", 200), name_en=_str(post, f"attr-{i}-name_en", 200),
            options=_str(post, f"attr-{i}-options", 4000), options_en=_str(post, f"attr-{i}-options_en", 4000),
        )
        if not slot.is_blank:
            state.attributes.append(slot)
    count = parse_int(post.get("sku_rows", 0), max_value=MAX_ROWS + 50) or 0
    width = len(state.attributes)
    for n in range(max(count, 0)):
        if post.get(f"sku-{n}-delete"):
            continue
        row = SkuRow(
            options=[_str(post, f"sku-{n}-opt-{k}", 200) for k in range(width)],
            code=_str(post, f"sku-{n}-code", 200), price=_str(post, f"sku-{n}-price", 50),
            stock=_str(post, f"sku-{n}-stock", 50), stock_seen=_str(post, f"sku-{n}-stock_seen", 50),
            active=bool(post.get(f"sku-{n}-active")),
            image=_str(post, f"sku-{n}-image", 20) if f"sku-{n}-image" in post else None,
            weight=_str(post, f"sku-{n}-weight", 30) if f"sku-{n}-weight" in post else None,
        )
        if not row.is_blank:
            state.rows.append(row)
    return state


def from_product(product) -> EditorState:
    """The editor for an existing product: its attributes and the SKUs that
    still fit them (SKUs orphaned by a removed attribute stay deactivated)."""
    state = EditorState(code_base=f"P{product.pk}", freight_template=str(product.freight_template_id or ""))
    state.fields = {
        "category_id": str(product.category_id), "brand_id": str(product.brand_id or ""),
        "title": product.title, "title_en": product.title_en,
        "description": product.description, "description_en": product.description_en,
        "seo_title": product.seo_title, "seo_description": product.seo_description,
    }
    attrs = list(product.attributes.prefetch_related("options").order_by("position", "id"))
    for attr in attrs:
        opts = list(attr.options.all())
        state.attributes.append(AttrSlot(
            name=attr.name, name_en=attr.name_en, options=", ".join(o.value for o in opts),
            options_en=", ".join(o.value_en for o in opts) if any(o.value_en for o in opts) else "",
        ))
    skus = list(product.skus.select_related("stock").prefetch_related("options").order_by("id"))
    combos = {}
    for sku in skus:
        by_attr = {o.attribute_id: o.value for o in sku.options.all()}
        combos[sku.pk] = tuple(by_attr.get(a.pk, "") for a in attrs)
    live = {combos[s.pk] for s in skus if s.is_active}
    rows, seen = [], set()
    for sku in skus:
        combo = combos[sku.pk]
        # orphans of a removed attribute, and inactive twins of a live SKU, stay hidden (and inactive)
        if (attrs and not all(combo)) or combo in seen or (not sku.is_active and combo in live):
            continue
        seen.add(combo)
        stock = getattr(sku, "stock", None)
        rows.append(SkuRow(
            options=list(combo), code=sku.code, price=f"{sku.price:.2f}",
            stock=str(stock.quantity if stock is not None else 0),
            stock_seen=str(stock.quantity if stock is not None else 0), active=sku.is_active,
            image=str(sku.image_id or ""), weight=f"{sku.weight.normalize():f}" if sku.weight is not None else "",
        ))
    state.rows = rows
    return state


def regenerate_rows(state: EditorState) -> None:
    """Make the SKU table the matrix of the attribute options
    (catalog.services.plan_sku_matrix, which also holds the limits), keeping
    rows already typed for a combination; new rows get the "for new rows"
    price and stock."""
    attributes = [{"name": a.name, "options": a.values} for a in state.attributes]
    try:
        combos = catalog.plan_sku_matrix(attributes)
    except ValidationFailed as exc:
        attach_errors(state, exc.fields)
        state.other_errors.append(_("Fix the attributes before generating SKUs."))
        return
    width = len(attributes)
    existing = {tuple(r.options): r for r in state.rows if len(r.options) == width}
    template = next((r for r in state.rows if r.price), None)
    price = state.default_price or (template.price if template else "")
    stock = state.default_stock or "0"
    used = {r.code for r in state.rows}
    counter = itertools.count(1)
    rows = []
    for combo in combos:
        row = existing.get(tuple(combo))
        if row is None:
            code = f"{state.code_base}-{next(counter)}"
            while code in used:
                code = f"{state.code_base}-{next(counter)}"
            used.add(code)
            row = SkuRow(options=list(combo), code=code, price=price, stock=stock)
        rows.append(row)
    state.rows = rows


def apply_to_all(state: EditorState) -> None:
    """Copy the "apply to all" price and/or stock into every row; the save
    still applies stock as a change against what the form showed."""
    if not (state.default_price or state.default_stock):
        state.other_errors.append(_("Enter a price or a stock figure to apply to all rows."))
        return
    for row in state.rows:
        if state.default_price:
            row.price = state.default_price
        if state.default_stock:
            row.stock = state.default_stock


def add_blank_row(state: EditorState) -> None:
    if len(state.rows) >= MAX_ROWS:
        state.other_errors.append(_("At most %(max)s SKUs are allowed.") % {"max": MAX_ROWS})
        return
    used = {r.code for r in state.rows}
    n = len(state.rows) + 1
    while f"{state.code_base}-{n}" in used:
        n += 1
    state.rows.append(SkuRow(options=[""] * len(state.attributes), code=f"{state.code_base}-{n}"))


def to_data(state: EditorState) -> tuple[dict, dict]:
    """The services' data dict, plus errors only the form can see (English
    option names that do not line up with the options)."""
    errors = {}
    attributes = []
    for i, attr in enumerate(state.attributes):
        values, values_en = attr.values, attr.values_en
        if values_en and len(values_en) != len(values):
            errors[f"attributes[{i}].options_en"] = [
                _("Give one English name per option (%(n)s), in the same order, or leave this empty.") % {"n": len(values)}
            ]
        options = [{"value": v, "value_en": values_en[k] if k < len(values_en) else ""} for k, v in enumerate(values)]
        attributes.append({"name": attr.name, "name_en": attr.name_en, "options": options})
    skus = [
        {"code": r.code, "price": r.price, "stock": r.stock, "options": list(r.options), "is_active": r.active,
         "stock_seen": parse_int(r.stock_seen), **({"image_id": r.image or None} if r.image is not None else {}),
         **({"weight": r.weight or None} if r.weight is not None else {})}
        for r in state.rows
    ]
    data = {**state.fields, "attributes": attributes, "skus": skus, "publish": state.publish}
    if not data["brand_id"]:
        data["brand_id"] = None
    return data, errors


def attach_errors(state: EditorState, errors: dict) -> None:
    """Put each `skus[2].price`-style error next to its field."""
    for key, messages in errors.items():
        messages = [str(m) for m in (messages if isinstance(messages, list | tuple) else [messages])]
        match = _ERROR_KEY.match(key)
        if match:
            kind, index, name = match.group(1), int(match.group(2)), match.group(3)
            items = state.attributes if kind == "attributes" else state.rows
            if index < len(items):
                items[index].errors.setdefault(name, []).extend(messages)
                continue
        if key in PRODUCT_FIELDS or key in ("attributes", "skus", "status"):
            state.errors.setdefault(key, []).extend(messages)
        else:
            state.other_errors.extend(messages)
