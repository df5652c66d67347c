"""Catalogue over HTTP: public browsing, favourites, and the seller's products."""

import json
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Literal

from django.db.models import Prefetch, Sum
from django.http import HttpResponsePermanentRedirect
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.responses import NinjaJSONEncoder
from pydantic import field_validator

from shopyard.core.api_support import Id, PageMeta, ascii_digits_only, bearer, paginate, responses
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.http_cache import etag_of, public_json
from shopyard.core.money import money_str
from shopyard.core.replicas import catalogue_view
from shopyard.shops.queries import shop_for_seller

from . import api_cache, queries, services
from .models import IMAGE_ORDER, Category, Product, ProductImage, Sku

router = Router(tags=["catalog"])
seller_router = Router(tags=["seller"])


class CategoryOut(Schema):
    id: int
    name: str
    name_en: str
    slug: str
    parent_id: int | None
    children: list["CategoryOut"] = []


class ShopRef(Schema):
    id: int
    name: str
    name_en: str
    slug: str


class ImageOut(Schema):
    id: int
    url: str
    thumbnail_url: str | None


class ProductCard(Schema):
    id: int
    title: str
    title_en: str
    shop: ShopRef
    category_id: int
    currency: str
    min_price: str
    max_price: str
    sales_count: int
    cover: ImageOut | None
    created_at: datetime


class OptionOut(Schema):
    attribute: str
    attribute_en: str
    value: str
    value_en: str


class SkuOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    price: str
    stock: int
    in_stock: bool
    options: list[OptionOut]


class AttributeOut(Schema):
    name: str
    name_en: str
    options: list[str]
    options_en: list[str]


class ProductOut(ProductCard):
    description: str
    description_en: str
    slug: str
    seo_title: str
    seo_description: str
    status: str
    images: list[ImageOut]
    attributes: list[AttributeOut]
    skus: list[SkuOut]


class ProductPage(Schema):
    meta: PageMeta
    results: list[ProductCard]


class ProductFilters(Schema):
    category: int | None = Field(None, ge=1, le=2**53, description="category id; includes its children")
    shop: int | None = Field(None, ge=1, le=2**53)
    q: str | None = Field(None, max_length=100, description="deprecated: words are searched by GET /search, "
                          "where a request with q is redirected (308)")
    sort: Literal["newest", "price_asc", "price_desc", "sales"] = "newest"
    min_price: Decimal | None = Field(None, ge=0, le=100000000, max_digits=12, decimal_places=2)
    max_price: Decimal | None = Field(None, ge=0, le=100000000, max_digits=12, decimal_places=2)
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(24, ge=1, le=100)

    _ascii_prices = field_validator("min_price", "max_price", mode="before")(ascii_digits_only)


def _image(img) -> dict:
    return {"id": img.pk, "url": img.image.url, "thumbnail_url": img.thumbnail.url if img.thumbnail else None}


def card(p: Product) -> dict:
    imgs = getattr(p, "image_list", None)
    if imgs is None:
        imgs = list(p.images.all()[:1])
    return {
        "id": p.pk, "title": p.title, "title_en": p.title_en, "category_id": p.category_id, "currency": p.currency,
        "shop": {"id": p.shop_id, "name": p.shop.name, "name_en": p.shop.name_en, "slug": p.shop.slug},
        "min_price": money_str(p.min_price, p.currency), "max_price": money_str(p.max_price, p.currency),
        "sales_count": p.sales_count, "cover": _image(imgs[0]) if imgs else None, "created_at": p.created_at,
    }


def _listed(obj, name: str, related):
    """`obj.<name>` as a loader set it (queries.product_rows), else the related rows."""
    rows = getattr(obj, name, None)
    return rows if rows is not None else related.all()


def detail(p: Product) -> dict:
    skus = getattr(p, "sku_list", None) or list(p.skus.filter(is_active=True).select_related("stock").prefetch_related("options__attribute"))
    attrs = list(_listed(p, "attribute_list", p.attributes))
    attr_by_id = {a.pk: a for a in attrs}
    sku_rows = []
    for s in skus:
        stock = queries.sku_stock(s)
        opts = []
        for o in _listed(s, "option_list", s.options):
            a = attr_by_id.get(o.attribute_id)
            opts.append({"attribute": a.name if a else "", "attribute_en": a.name_en if a else "", "value": o.value, "value_en": o.value_en})
        sku_rows.append({"id": s.pk, "code": s.code, "name": s.name, "name_en": s.name_en, "price": money_str(s.price, p.currency),
                         "stock": stock, "in_stock": stock > 0, "options": opts})
    return {
        **card(p), "description": p.description, "description_en": p.description_en, "status": p.status,
        "slug": p.slug, "seo_title": p.seo_title, "seo_description": p.seo_description,
        "images": [_image(i) for i in getattr(p, "image_list", p.images.all())],
        "attributes": [{"name": a.name, "name_en": a.name_en,
                        "options": [o.value for o in _listed(a, "option_list", a.options)],
                        "options_en": [o.value_en for o in _listed(a, "option_list", a.options)]} for a in attrs],
        "skus": sku_rows,
    }


