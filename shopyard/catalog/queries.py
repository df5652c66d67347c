"""Catalogue reads shared by pages and the API, each a fixed number of queries."""

import functools

from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery, Sum
from django.http import Http404

from shopyard.core.json_rows import JSONRows, rows_of
from shopyard.core.prepared import PreparedRead
from shopyard.shops.models import Shop

from .models import (
    IMAGE_ORDER,
    AttributeOption,
    Category,
    CategoryCount,
    Product,
    ProductAttribute,
    ProductImage,
    Sku,
)

SORTS = {
    "newest": ("-created_at", "-id"),
    "price_asc": ("min_price", "id"),
    "price_desc": ("-min_price", "-id"),
    "sales": ("-sales_count", "-id"),
}


def category_tree():
    cats = list(Category.objects.all())
    roots = [c for c in cats if c.parent_id is None]
    for root in roots:
        root.child_list = [c for c in cats if c.parent_id == root.pk]
    return roots


# --- the visibility rule -----------------------------------------------------
# What a shopper may see or buy lives here and nowhere else: a published product
# of an active shop, through an active SKU. Listings, product pages, the API,
# favourites, the cart and checkout all start from these two querysets, so a
# draft, a deactivated SKU or a suspended shop disappears everywhere at once.


def visible_skus():
    """SKUs a shopper may buy: active, of a published product of an active shop."""
    return Sku.objects.filter(
        is_active=True, product__status=Product.Status.PUBLISHED, product__shop__status=Shop.Status.ACTIVE
    )


def _listed():
    """The product's own part of the rule: published, with at least one SKU to buy."""
    return Q(Exists(Sku.objects.filter(product_id=OuterRef("pk"), is_active=True)), status=Product.Status.PUBLISHED)


def _open_shop():
    """The shop's part of the rule: an active shop (a Product's or a CategoryCount's)."""
    return Q(shop__status=Shop.Status.ACTIVE)


def visible_products():
    """Products a shopper may see: published, of an active shop, with at least one SKU to buy."""
    return Product.objects.filter(_listed(), _open_shop())


def listed_products():
    """Products visible as far as they themselves decide (the shop's status aside): what
    CategoryCount counts, so that a shop suspended or reopened changes no count."""
    return Product.objects.filter(_listed())


def visible_count(*, category_ids=None, shop_id=None) -> int:
    """How many products `published_products(category=..., shop_id=...)` lists (no price
    filter): `category_ids` the category and its sub-categories, none for the whole
    catalogue. Adds up the kept per-category, per-shop counts (CategoryCount: a few rows, one
    query) instead of probing every visible product, which at 100,000 products was the part
    of a listing that grew with the catalogue."""
    qs = CategoryCount.objects.filter(_open_shop())
    if category_ids is not None:
        qs = qs.filter(category_id__in=list(category_ids))
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    return qs.aggregate(n=Sum("products"))["n"] or 0


# compiled once (core.prepared): every listing the page cache does not serve asks it
_CATEGORY_WITH_CHILDREN = PreparedRead(Category, lambda slug: (
    Category.objects.select_related("parent").filter(Q(slug=slug) | Q(parent__slug=slug))), kinds=("text",))


def category_with_children(slug):
    """The category at `slug` (its parent joined) with its sub-categories' ids in `child_ids`,
    or None: one query where a listing made two (the category, then its children)."""
    rows = _CATEGORY_WITH_CHILDREN.objects(slug)
    category = next((c for c in rows if c.slug == slug), None)
    if category is not None:
        category.child_ids = [c.pk for c in rows if c.parent_id == category.pk]
    return category


def published_products(*, category=None, shop_id=None, sort="newest", min_price=None, max_price=None):
    """A listing of visible products, filtered and sorted (words are the search app's:
    shopyard.search.queries.search). A category's listing holds its sub-categories'
    products: their ids are read here, unless `category` came with them
    (category_with_children)."""
    qs = visible_products()
    if category is not None:
        children = getattr(category, "child_ids", None)
        if children is None:
            children = Category.objects.filter(parent=category).values_list("pk", flat=True)
        ids = [category.pk, *children]
        qs = qs.filter(category_id__in=ids)
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    if min_price is not None:
        qs = qs.filter(min_price__gte=min_price)
    if max_price is not None:
        qs = qs.filter(min_price__lte=max_price)
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


