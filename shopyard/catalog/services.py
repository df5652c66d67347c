"""Catalogue writes: products with attributes and SKUs, images, publishing,
favourites. Sellers reach only their own shop's products (404 otherwise)."""

import itertools
import re
import uuid
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.images import delete_written
from shopyard.core.money import CURRENCY_PRECISION, format_price
from shopyard.core.slugs import slugify_text
from shopyard.core.validation import parse_id, parse_int
from shopyard.inventory import services as inventory

from . import images, rich_text
from .models import (
    IMAGE_ORDER,
    AttributeOption,
    Brand,
    Category,
    CategoryCount,
    Favourite,
    Product,
    ProductAttribute,
    ProductImage,
    Sku,
)

MAX_PRICE = Decimal("100000000")
MAX_SKUS = 200
# the SKU matrix's limits (attributes a product varies on, options of each):
# the product form, the matrix generator and the API all refuse beyond them
MAX_MATRIX_ATTRIBUTES = 3
MAX_MATRIX_OPTIONS = 20
MAX_IMAGES = 12
SEO_TITLE_MAX = 120  # Product.seo_title / seo_description lengths
SEO_DESCRIPTION_MAX = 300


MAX_MEASURE = Decimal("100000")


def measure(value, field, errors, *, places):
    """A SKU's weight (kg, 3 places) or volume (m³, 6 places): blank for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip() if isinstance(value, str | int | Decimal) and not isinstance(value, bool) else ""
    amount = Decimal(text) if _ASCII_AMOUNT.fullmatch(text) else None
    if amount is None or amount > MAX_MEASURE:
        errors[field] = [_("Enter a number from 0 to %(max)s.") % {"max": MAX_MEASURE}]
    elif amount != amount.quantize(Decimal(1).scaleb(-places)):
        errors[field] = [_("Use at most %(n)s decimal places.") % {"n": places}]
    else:
        return amount
    return None


def _text(data, field, *, required=False, limit=200, errors=None):
    value = data.get(field)
    value = "" if value is None else str(value).strip()
    if required and not value:
        errors[field] = [_("This field is required.")]
    elif len(value) > limit:
        errors[field] = [_("Use at most %(n)s characters.") % {"n": limit}]
    return value


_UNCHANGED = object()  # a SKU row that says nothing about its picture
_ASCII_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")


def parse_price(value, field, errors, *, currency):
    """A SKU price in `currency`: the one home of the price rule. At least the
    currency's smallest unit (a free or 0.001-yuan SKU is a typo, and could
    not be charged), at most MAX_PRICE, with no more decimals than the
    currency has. Text must be ASCII digits: Decimal() would read "٣" as 3."""
    if isinstance(value, float):
        value = str(value)
    if isinstance(value, str) and _ASCII_AMOUNT.fullmatch(value.strip()):
        price = Decimal(value.strip())
    elif isinstance(value, Decimal) and value.is_finite():
        price = value
    elif isinstance(value, int) and not isinstance(value, bool):
        price = Decimal(value)
    else:
        errors[field] = [_("Enter a valid amount.")]
        return None
    places = CURRENCY_PRECISION.get(currency, 2)
    unit = Decimal(1).scaleb(-places)
    if price < 0 or price > MAX_PRICE:
        errors[field] = [_("Enter an amount from 0 to 100,000,000.")]
        return None
    if price != price.quantize(unit):
        if places == 2:
            errors[field] = [_("Use at most two decimal places.")]
        elif places == 0:
            errors[field] = [_("Use a whole amount: %(currency)s has no smaller unit.") % {"currency": currency}]
        else:
            errors[field] = [_("Use at most %(n)s decimal places.") % {"n": places}]
        return None
    if price < unit:
        errors[field] = [_("The price must be at least %(min)s.") % {"min": format_price(unit, currency)}]
        return None
    return price


def _clean(data: dict, *, currency: str, partial_product=None):
    errors = {}
    cleaned = {
        "title": _text(data, "title", required=True, limit=200, errors=errors),
        "title_en": _text(data, "title_en", limit=200, errors=errors),
        "description": rich_text.sanitize(_text(data, "description", limit=20000, errors=errors)),
        "description_en": rich_text.sanitize(_text(data, "description_en", limit=20000, errors=errors)),
        "seo_title": _text(data, "seo_title", limit=SEO_TITLE_MAX, errors=errors),
        "seo_description": _text(data, "seo_description", limit=SEO_DESCRIPTION_MAX, errors=errors),
    }
    category_id = parse_id(data.get("category_id"))
    category = Category.objects.filter(pk=category_id).first() if category_id else None
    if category is None:
        errors["category_id"] = [_("Choose a category.")]
    cleaned["category"] = category
    brand_id = data.get("brand_id")
    cleaned["brand"] = None
    if brand_id not in (None, "", 0):
        brand_id = parse_id(brand_id)
        cleaned["brand"] = Brand.objects.filter(pk=brand_id).first() if brand_id else None
        if cleaned["brand"] is None:
            errors["brand_id"] = [_("Unknown brand.")]

    attributes = data.get("attributes") or []
    clean_attrs = []
    if not isinstance(attributes, list) or len(attributes) > MAX_MATRIX_ATTRIBUTES:
        errors["attributes"] = [_("Give at most %(n)s attributes.") % {"n": MAX_MATRIX_ATTRIBUTES}]
        attributes = []
    for i, attr in enumerate(attributes):
        name = str((attr or {}).get("name", "")).strip()
        opts = (attr or {}).get("options") or []
        if not name or len(name) > 50:
            errors[f"attributes[{i}].name"] = [_("Give the attribute a name (at most 50 characters).")]
            continue
        if not isinstance(opts, list) or not opts or len(opts) > MAX_MATRIX_OPTIONS:
            errors[f"attributes[{i}].options"] = [_("Give between 1 and %(n)s options.") % {"n": MAX_MATRIX_OPTIONS}]
            continue
        values = []
        for opt in opts:
            if isinstance(opt, str):
                opt = {"value": opt}
            value = str((opt or {}).get("value", "")).strip()
            if not value or len(value) > 50:
                errors[f"attributes[{i}].options"] = [_("Each option needs a value of at most 50 characters.")]
                break
            values.append((value, str(opt.get("value_en", "") or "").strip()[:50]))
        if len({v for v, _e in values}) != len(values):
            errors[f"attributes[{i}].options"] = [_("Options must be different from each other.")]
        clean_attrs.append({"name": name, "name_en": str(attr.get("name_en", "") or "").strip()[:50], "options": values})
    if len({a["name"] for a in clean_attrs}) != len(clean_attrs):
        errors["attributes"] = [_("Attribute names must be different from each other.")]

    skus = data.get("skus") or []
    clean_skus = []
    if not isinstance(skus, list) or not skus:
        errors["skus"] = [_("Add at least one SKU.")]
        skus = []
    elif len(skus) > MAX_SKUS:
        errors["skus"] = [_("Give at most %(n)s SKUs.") % {"n": MAX_SKUS}]
        skus = []
    codes = set()
    combos = set()
    for i, sku in enumerate(skus):
        sku = sku or {}
        code = str(sku.get("code", "")).strip()
        if not code or len(code) > 64:
            errors[f"skus[{i}].code"] = [_("Give a SKU code of at most 64 characters.")]
        elif code in codes:
            errors[f"skus[{i}].code"] = [_("SKU codes must be different from each other.")]
        codes.add(code)
        price = parse_price(sku.get("price"), f"skus[{i}].price", errors, currency=currency)
        stock = parse_int(sku.get("stock", 0), max_value=inventory.MAX_STOCK)
        if stock is None:
            errors[f"skus[{i}].stock"] = [_("Stock must be a whole number from 0 to %(max)s.") % {"max": inventory.MAX_STOCK}]
        chosen = sku.get("options") or []
        if not isinstance(chosen, list) or len(chosen) != len(clean_attrs):
            errors[f"skus[{i}].options"] = [_("Choose one option for each attribute.")]
            chosen = []
        else:
            for attr, value in zip(clean_attrs, chosen, strict=True):
                if value not in {v for v, _e in attr["options"]}:
                    errors[f"skus[{i}].options"] = [_("%(value)s is not an option of %(attr)s.") % {"value": value, "attr": attr["name"]}]
            if tuple(chosen) in combos:
                errors[f"skus[{i}].options"] = [_("Two SKUs have the same options.")]
            combos.add(tuple(chosen))
        seen = sku.get("stock_seen")
        if seen is not None:
            seen = parse_int(seen)
            if seen is None:
                errors[f"skus[{i}].stock"] = [_("The form's stock figure is invalid; reload the page.")]
        picture = _UNCHANGED
        if "image_id" in sku:
            # the SKU's own picture: one of this product's images, or None for none
            picture = None
            if sku["image_id"] not in (None, ""):
                image_id = parse_id(sku["image_id"])
                picture = (partial_product.images.filter(pk=image_id).first()
                           if image_id and partial_product is not None else None)
                if picture is None:
                    errors[f"skus[{i}].image_id"] = [_("Choose one of this product's images.")]
        measures = {key: measure(sku[key], f"skus[{i}].{key}", errors, places=places)
                    for key, places in (("weight", 3), ("volume", 6)) if key in sku}
        clean_skus.append({
            "code": code, "price": price, "stock": stock, "options": list(chosen),
            "is_active": bool(sku.get("is_active", True)), "stock_seen": seen, "image": picture, **measures,
        })
    taken = Sku.objects.filter(code__in=codes)
    if partial_product is not None:
        taken = taken.exclude(product=partial_product)
    for code in taken.values_list("code", flat=True):
        i = next(n for n, s in enumerate(clean_skus) if s["code"] == code)
        errors[f"skus[{i}].code"] = [_("The SKU code %(code)s is already used.") % {"code": code}]
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned["attributes"] = clean_attrs
    cleaned["skus"] = clean_skus
    return cleaned


# --- kept counts of visible products per category and shop (issue 12) -----------------------
# A listing shows its exact count ("Page 3 of 348"); counting a category's visible products
# costs one index probe per product, the whole catalogue's for the API's unfiltered list. The
# counts are kept in CategoryCount instead and read by queries.visible_count. Every write that
# can change what a product counts for (publish/unpublish, a SKU switched on or off, a product
# created, moved to another category, imported or deleted) recomputes the rows of the
# categories it touched, inside its own transaction: never an increment, so nothing drifts,
# and a listing read right after the write shows the new count. A shop's status is applied
# when the counts are read, so suspending or reopening a shop needs no recount. Writes that
# bypass these services (raw SQL, a database restore) are caught by rebuild_category_counts,
# run periodically and by `manage.py rebuild_category_counts`.


def recount_categories(category_ids) -> None:
    """Recompute the kept counts of `category_ids` from the visibility rule
    (queries.listed_products). The categories' rows are locked first, in id order
    (FOR NO KEY UPDATE: a product row's foreign key only takes KEY SHARE on its category, so
    writers of products are not blocked), and the count is read by the statement after the
    lock: two writers recounting one category run one after the other on PostgreSQL, and the
    second counts with the first's products committed, so the last write is always the true
    count (SQLite serialises writers anyway)."""
    from .queries import listed_products

    ids = sorted({int(i) for i in category_ids if i})
    if not ids:
        return
    with transaction.atomic():
        list(Category.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
             .values_list("pk", flat=True))
        rows = (listed_products().filter(category_id__in=ids).order_by()
                .values_list("category_id", "shop_id").annotate(n=Count("pk")))
        fresh = [CategoryCount(category_id=c, shop_id=s, products=n) for c, s, n in rows]
        CategoryCount.objects.filter(category_id__in=ids).delete()
        CategoryCount.objects.bulk_create(fresh)


REBUILD_EVERY_SECONDS = 3600


def rebuild_category_counts_periodically(now=None) -> int:
    """The periodic job (every minute): rebuild_category_counts at most once an hour, since
    a rebuild counts the whole catalogue."""
    from django.core.cache import cache

    if not cache.add("catalog:category-counts-rebuilt", 1, REBUILD_EVERY_SECONDS):
        return 0
    return rebuild_category_counts()


def rebuild_category_counts() -> int:
    """Recompute every category's kept count (hourly, and `manage.py
    rebuild_category_counts`): repairs counts a write outside the catalogue's services left
    behind. Returns how many categories' counts it corrected."""
    before = set(CategoryCount.objects.values_list("category_id", "shop_id", "products"))
    ids = list(Category.objects.values_list("pk", flat=True))
    recount_categories(ids)
    after = set(CategoryCount.objects.values_list("category_id", "shop_id", "products"))
    return len({c for c, _s, _n in before ^ after})


def _recount_if_listed(product) -> None:
    """Recount `product`'s category when it is published: a draft is counted nowhere,
    whatever its SKUs do."""
    if product.status == Product.Status.PUBLISHED:
        recount_categories([product.category_id])


def _own_product(shop, product_id, *, lock=True) -> Product:
    product_id = parse_id(product_id)
    qs = Product.objects.filter(shop=shop, pk=product_id)
    if lock:
        qs = qs.select_for_update()
    product = qs.first() if product_id else None
    if product is None:
        raise NotFound(_("Product not found."))
    return product


def _write_attributes_and_skus(product, cleaned, actor):
    # attributes: keep rows whose name survives, so SKU option links stay stable
    option_ids = {}
    keep_attr_ids = []
    for pos, attr in enumerate(cleaned["attributes"]):
        row, _c = ProductAttribute.objects.update_or_create(
            product=product, name=attr["name"], defaults={"name_en": attr["name_en"], "position": pos}
        )
        keep_attr_ids.append(row.pk)
        keep_opt_ids = []
        for opos, (value, value_en) in enumerate(attr["options"]):
            opt, _c = AttributeOption.objects.update_or_create(
                attribute=row, value=value, defaults={"value_en": value_en, "position": opos}
            )
            option_ids[(attr["name"], value)] = opt
            keep_opt_ids.append(opt.pk)
        row.options.exclude(pk__in=keep_opt_ids).delete()
    product.attributes.exclude(pk__in=keep_attr_ids).delete()

    existing = {s.code: s for s in product.skus.all()}
    seen = set()
    for index, data in enumerate(cleaned["skus"]):
        opts = [option_ids[(a["name"], v)] for a, v in zip(cleaned["attributes"], data["options"], strict=True)]
        name = " / ".join(o.value for o in opts)
        name_en = " / ".join(o.value_en or o.value for o in opts)
        sku = existing.get(data["code"])
        if sku is None:
            sku = Sku.objects.create(product=product, code=data["code"], price=data["price"], name=name,
                                     name_en=name_en, is_active=data["is_active"])
        else:
            sku.price, sku.name, sku.name_en, sku.is_active = data["price"], name, name_en, data["is_active"]
            sku.save(update_fields=["price", "name", "name_en", "is_active"])
        sku.options.set(opts)
        measures = [key for key in ("weight", "volume") if key in data and getattr(sku, key) != data[key]]
        if measures:  # what weight- and volume-based freight templates count (absent: unchanged)
            for key in measures:
                setattr(sku, key, data[key])
            sku.save(update_fields=measures)
        if data.get("image", _UNCHANGED) is not _UNCHANGED and sku.image_id != getattr(data["image"], "pk", None):
            sku.image = data["image"]
            sku.save(update_fields=["image"])
        if data["stock_seen"] is not None and sku.code in existing:
            # the editor saw `stock_seen`: apply only the change the seller made
            inventory.adjust_stock(sku=sku, delta=data["stock"] - data["stock_seen"], actor=actor,
                                   field=f"skus[{index}].stock")
        else:
            inventory.set_stock(sku=sku, quantity=data["stock"], actor=actor)
        seen.add(sku.code)
    # SKUs dropped from the form are deactivated, not deleted: orders refer to them
    product.skus.exclude(code__in=seen).update(is_active=False)
    refresh_price_range(product)


def plan_sku_matrix(attributes) -> list[tuple]:
    """The SKU matrix's combinations, in order: every option of each
    attribute crossed with the others. `attributes`: [{"name", "options":
    [value, ...]}]. The limits (attributes, options each, combinations)
    live here for the console and the API alike; ValidationFailed names the
    field at fault."""
    errors = {}
    if not isinstance(attributes, list | tuple) or len(attributes) > MAX_MATRIX_ATTRIBUTES:
        raise ValidationFailed(fields={"attributes": [
            _("Give at most %(n)s attributes.") % {"n": MAX_MATRIX_ATTRIBUTES}]})
    lists = []
    for i, attr in enumerate(attributes):
        name = str((attr or {}).get("name", "") or "").strip()
        values = [str(v.get("value", "") if isinstance(v, dict) else v).strip() for v in (attr or {}).get("options") or []]
        if not name:
            errors[f"attributes[{i}].name"] = [_("Give the attribute a name (at most 50 characters).")]
        if not values or not all(values):
            errors[f"attributes[{i}].options"] = [_("Give between 1 and %(n)s options.") % {"n": MAX_MATRIX_OPTIONS}]
        elif len(values) > MAX_MATRIX_OPTIONS:
            errors[f"attributes[{i}].options"] = [
                _("Give at most %(n)s options per attribute.") % {"n": MAX_MATRIX_OPTIONS}]
        elif len(set(values)) != len(values):
            errors[f"attributes[{i}].options"] = [_("Options must be different from each other.")]
        lists.append(values)
    if errors:
        raise ValidationFailed(fields=errors)
    total = 1
    for values in lists:
        total *= len(values)
    if total > MAX_SKUS:
        raise ValidationFailed(fields={"attributes": [
            _("These attributes make %(n)s combinations; at most %(max)s SKUs are allowed.") % {"n": total, "max": MAX_SKUS}]})
    return list(itertools.product(*lists))


def _sku_combos(product) -> dict:
    """Existing SKUs by their options tuple in the order of `names`; an active
    SKU wins over an inactive twin."""
    by_combo = {}
    skus = product.skus.select_related("stock").prefetch_related("options__attribute").order_by("-is_active", "id")
    for sku in skus:
        by_name = {o.attribute.name: o.value for o in sku.options.all()}
        by_combo.setdefault(frozenset(by_name.items()), sku)
    return by_combo


@transaction.atomic
def sync_sku_matrix(*, actor, shop, product_id, attributes, default_price=None, default_stock=0,
                    price_all=None, stock_all=None) -> Product:
    """Make the product's SKUs the matrix of `attributes`. A SKU already
    standing for a combination keeps its id, code, price and stock; a new
    combination gets `default_price`/`default_stock`; a combination no longer
    there is switched off (never deleted: orders refer to it). `price_all` /
    `stock_all` set every row; stock is applied as a change of what is there
    now, so units sold meanwhile stand."""
    product = _own_product(shop, product_id)
    combos = plan_sku_matrix(attributes)
    errors = {}
    default_stock = parse_int(default_stock if default_stock is not None else 0, max_value=inventory.MAX_STOCK)
    if default_stock is None:
        errors["default_stock"] = [_("Stock must be a whole number from 0 to %(max)s.") % {"max": inventory.MAX_STOCK}]
    if stock_all is not None:
        stock_all = parse_int(stock_all, max_value=inventory.MAX_STOCK)
        if stock_all is None:
            errors["stock_all"] = [_("Stock must be a whole number from 0 to %(max)s.") % {"max": inventory.MAX_STOCK}]
    if price_all is not None:
        price_all = parse_price(price_all, "price_all", errors, currency=product.currency)
    existing = _sku_combos(product)
    names = [str(a.get("name", "")).strip() for a in attributes]
    missing = [c for c in combos if frozenset(zip(names, c, strict=True)) not in existing]
    if missing and price_all is None and "price_all" not in errors:
        if default_price in (None, ""):
            errors["default_price"] = [_("Give a price for the new combinations.")]
        else:
            default_price = parse_price(default_price, "default_price", errors, currency=product.currency)
    if errors:
        raise ValidationFailed(fields=errors)
    used = set(Sku.objects.filter(code__startswith=f"P{product.pk}-").values_list("code", flat=True))
    counter = itertools.count(1)
    skus = []
    for combo in combos:
        sku = existing.get(frozenset(zip(names, combo, strict=True)))
        if sku is not None:
            current = sku.stock.quantity if hasattr(sku, "stock") else 0
            skus.append({"code": sku.code, "price": price_all if price_all is not None else sku.price,
                         "stock": stock_all if stock_all is not None else current, "stock_seen": current,
                         "options": list(combo)})
            continue
        code = f"P{product.pk}-{next(counter)}"
        while code in used:
            code = f"P{product.pk}-{next(counter)}"
        used.add(code)
        skus.append({"code": code, "price": price_all if price_all is not None else default_price,
                     "stock": stock_all if stock_all is not None else default_stock, "options": list(combo)})
    data = {
        "title": product.title, "title_en": product.title_en, "description": product.description,
        "description_en": product.description_en, "category_id": product.category_id,
        "brand_id": product.brand_id, "attributes": list(attributes), "skus": skus,
    }
    cleaned = _clean(data, currency=product.currency, partial_product=product)
    _write_attributes_and_skus(product, cleaned, actor)
    _recount_if_listed(product)  # combinations no longer there switch their SKUs off
    emit("product.updated", product_id=product.pk, shop_id=shop.pk)
    return product


def refresh_price_range(product):
    agg = product.skus.filter(is_active=True).aggregate(lo=Min("price"), hi=Max("price"))
    product.min_price = agg["lo"] or Decimal("0")
    product.max_price = agg["hi"] or Decimal("0")
    product.save(update_fields=["min_price", "max_price", "updated_at"])


@transaction.atomic
def create_product(*, actor, shop, data: dict) -> Product:
    cleaned = _clean(data, currency=shop.currency)
    product = Product.objects.create(
        shop=shop, category=cleaned["category"], brand=cleaned["brand"], title=cleaned["title"],
        title_en=cleaned["title_en"], description=cleaned["description"],
        description_en=cleaned["description_en"], currency=shop.currency,
        seo_title=cleaned["seo_title"], seo_description=cleaned["seo_description"],
        slug=slugify_text(cleaned["title"]),
    )
    _write_attributes_and_skus(product, cleaned, actor)
    if data.get("publish"):
        _publish(product)
    _recount_if_listed(product)
    emit("product.created", product_id=product.pk, shop_id=shop.pk)
    return product


@transaction.atomic
def update_product(*, actor, shop, product_id, data: dict) -> Product:
    product = _own_product(shop, product_id)
    cleaned = _clean(data, currency=product.currency, partial_product=product)
    left = product.category_id
    for field in ("title", "title_en", "description", "description_en", "category", "brand",
                  "seo_title", "seo_description"):
        setattr(product, field, cleaned[field])
    product.slug = slugify_text(product.title)  # a stale /p/<id>-<old>/ link redirects by id
    product.save()
    _write_attributes_and_skus(product, cleaned, actor)  # SKUs switched on or off
    if product.status == Product.Status.PUBLISHED:
        recount_categories({left, product.category_id})
    emit("product.updated", product_id=product.pk, shop_id=shop.pk)
    return product


def _publish(product):
    if not product.skus.filter(is_active=True).exists():
        raise ValidationFailed(fields={"status": [_("Add an active SKU before publishing.")]})
    product.status = Product.Status.PUBLISHED
    product.published_at = product.published_at or timezone.now()
    product.save(update_fields=["status", "published_at", "updated_at"])


@transaction.atomic
def set_published(*, actor, shop, product_id, published: bool) -> Product:
    product = _own_product(shop, product_id)
    was = product.status
    if published:
        _publish(product)
    else:
        product.status = Product.Status.DRAFT
        product.save(update_fields=["status", "updated_at"])
    if product.status != was:
        recount_categories([product.category_id])
    emit("product.published" if published else "product.unpublished", product_id=product.pk, shop_id=shop.pk,
         status=product.status)
    return product


def add_image(*, actor, shop, product_id, upload) -> ProductImage:
    """The upload is decoded in full before anything is stored; files written
    by a call whose transaction then fails are deleted again, so nothing is
    left in storage without its row."""
    written = []
    try:
        with transaction.atomic():
            product = _own_product(shop, product_id)
            if product.images.count() >= MAX_IMAGES:
                raise ValidationFailed(fields={"image": [_("A product has at most %(n)s images.") % {"n": MAX_IMAGES}]})
            data, ext = images.check_upload(upload)
            image = attach_image_bytes(product=product, data=data, ext=ext, written=written)
            emit("product.updated", product_id=product.pk, shop_id=shop.pk)
    except BaseException:
        delete_written(written)
        raise
    return image


def attach_image_bytes(*, product, data: bytes, ext: str, written=None) -> ProductImage:
    """Store an already checked image and its thumbnail. The thumbnail is made
    before any file is written; files written before a failure are deleted
    (and appended to `written`, so a caller whose transaction fails later can
    delete them too)."""
    written = [] if written is None else written
    thumbnail = images.make_thumbnail(data)
    position = (product.images.aggregate(m=Max("position"))["m"] or 0) + 1
    image = ProductImage(product=product, position=position)
    try:
        image.image.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
        written.append(image.image)
        image.thumbnail.save(f"{uuid.uuid4().hex}.jpg", thumbnail, save=False)
        written.append(image.thumbnail)
        image.save()
    except BaseException:
        delete_written(written)
        written.clear()
        raise
    return image


@transaction.atomic
def delete_image(*, actor, shop, product_id, image_id) -> None:
    product = _own_product(shop, product_id)
    image_id = parse_id(image_id)
    image = product.images.filter(pk=image_id).first() if image_id else None
    if image is None:
        raise NotFound(_("Image not found."))
    image.delete()
    emit("product.updated", product_id=product.pk, shop_id=shop.pk)


def _images_in_order(product) -> list:
    """The product's images, cover first: the order of catalog.models.IMAGE_ORDER."""
    return list(product.images.order_by(*IMAGE_ORDER))


def _write_image_order(product, ordered) -> None:
    for pos, image in enumerate(ordered):
        if image.position != pos:
            image.position = pos
            image.save(update_fields=["position"])


@transaction.atomic
def reorder_images(*, actor, shop, product_id, image_ids) -> list:
    """Put the product's images in the given order; the first becomes the
    cover. The list must name every image of the product once: an id of
    another product is a 404 and a missing or repeated one a 422, with
    nothing written."""
    product = _own_product(shop, product_id)
    current = {image.pk: image for image in _images_in_order(product)}
    if not isinstance(image_ids, list | tuple):
        raise ValidationFailed(fields={"image_ids": [_("Give the list of image ids.")]})
    ids = [parse_id(value) for value in image_ids]
    if any(i is None or i not in current for i in ids):
        raise NotFound(_("Image not found."))
    if len(set(ids)) != len(ids) or set(ids) != set(current):
        raise ValidationFailed(fields={"image_ids": [_("List every image of the product exactly once.")]})
    ordered = [current[i] for i in ids]
    _write_image_order(product, ordered)
    emit("product.updated", product_id=product.pk, shop_id=shop.pk)
    return ordered


@transaction.atomic
def move_image(*, actor, shop, product_id, image_id, direction: str) -> list:
    """One step of reordering, for the console's arrows (no JavaScript
    needed): "up", "down", or "cover" (to the front)."""
    product = _own_product(shop, product_id)
    ordered = _images_in_order(product)
    image_id = parse_id(image_id)
    index = next((n for n, image in enumerate(ordered) if image.pk == image_id), None)
    if index is None:
        raise NotFound(_("Image not found."))
    if direction not in ("up", "down", "cover"):
        raise ValidationFailed(fields={"direction": [_("Choose up, down or cover.")]})
    image = ordered.pop(index)
    if direction == "cover":
        target = 0
    elif direction == "up":
        target = max(index - 1, 0)
    else:
        target = min(index + 1, len(ordered))
    ordered.insert(target, image)
    _write_image_order(product, ordered)
    emit("product.updated", product_id=product.pk, shop_id=shop.pk)
    return ordered


@transaction.atomic
def set_sku_image(*, actor, shop, product_id, sku_id, image_id) -> Sku:
    """Show one of the product's images when a shopper picks this SKU
    (`image_id` None: no picture of its own). Another product's image or SKU
    is a 404, as for every seller write."""
    product = _own_product(shop, product_id)
    sku_id = parse_id(sku_id)
    sku = product.skus.filter(pk=sku_id).first() if sku_id else None
    if sku is None:
        raise NotFound(_("SKU not found."))
    image = None
    if image_id is not None:
        image_id = parse_id(image_id)
        image = product.images.filter(pk=image_id).first() if image_id else None
        if image is None:
            raise NotFound(_("Image not found."))
    sku.image = image
    sku.save(update_fields=["image"])
    emit("product.updated", product_id=product.pk, shop_id=shop.pk)
    return sku


def _visible_product(product_id) -> Product:
    from .queries import visible_products

    product_id = parse_id(product_id)
    product = visible_products().filter(pk=product_id).first() if product_id else None
    if product is None:
        raise NotFound(_("Product not found."))
    return product


@transaction.atomic
def add_favourite(*, actor, product_id) -> Favourite:
    product = _visible_product(product_id)
    fav, created = Favourite.objects.get_or_create(user=actor, product=product)
    if created:  # analytics records it as behaviour (recommendations learn from it)
        emit("favourite.added", user_id=actor.pk, product_id=product.pk)
    return fav


def remove_favourite(*, actor, product_id) -> None:
    product_id = parse_id(product_id)
    if product_id is not None:
        Favourite.objects.filter(user=actor, product_id=product_id).delete()


def record_sales(*, quantities: dict) -> None:
    """Count units sold per product (the storefront's "sales" sort); called when an order is paid."""
    from django.db.models import F

    for product_id, qty in quantities.items():
        Product.objects.filter(pk=product_id).update(sales_count=F("sales_count") + qty)


def set_freight_template(*, actor, shop, product_ids, template_id) -> int:
    """Point the shop's products `product_ids` at a freight template (None: the shop's flat
    fee). shipping.services.assign_template checks the template is the shop's; an id that
    is not one of the shop's products is refused and nothing changes."""
    ids = sorted(set(product_ids))
    with transaction.atomic():
        found = set(Product.objects.select_for_update().filter(shop=shop, pk__in=ids).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise ValidationFailed(fields={"product_ids": [
                _("Not a product of your shop: %(ids)s.") % {"ids": ", ".join(str(m) for m in missing[:10])}]})
        count = Product.objects.filter(shop=shop, pk__in=ids).update(freight_template_id=template_id,
                                                                      updated_at=timezone.now())
        if ids:
            emit("product_freight_template.set", shop_id=shop.pk, product_ids=ids, template_id=template_id,
                 actor_id=getattr(actor, "pk", None))
    return count