@router.get("/categories", response=responses({200: list[CategoryOut]}), auth=None)
@catalogue_view
def categories(request):
    """The category tree (two levels)."""
    return Status(200, [
        {**{k: getattr(c, k) for k in ("id", "name", "name_en", "slug", "parent_id")},
         "children": [{**{k: getattr(ch, k) for k in ("id", "name", "name_en", "slug", "parent_id")}, "children": []} for ch in c.child_list]}
        for c in queries.category_tree()
    ])


SEARCH_PARAMS = ("q", "category", "shop", "sort", "page", "page_size")


def _to_search(request, filters):
    """`q` here was a second, naive search (title contains the text): words now have one
    home, GET /search (segmentation, pinyin, synonyms, typos, facets). A request with
    words is sent there with a 308, its other parameters kept; the search has price
    ranges, not a min/max, so those with words are refused rather than dropped."""
    from django.urls import reverse
    from django.utils.http import urlencode

    if filters.min_price is not None or filters.max_price is not None:
        message = _("Searching words has price ranges (GET /search, price), not a minimum and maximum.")
        raise ValidationFailed(fields={"min_price" if filters.min_price is not None else "max_price": [message]})
    params = {k: request.GET[k] for k in SEARCH_PARAMS if k in request.GET}
    response = HttpResponsePermanentRedirect(reverse("api:search") + "?" + urlencode(params))
    response.status_code = 308  # permanent, and the method and query kept
    response["Deprecation"] = "true"
    response["Link"] = '</api/v1/search>; rel="successor-version"'
    return response


CONDITIONAL_DOC = (
    "\n\nAnonymous callers get an `ETag` and `Cache-Control: public, max-age=10`: send the tag back in "
    "`If-None-Match` to get a bodiless 304 while nothing in the body changed (any change of price, stock, "
    "text, images or visibility changes the tag). A caller sending `Authorization` or a session cookie "
    "gets `Cache-Control: private, no-cache` and no tag. Errors carry neither.")
CONDITIONAL_HEADERS = {"ETag": {"schema": {"type": "string"}, "description": "anonymous callers only"},
                       "Cache-Control": {"schema": {"type": "string"}}}
NOT_MODIFIED = {"description": "Not Modified: the `If-None-Match` tag is the current one (anonymous callers only)",
                "headers": CONDITIONAL_HEADERS}


def _kept_json(cache_key, build):
    """The body `build()` returns (None: nothing to keep), as JSON bytes with their
    ETag, kept per catalogue version (catalog.api_cache)."""
    def render():
        data = build()
        # the body is built to the documented schema (tests check it), so it is written the way
        # ninja's renderer writes it without being validated once more
        if data is None:
            return None
        body = json.dumps(data, cls=NinjaJSONEncoder).encode()
        return body, etag_of(body)

    return api_cache.kept(cache_key, render)


@router.get("/products", response=responses({200: ProductPage}), auth=None,
            openapi_extra={"responses": {
                200: {"headers": CONDITIONAL_HEADERS},
                "304": NOT_MODIFIED,
                "308": {
                "description": "a request with `q`: redirected to GET /search (deprecated here)",
                "headers": {"Location": {"schema": {"type": "string"}}}}}},
            description="Published products, filtered and sorted; `page_size` is capped at 100. With `q` "
                        "(deprecated) the request is redirected (308) to GET /search. `meta.count` and the "
                        "sales order may lag sales by up to 30 seconds." + CONDITIONAL_DOC)
@catalogue_view
def list_products(request, filters: Query[ProductFilters]):
    if filters.q and filters.q.strip():
        return _to_search(request, filters)
    scope = (filters.category, filters.shop, filters.min_price, filters.max_price)  # what the count depends on

    def build():
        category = None
        if filters.category:
            category = Category.objects.filter(pk=filters.category).first()
            if category is None:
                raise NotFound(fields={"category": [_("Unknown category.")]})
            category.child_ids = list(Category.objects.filter(parent=category).values_list("pk", flat=True))
        qs = queries.with_cover(queries.published_products(
            category=category, shop_id=filters.shop, sort=filters.sort,
            min_price=filters.min_price, max_price=filters.max_price,
        ))
        counted = qs.count
        if filters.min_price is None and filters.max_price is None:
            # the kept per-category, per-shop counts: the whole catalogue's or a category's count
            # without probing every product (a price range is counted by its query)
            ids = None if category is None else [category.pk, *category.child_ids]
            counted = partial(queries.visible_count, category_ids=ids, shop_id=filters.shop)
        count = partial(api_cache.kept, api_cache.key("count", *scope), counted)
        items, meta = paginate(qs, filters.page, filters.page_size, count=count)
        return {"meta": meta, "results": [card(p) for p in items]}

    body, etag = _kept_json(api_cache.key("list", *scope, filters.sort, filters.page, filters.page_size), build)
    return public_json(request, body, etag=etag)