def with_cover(qs):
    """Attach the first image as `cover` using one extra query for the page."""
    return qs.select_related("shop").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by(*IMAGE_ORDER), to_attr="image_list")
    )


def picture_url(thumbnail_name: str, image_name: str) -> str:
    """A product picture's URL as cards show it: its thumbnail when one was made."""
    field = ProductImage._meta.get_field("thumbnail" if thumbnail_name else "image")
    return field.storage.url(thumbnail_name or image_name)


def cover_urls(product_ids) -> dict:
    """{product id: its cover's URL} for products with a picture: the first by IMAGE_ORDER,
    as `with_cover` puts it first in `image_list`. One query, plain values."""
    covers = {}
    for product_id, thumbnail, image in (ProductImage.objects.filter(product_id__in=list(product_ids))
                                         .order_by(*IMAGE_ORDER).values_list("product_id", "thumbnail", "image")):
        if product_id not in covers:
            covers[product_id] = picture_url(thumbnail, image)
    return covers


def _first(qs):
    return (qs if qs.ordered else qs.order_by("pk"))[:1]  # as QuerySet.first() reads it


# a product's pictures and its attributes with their options: a handful of short rows each,
# carried in the product's own row (core.json_rows), not read by two statements more
_PICTURE_FIELDS = [f.attname for f in ProductImage._meta.concrete_fields]  # as from_db takes them
_PICTURE_ORDER = [_PICTURE_FIELDS.index(name) for name in IMAGE_ORDER]
_ATTRIBUTE_COLUMNS = ("id", "name", "name_en", "position",
                      "options__id", "options__value", "options__value_en", "options__position")


def _with_parts(qs):
    pictures = (ProductImage.objects.filter(product_id=OuterRef("pk")).order_by().values("product_id")
                .annotate(rows=JSONRows(*_PICTURE_FIELDS)).values("rows"))
    attributes = (ProductAttribute.objects.filter(product_id=OuterRef("pk")).order_by().values("product_id")
                  .annotate(rows=JSONRows(*_ATTRIBUTE_COLUMNS)).values("rows"))
    return qs.annotate(picture_rows=Subquery(pictures), attribute_rows=Subquery(attributes))


def product_row_read(annotations, kinds=()) -> PreparedRead:
    """product_rows' read of the product's own row with its category path and brand (as
    `with_category` reads it), annotated with `annotations(*variables)`: {name: expression
    over OuterRef("pk")}, set on the product as attributes. Apps above the catalogue add what
    decides their own reads (a product page reads its questions, group buys and flash sales
    only when an Exists says there are some) without a statement of their own. `kinds`: the
    variables' kinds (core.prepared); build it once, and give it to product_rows as `row`."""
    return PreparedRead(Product, lambda pk, *variables: _first(
        _with_parts(visible_products().select_related("shop", "category", "category__parent", "brand"))
        .annotate(**annotations(*variables)).filter(pk=pk)), kinds=("id", *kinds))


# product_rows' reads, each of one shape whose only variable is the product's id: built
# and compiled by Django once per process (core.prepared), not on every view
_PRODUCT_ROW = PreparedRead(Product, lambda pk: _first(
    _with_parts(visible_products().select_related("shop")).filter(pk=pk)))
_PRODUCT_ROW_WITH_CATEGORY = product_row_read(dict)
# one row per SKU and option (a SKU without options once): the link table joined, not prefetched
_SKUS = PreparedRead(Sku, lambda pk: (Sku.objects.filter(product_id=pk, is_active=True).select_related("stock")
                                     .annotate(option_id=F("options__id")).order_by("id")))


# a buyable SKU with its product, shop and stock: checkout reads one per line of every order
_BUYABLE_SKU = PreparedRead(Sku, lambda pk: _first(
    visible_skus().select_related("product", "product__shop", "stock").filter(pk=pk)))


