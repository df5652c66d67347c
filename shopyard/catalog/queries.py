"""Catalogue reads shared by pages and the API, each a fixed number of queries."""

from django.db import router
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404

from shopyard.core.kept_sql import KeptRead
from shopyard.shops.models import Shop

from .models import (
    IMAGE_ORDER,
    AttributeOption,
    Category,
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


def visible_products():
    """Products a shopper may see: published, of an active shop, with at least one SKU to buy."""
    return Product.objects.filter(
        Exists(Sku.objects.filter(product_id=OuterRef("pk"), is_active=True)),
        status=Product.Status.PUBLISHED, shop__status=Shop.Status.ACTIVE,
    )


def published_products(*, category=None, shop_id=None, sort="newest", min_price=None, max_price=None):
    """A listing of visible products, filtered and sorted (words are the search app's:
    shopyard.search.queries.search)."""
    qs = visible_products()
    if category is not None:
        ids = [category.pk, *Category.objects.filter(parent=category).values_list("pk", flat=True)]
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


def product_detail(product_id, *, include_unpublished_for_shop=None, with_sku_options=True):
    """A product with images, active SKUs (with stock) and attributes; the
    product page skips each SKU's option links (it shows the SKU's name)."""
    skus = Sku.objects.filter(is_active=True).select_related("stock")  # the product is visible: its active SKUs are
    if with_sku_options:
        skus = skus.prefetch_related("options")
    base = Product.objects if include_unpublished_for_shop is not None else visible_products()
    qs = base.select_related("shop", "category", "category__parent", "brand").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by(*IMAGE_ORDER), to_attr="image_list"),
        Prefetch("skus", queryset=skus, to_attr="sku_list"),
        "attributes__options",
    )
    if include_unpublished_for_shop is not None:
        return get_object_or_404(qs, pk=product_id, shop=include_unpublished_for_shop)
    return get_object_or_404(qs, pk=product_id)


def _fields(model):
    return [f.attname for f in model._meta.concrete_fields]


def _product_with_shop(product_id):
    return visible_products().filter(pk=product_id).values_list(
        *_fields(Product), *(f"shop__{name}" for name in _fields(Shop)))


def _images(product_id):
    return ProductImage.objects.filter(product_id=product_id).order_by(*IMAGE_ORDER).values_list(*_fields(ProductImage))


def _attributes_with_options(product_id):
    return (ProductAttribute.objects.filter(product_id=product_id)
            .order_by("position", "id", "options__position", "options__id")
            .values_list("id", "name", "name_en", "position",
                         "options__id", "options__value", "options__value_en", "options__position"))


def _skus_with_stock_and_options(product_id):
    # one row per SKU and option (a SKU without options once): the link table joined, not prefetched
    return (Sku.objects.filter(product_id=product_id, is_active=True).order_by("id")
            .values_list(*_fields(Sku), "stock__quantity", "stock__sku_id", "options__id"))


_PRODUCT_READ = KeptRead(_product_with_shop)
_IMAGES_READ = KeptRead(_images)
_ATTRIBUTES_READ = KeptRead(_attributes_with_options)
_SKUS_READ = KeptRead(_skus_with_stock_and_options)


def _instances(model, alias, rows, width):
    names = _fields(model)
    return [model.from_db(alias, names, row[:width]) for row in rows]


def product_rows(product_id):
    """What `product_detail` reads of a visible product for the catalogue API (shop, images, active
    SKUs with stock and options, attributes with options), in four queries rather than six and
    without Django's prefetching, which cost more CPU than the rows themselves on every body the
    API cache misses; each read's SQL is compiled once per process (core.kept_sql), since compiling
    was most of what was left. The same rows in the same order, as plain lists: `image_list`,
    `sku_list` (each SKU with its `stock` and `option_list`, ordered as `Sku.options` is) and
    `attribute_list` (each attribute with its `option_list`)."""
    from shopyard.inventory.models import StockLevel

    alias = router.db_for_read(Product)
    found = _PRODUCT_READ.rows(product_id)
    if not found:
        raise Http404
    width = len(Product._meta.concrete_fields)
    [product] = _instances(Product, alias, found, width)
    Product.shop.field.set_cached_value(product, Shop.from_db(alias, _fields(Shop), found[0][width:]))
    product.image_list = _instances(ProductImage, alias, _IMAGES_READ.rows(product_id), None)
    attributes, options = {}, {}
    for attr_id, name, name_en, position, option_id, value, value_en, option_position in _ATTRIBUTES_READ.rows(product_id):
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
    width = len(Sku._meta.concrete_fields)
    stock_relation = Sku.stock.related
    for row in _SKUS_READ.rows(product_id):
        sku_id = row[0]
        if sku_id not in skus:
            sku = skus[sku_id] = Sku.from_db(alias, _fields(Sku), row[:width])
            quantity, stock_sku_id = row[width], row[width + 1]
            stock = StockLevel.from_db(alias, ["sku_id", "quantity"], (stock_sku_id, quantity)) if stock_sku_id else None
            stock_relation.set_cached_value(sku, stock)  # None: no stock row, as select_related leaves it
        if row[width + 2] is not None:
            linked.setdefault(sku_id, []).append(row[width + 2])
    foreign = {o for ids in linked.values() for o in ids} - options.keys()
    if foreign:  # an option of another product's attribute: read as the prefetch would have
        options.update((o.pk, o) for o in AttributeOption.objects.filter(pk__in=foreign))
    for sku in skus.values():
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


_LIVE_READ = KeptRead(lambda product_id: Sku.objects.filter(product_id=product_id, is_active=True).order_by("pk")
                      .values_list("pk", "stock__quantity", "product__sales_count", "product__updated_at"))


def stock_levels(product_id) -> dict[int, int]:
    """Units on hand per active SKU of the product, read live (one indexed query)."""
    from shopyard.inventory.models import StockLevel

    rows = StockLevel.objects.filter(sku__product_id=product_id, sku__is_active=True).order_by("sku_id")
    return dict(rows.values_list("sku_id", "quantity"))


def with_live_stock(product, levels: dict[int, int]):
    """`product` (from product_detail, possibly kept from an earlier request) with each
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
# rows `product_detail` already loaded, so it costs no query of its own.


def option_matrix(product) -> dict:
    """Attributes with their options, and each active SKU as the tuple of its
    option ids in attribute order (SKUs lacking an option of some attribute are
    left out of the choice: they cannot be reached by picking options)."""
    attributes = []
    for attr in product.attributes.all():
        attributes.append({"id": attr.pk, "label": attr.label,
                           "options": [{"id": o.pk, "label": o.label} for o in attr.options.all()]})
    skus = []
    for sku in product.sku_list:
        by_attr = {o.attribute_id: o.pk for o in sku.options.all()}
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