@router.get("/products/{product_id}", response=responses({200: ProductOut}), auth=None,
            openapi_extra={"responses": {200: {"headers": CONDITIONAL_HEADERS},
                                         "304": NOT_MODIFIED}},
            description="A published product with its SKUs, each with price and stock." + CONDITIONAL_DOC)
@catalogue_view
def get_product(request, product_id: Id):
    from django.http import Http404

    def build():
        try:
            return detail(queries.product_rows(product_id))
        except Http404:
            return None  # not kept: an error is never cached

    kept = _kept_json(api_cache.key("product", product_id, queries.live_state(product_id)), build)
    if kept is None:
        raise NotFound()
    body, etag = kept
    return public_json(request, body, etag=etag)


@router.get("/favourites", response=responses({200: list[ProductCard]}), auth=bearer)
def list_favourites(request):
    ids = list(queries.visible_favourite_ids(request.auth)[:200])
    products = {p.pk: p for p in queries.with_cover(queries.visible_products().filter(pk__in=ids))}
    return Status(200, [card(products[i]) for i in ids if i in products])


@router.put("/favourites/{product_id}", response=responses({204: None}), auth=bearer)
def add_favourite(request, product_id: Id):
    services.add_favourite(actor=request.auth, product_id=product_id)
    return Status(204, None)


@router.delete("/favourites/{product_id}", response=responses({204: None}), auth=bearer)
def remove_favourite(request, product_id: Id):
    services.remove_favourite(actor=request.auth, product_id=product_id)
    return Status(204, None)


# --- seller ------------------------------------------------------------------

class OptionIn(Schema):
    value: str = Field(..., min_length=1, max_length=50)
    value_en: str = Field("", max_length=50)


class AttributeIn(Schema):
    name: str = Field(..., min_length=1, max_length=50)
    name_en: str = Field("", max_length=50)
    options: list[OptionIn] = Field(..., min_length=1, max_length=50)


class SkuIn(Schema):
    code: str = Field(..., min_length=1, max_length=64)
    price: Decimal = Field(..., gt=0, le=100000000, max_digits=12, decimal_places=2,
                           description="at least the currency's smallest unit, with no more decimals than it has")
    stock: int = Field(0, ge=0, le=10_000_000, strict=True)
    options: list[str] = Field([], max_length=5)
    is_active: bool = True
    weight: Decimal | None = Field(None, description="kg, up to 3 decimals: what weight-based freight templates count")
    volume: Decimal | None = Field(None, description="m³, up to 6 decimals: what volume-based freight templates count")

    _ascii_price = field_validator("price", "weight", "volume", mode="before")(ascii_digits_only)


class ProductIn(Schema):
    """Only these fields are writable; status, prices of the product, sales and shop are not."""

    category_id: int = Field(..., ge=1, le=2**53)
    brand_id: int | None = Field(None, ge=1, le=2**53)
    title: str = Field(..., min_length=1, max_length=200)
    title_en: str = Field("", max_length=200)
    description: str = Field("", max_length=20000)
    description_en: str = Field("", max_length=20000)
    seo_title: str = Field("", max_length=120)
    seo_description: str = Field("", max_length=300)
    attributes: list[AttributeIn] = Field([], max_length=5)
    skus: list[SkuIn] = Field(..., min_length=1, max_length=200)


class SellerProductCard(ProductCard):
    status: str
    stock: int


class SellerProductPage(Schema):
    meta: PageMeta
    results: list[SellerProductCard]


class SellerFilters(Schema):
    status: Literal["draft", "published"] | None = None
    q: str | None = Field(None, max_length=100)
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(24, ge=1, le=100)


def _seller_product(shop, product_id):
    product = (
        Product.objects.filter(shop=shop, pk=product_id).select_related("shop")
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by(*IMAGE_ORDER), to_attr="image_list"),
            Prefetch("skus", queryset=Sku.objects.filter(is_active=True).select_related("stock").prefetch_related("options"), to_attr="sku_list"),
            "attributes__options",
        ).first()
    )
    if product is None:
        raise NotFound()
    return product


def _payload_dict(payload: ProductIn) -> dict:
    return payload.dict()  # prices stay Decimal: catalog.services.parse_price applies the price rule