def buyable_sku_row(sku_id):
    """The visible SKU `sku_id` (a parsed id) with its product, shop and stock joined, or
    None: `visible_skus()` for one id, compiled once, as every order line reads it."""
    rows = _BUYABLE_SKU.objects(sku_id)
    return rows[0] if rows else None


def product_rows(product_id, *, with_category=False, row=None, variables=()):
    """A visible product with what its page and the catalogue API show (shop, images, active
    SKUs with stock and options, attributes with options), in two queries and without
    Django's prefetching, which cost more CPU than the rows themselves on every view the
    caches miss (it was six queries through prefetch_related, then four). Plain lists,
    ordered as the related managers order them: `image_list`, `sku_list` (each SKU with its
    `option_list`, ordered as `Sku.options` is, and its `product` set to this one: the pricing
    pipeline reads it) and `attribute_list` (each attribute with its `option_list`). The
    pictures and the attributes come in the product's own row (_with_parts). The product
    page also shows the category path and the brand: `with_category` reads them in the
    product's own row; `row` (a product_row_read, with its `variables`) reads it with more."""
    if row is None:
        row = _PRODUCT_ROW_WITH_CATEGORY if with_category else _PRODUCT_ROW
    found = row.objects(product_id, *variables)
    if not found:
        raise Http404
    product = found[0]
    alias = product._state.db
    pictures = sorted(rows_of(product.__dict__.pop("picture_rows")), key=lambda r: [r[i] for i in _PICTURE_ORDER])
    product.image_list = [ProductImage.from_db(alias, _PICTURE_FIELDS, values) for values in pictures]
    attributes, options = {}, {}
    # an attribute without options is one row (its options' columns null), else one row per option
    for attr_id, name, name_en, position, option_id, value, value_en, option_position in sorted(
            rows_of(product.__dict__.pop("attribute_rows")), key=lambda r: (r[3], r[0], r[7], r[4])):
        attr = attributes.get(attr_id)
        if attr is None:
            attr = attributes[attr_id] = ProductAttribute(
                id=attr_id, product_id=product_id, name=name, name_en=name_en, position=position)
            attr.option_list = []
        if option_id is not None:
            option = options[option_id] = AttributeOption(
                id=option_id, attribute_id=attr_id, value=value, value_en=value_en, position=option_position)
            attr.option_list.append(option)
    product.attribute_list = list(attributes.values())
    skus, linked = {}, {}
    for sku in _SKUS.objects(product_id):
        skus.setdefault(sku.pk, sku)
        if sku.option_id is not None:
            linked.setdefault(sku.pk, []).append(sku.option_id)
    foreign = {o for ids in linked.values() for o in ids} - options.keys()
    if foreign:  # an option of another product's attribute: read as the prefetch would have
        options.update((o.pk, o) for o in AttributeOption.objects.filter(pk__in=foreign))
    for sku in skus.values():
        sku.product = product
        sku.option_list = sorted((options[o] for o in linked.get(sku.pk, ())), key=lambda o: (o.position, o.pk))
    product.sku_list = list(skus.values())
    return product


def visible_favourite_ids(user):
    """The user's favourite product ids (newest first), hidden products left out."""
    from .models import Favourite

    return (
        Favourite.objects.filter(user=user, product__in=visible_products())
        .order_by("-created_at", "-id")
        .values_list("product_id", flat=True)
    )


def sku_stock(sku) -> int:
    """Units on hand; a SKU without a stock row (getattr sees an AttributeError subclass) has none."""
    stock = getattr(sku, "stock", None)
    return stock.quantity if stock is not None else 0


def live_state(product_id) -> tuple:
    """What a product's kept API body cannot know by events (stock and sales move with
    orders; an admin edit touches `updated_at`): per active SKU its id and units on hand,
    with the product's sales count and last edit. One indexed query; empty when the
    product has no active SKU (it is not visible either)."""
    return tuple(_LIVE_READ.rows(product_id))


_LIVE_READ = PreparedRead(Sku, lambda product_id: Sku.objects.filter(product_id=product_id, is_active=True)
                          .order_by("pk").values_list("pk", "stock__quantity", "product__sales_count",
                                                      "product__updated_at"))