@seller_router.get("/products", response=responses({200: SellerProductPage}), auth=bearer)
def seller_products(request, filters: Query[SellerFilters]):
    """The caller's shop's products (drafts included)."""
    shop = shop_for_seller(request.auth, perm="catalog")
    qs = Product.objects.filter(shop=shop).annotate(stock_total=Sum("skus__stock__quantity"))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    items, meta = paginate(queries.with_cover(qs.order_by("-id")), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [{**card(p), "status": p.status, "stock": p.stock_total or 0} for p in items]})


@seller_router.post("/products", response=responses({201: ProductOut}), auth=bearer)
def seller_create_product(request, payload: ProductIn):
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    product = services.create_product(actor=request.auth, shop=shop, data=_payload_dict(payload))
    return Status(201, detail(_seller_product(shop, product.pk)))


@seller_router.get("/products/{product_id}", response=responses({200: ProductOut}), auth=bearer)
def seller_get_product(request, product_id: Id):
    shop = shop_for_seller(request.auth, perm="catalog")
    return Status(200, detail(_seller_product(shop, product_id)))


@seller_router.put("/products/{product_id}", response=responses({200: ProductOut}), auth=bearer)
def seller_update_product(request, product_id: Id, payload: ProductIn):
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.update_product(actor=request.auth, shop=shop, product_id=product_id, data=_payload_dict(payload))
    return Status(200, detail(_seller_product(shop, product_id)))


@seller_router.post("/products/{product_id}/publish", response=responses({200: ProductOut}), auth=bearer)
def seller_publish(request, product_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.set_published(actor=request.auth, shop=shop, product_id=product_id, published=True)
    return Status(200, detail(_seller_product(shop, product_id)))


@seller_router.post("/products/{product_id}/unpublish", response=responses({200: ProductOut}), auth=bearer)
def seller_unpublish(request, product_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.set_published(actor=request.auth, shop=shop, product_id=product_id, published=False)
    return Status(200, detail(_seller_product(shop, product_id)))


@seller_router.post("/products/{product_id}/images", response=responses({201: ImageOut}), auth=bearer)
def seller_add_image(request, product_id: Id, image: File[UploadedFile]):
    """Upload one JPEG/PNG/WebP/GIF image (checked by decoding it); a thumbnail is generated."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    img = services.add_image(actor=request.auth, shop=shop, product_id=product_id, upload=image)
    return Status(201, _image(img))


class SkuImageIn(Schema):
    image_id: Id | None = Field(None, description="one of the product's images; null: none")


@seller_router.put("/products/{product_id}/skus/{sku_id}/image", response=responses({204: None}), auth=bearer)
def seller_set_sku_image(request, product_id: Id, sku_id: Id, payload: SkuImageIn):
    """The image the product page shows when a shopper picks this SKU."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.set_sku_image(actor=request.auth, shop=shop, product_id=product_id, sku_id=sku_id,
                           image_id=payload.image_id)
    return Status(204, None)




class ImageOrderIn(Schema):
    image_ids: list[Id] = Field(..., max_length=100, description="every image of the product once; the first is the cover")


@seller_router.put("/products/{product_id}/images/order", response=responses({200: list[ImageOut]}), auth=bearer)
def seller_order_images(request, product_id: Id, payload: ImageOrderIn):
    """Reorder the product's images; the first one becomes the cover."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    ordered = services.reorder_images(actor=request.auth, shop=shop, product_id=product_id,
                                      image_ids=payload.image_ids)
    return Status(200, [_image(i) for i in ordered])


class SkuMatrixIn(Schema):
    """The attributes to cross; each combination becomes a SKU."""

    attributes: list[AttributeIn] = Field(..., max_length=10)
    default_price: str | None = Field(None, max_length=20, description="price of new combinations")
    default_stock: int = Field(0, ge=0, le=10_000_000, strict=True)
    price_all: str | None = Field(None, max_length=20, description="set every SKU's price")
    stock_all: int | None = Field(None, ge=0, le=10_000_000, strict=True)


@seller_router.put("/products/{product_id}/skus/matrix", response=responses({200: ProductOut}), auth=bearer)
def seller_sku_matrix(request, product_id: Id, payload: SkuMatrixIn):
    """Regenerate the SKUs from the attributes: existing combinations keep id, code,
    price and stock; removed ones are switched off (catalog.services.sync_sku_matrix)."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    data = payload.dict()
    services.sync_sku_matrix(actor=request.auth, shop=shop, product_id=product_id, attributes=data["attributes"],
                             default_price=data["default_price"], default_stock=data["default_stock"],
                             price_all=data["price_all"], stock_all=data["stock_all"])
    return Status(200, detail(_seller_product(shop, product_id)))


# after ".../images/order": Django tries URL patterns in order
@seller_router.delete("/products/{product_id}/images/{image_id}", response=responses({204: None}), auth=bearer)
def seller_delete_image(request, product_id: Id, image_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.delete_image(actor=request.auth, shop=shop, product_id=product_id, image_id=image_id)
    return Status(204, None)