def stock_levels(product_id) -> dict[int, int]:
    """Units on hand per active SKU of the product, read live (one indexed query, compiled
    once: every product page whose rows the fragment cache kept reads it)."""
    return dict(_stock_levels().rows(product_id))


@functools.cache
def _stock_levels() -> PreparedRead:
    from shopyard.inventory.models import StockLevel

    return PreparedRead(StockLevel, lambda product_id: StockLevel.objects.filter(
        sku__product_id=product_id, sku__is_active=True).order_by("sku_id").values_list("sku_id", "quantity"))


def with_live_stock(product, levels: dict[int, int]):
    """`product` (from product_rows, possibly kept from an earlier request) with each
    SKU's stock set to `levels`, so the units shown are never older than this request."""
    from shopyard.inventory.models import StockLevel

    for sku in product.sku_list:
        stock = getattr(sku, "stock", None)
        if stock is not None:
            stock.quantity = levels.get(sku.pk, 0)
        elif sku.pk in levels:
            sku.stock = StockLevel(sku=sku, quantity=levels[sku.pk])
    return product


# --- the option matrix of a product page ----------------------------------------
# Shoppers pick one option per attribute (颜色, 尺码 …); the page needs, for each
# option, whether choosing it (with the options already chosen for the other
# attributes) leads to a SKU that exists and is in stock. It is built once, from
# rows `product_rows` already loaded, so it costs no query of its own.


def option_matrix(product) -> dict:
    """Attributes with their options, and each active SKU as the tuple of its
    option ids in attribute order (SKUs lacking an option of some attribute are
    left out of the choice: they cannot be reached by picking options)."""
    attributes = []
    for attr in product.attribute_list:
        attributes.append({"id": attr.pk, "label": attr.label,
                           "options": [{"id": o.pk, "label": o.label} for o in attr.option_list]})
    skus = []
    for sku in product.sku_list:
        by_attr = {o.attribute_id: o.pk for o in sku.option_list}
        combo = [by_attr.get(a["id"]) for a in attributes]
        skus.append({"sku": sku, "options": combo, "stock": sku_stock(sku)})
    return {"attributes": attributes, "skus": skus}


def _matches(entry, chosen: dict[int, int], attr_ids: list[int]) -> bool:
    return all(chosen.get(a) in (None, o) for a, o in zip(attr_ids, entry["options"], strict=True))


def resolve_selection(matrix: dict, *, sku_id=None, chosen=None):
    """The SKU a shopper selected and the option chosen per attribute.

    An explicit SKU id wins; otherwise the chosen options (attribute id →
    option id, foreign pairs ignored) are completed with the first SKU in
    stock that agrees with them, else the first that exists. A choice no SKU
    agrees with is dropped, so the page always shows a real SKU."""
    attr_ids = [a["id"] for a in matrix["attributes"]]
    entries = matrix["skus"]
    if sku_id is not None:
        for entry in entries:
            if entry["sku"].pk == sku_id:
                return entry, dict(zip(attr_ids, entry["options"], strict=True))
    valid = {a["id"]: {o["id"] for o in a["options"]} for a in matrix["attributes"]}
    picked = {a: o for a, o in (chosen or {}).items() if o in valid.get(a, ())}
    candidates = [e for e in entries if _matches(e, picked, attr_ids)] or entries
    entry = next((e for e in candidates if e["stock"] > 0), candidates[0] if candidates else None)
    if entry is None:
        return None, {}
    return entry, dict(zip(attr_ids, entry["options"], strict=True))


def option_states(matrix: dict, chosen: dict[int, int]) -> dict[int, str]:
    """Per option id: "available", "sold_out" (only sold-out SKUs have it
    together with the other chosen options) or "missing" (no SKU has it)."""
    attr_ids = [a["id"] for a in matrix["attributes"]]
    states = {}
    for attr in matrix["attributes"]:
        others = {a: o for a, o in chosen.items() if a != attr["id"]}
        for opt in attr["options"]:
            wanted = {**others, attr["id"]: opt["id"]}
            hits = [e for e in matrix["skus"] if _matches(e, wanted, attr_ids)]
            states[opt["id"]] = ("available" if any(e["stock"] > 0 for e in hits)
                                 else "sold_out" if hits else "missing")
    return states
