"""Shop decoration over HTTP.

Sellers (/api/v1/seller/shop/...): the profile and logo, the shop's own
categories and their products, decoration images, and the home page's draft
blocks (add, change, hide, delete, reorder), its preview and publishing.
Shoppers (/api/v1/shops/...): a shop's home page as published, and following
shops. Each handler parses, resolves the caller's shop
(shops.queries.shop_for_seller) and calls one decoration service."""

from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status, UploadedFile

from shopyard.catalog.api import ProductCard, card
from shopyard.core.api_support import BodyId, Id, InSchema, bearer, responses
from shopyard.core.errors import NotFound
from shopyard.core.i18n import is_english
from shopyard.promotions.coupon_queries import claimable_templates
from shopyard.promotions.coupon_services import describe_benefit
from shopyard.reviews.api import ShopRatingOut
from shopyard.reviews.queries import shop_summary

from . import decoration as services
from . import decoration_queries as queries
from .models import SERVICE_PROMISES, ShopBlock
from .queries import active_shops, shop_for_seller

router = Router(tags=["shops"])
seller_router = Router(tags=["seller"])


# --- schemas -----------------------------------------------------------------


class ShopProfileOut(Schema):
    shop_id: int
    description: str
    description_en: str
    logo_url: str | None
    promises: list[str]


class ShopProfileIn(InSchema):
    description: str = Field("", max_length=services.MAX_DESCRIPTION)
    description_en: str = Field("", max_length=services.MAX_DESCRIPTION)
    promises: list[Literal[tuple(SERVICE_PROMISES)]] = Field([], max_length=len(SERVICE_PROMISES))  # type: ignore[valid-type]


class ShopCategoryOut(Schema):
    id: int
    name: str
    name_en: str
    parent_id: int | None
    position: int
    product_count: int
    children: list["ShopCategoryOut"] = []


class ShopCategoryIn(InSchema):
    name: str = Field(..., min_length=1, max_length=services.MAX_NAME)
    name_en: str = Field("", max_length=services.MAX_NAME)
    parent_id: BodyId | None = None


class ShopCategoryProductsIn(InSchema):
    product_ids: list[BodyId] = Field(..., max_length=services.MAX_CATEGORY_PRODUCTS)


class ShopImageOut(Schema):
    id: int
    url: str


class ShopBlockOut(Schema):
    id: int
    kind: str
    position: int
    visible: bool
    title: str
    title_en: str
    config: dict[str, Any]


class ShopBlockIn(InSchema):
    kind: Literal["banner", "product_grid", "notice", "coupons"]
    title: str = Field("", max_length=services.MAX_TITLE)
    title_en: str = Field("", max_length=services.MAX_TITLE)
    visible: bool = True
    config: dict[str, Any] = {}


class ShopBlockPatch(InSchema):
    title: str | None = Field(None, max_length=services.MAX_TITLE)
    title_en: str | None = Field(None, max_length=services.MAX_TITLE)
    visible: bool | None = None
    config: dict[str, Any] | None = None


class ShopBlockOrderIn(InSchema):
    block_ids: list[BodyId] = Field(..., max_length=services.MAX_BLOCKS)


class ShopDecorationOut(Schema):
    draft: list[ShopBlockOut]
    published: list[ShopBlockOut]
    published_at: datetime | None
    has_unpublished_changes: bool


class ShopSlideOut(Schema):
    url: str
    link: str
    alt: str


class ShopCouponOut(Schema):
    id: int
    name: str
    benefit: str


class ShopHomeBlockOut(Schema):
    kind: str
    title: str
    slides: list[ShopSlideOut] = []
    products: list[ProductCard] = []
    html: str = ""
    coupons: list[ShopCouponOut] = []


class ShopHomeOut(Schema):
    id: int
    name: str
    name_en: str
    slug: str
    kind: str
    description: str
    logo_url: str | None
    promises: list[str]
    rating: ShopRatingOut  # the reviews API's shape (one schema, one name)
    following: bool
    blocks: list[ShopHomeBlockOut]


class FollowedShopOut(Schema):
    id: int
    name: str
    name_en: str
    slug: str
    logo_url: str | None


# --- serialisers ---------------------------------------------------------------


def _profile_out(shop) -> dict:
    prof = queries.profile(shop)
    return {"shop_id": shop.pk, "description": shop.description, "description_en": prof.description_en,
            "logo_url": prof.logo.url if prof.logo else None, "promises": list(prof.promises)}


def _category_out(c, children=True) -> dict:
    return {"id": c.pk, "name": c.name, "name_en": c.name_en, "parent_id": c.parent_id, "position": c.position,
            "product_count": getattr(c, "product_count", 0),
            "children": [_category_out(ch, False) for ch in getattr(c, "child_list", [])] if children else []}


def _block_out(b) -> dict:
    return {"id": b.pk, "kind": b.kind, "position": b.position, "visible": b.visible, "title": b.title,
            "title_en": b.title_en, "config": b.config}


def _decoration_out(shop) -> dict:
    page = queries.page_state(shop)
    return {"draft": [_block_out(b) for b in queries.blocks(shop, ShopBlock.Version.DRAFT)],
            "published": [_block_out(b) for b in queries.blocks(shop, ShopBlock.Version.PUBLISHED)],
            "published_at": page.published_at, "has_unpublished_changes": page.has_unpublished_changes}


def _coupons(shop, limit) -> list[dict]:
    out = []
    for t in claimable_templates(shop_ids=[shop.pk], platform=False)[:limit]:
        zh, en = describe_benefit(t)
        out.append({"id": t.pk, "name": t.label("en" if is_english() else "zh-hans"), "benefit": en if is_english() else zh})
    return out


def _home_out(shop, user, version) -> dict:
    prof = queries.profile(shop)
    blocks = []
    for h in queries.home_blocks(shop, version=version):
        blocks.append({
            "kind": h.kind, "title": h.title, "slides": h.slides, "products": [card(p) for p in h.products],
            "html": h.html, "coupons": _coupons(shop, h.coupon_limit) if h.kind == ShopBlock.Kind.COUPONS else [],
        })
    return {"id": shop.pk, "name": shop.name, "name_en": shop.name_en, "slug": shop.slug, "kind": shop.kind,
            "description": queries.description(shop, prof), "logo_url": prof.logo.url if prof.logo else None,
            "promises": queries.promise_labels(prof), "rating": shop_summary(shop.pk),
            "following": queries.is_following(user, shop), "blocks": blocks}


# --- seller: profile -------------------------------------------------------------


@seller_router.get("/shop/profile", response=responses({200: ShopProfileOut}), auth=bearer)
def seller_profile(request):
    """The caller's shop profile (description in Chinese and English, logo, service promises)."""
    return Status(200, _profile_out(shop_for_seller(request.auth, perm="shop_settings")))


@seller_router.put("/shop/profile", response=responses({200: ShopProfileOut}), auth=bearer)
def seller_update_profile(request, payload: ShopProfileIn):
    """Replace the descriptions and service promises (keys: returns_7d, ships_48h, genuine, …)."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    services.update_profile(actor=request.auth, shop=shop, description=payload.description,
                            description_en=payload.description_en, promises=list(payload.promises))
    return Status(200, _profile_out(shop))


@seller_router.post("/shop/logo", response=responses({200: ShopProfileOut}), auth=bearer)
def seller_logo(request, image: File[UploadedFile]):
    """Upload the logo: JPEG, PNG, WebP or GIF, at most 2 MB (checked by decoding it)."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    services.set_logo(actor=request.auth, shop=shop, upload=image)
    return Status(200, _profile_out(shop))


@seller_router.post("/shop/images", response=responses({201: ShopImageOut}), auth=bearer)
def seller_add_image(request, image: File[UploadedFile]):
    """Upload a picture for banner slides (its id goes in a banner block's `slides`)."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    img = services.add_image(actor=request.auth, shop=shop, upload=image)
    return Status(201, {"id": img.pk, "url": img.image.url})


# --- seller: categories -------------------------------------------------------------


@seller_router.get("/shop/categories", response=responses({200: list[ShopCategoryOut]}), auth=bearer)
def seller_categories(request):
    """The shop's own category tree (two levels), with product counts."""
    return Status(200, [_category_out(c) for c in queries.category_tree(shop_for_seller(request.auth, perm="catalog"))])


def _one_category(shop, category_id) -> dict:
    for root in queries.category_tree(shop):
        for c in [root, *root.child_list]:
            if c.pk == category_id:
                return _category_out(c, children=c is root)
    raise NotFound(_("Shop category not found."))


@seller_router.post("/shop/categories", response=responses({201: ShopCategoryOut}), auth=bearer)
def seller_create_category(request, payload: ShopCategoryIn):
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    c = services.create_category(actor=request.auth, shop=shop, name=payload.name, name_en=payload.name_en,
                                 parent_id=payload.parent_id)
    return Status(201, _one_category(shop, c.pk))


@seller_router.put("/shop/categories/{category_id}", response=responses({200: ShopCategoryOut}), auth=bearer)
def seller_update_category(request, category_id: Id, payload: ShopCategoryIn):
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.update_category(actor=request.auth, shop=shop, category_id=category_id, name=payload.name,
                             name_en=payload.name_en, parent_id=payload.parent_id)
    return Status(200, _one_category(shop, category_id))


@seller_router.delete("/shop/categories/{category_id}", response=responses({204: None}), auth=bearer)
def seller_delete_category(request, category_id: Id):
    """Delete a category and its subcategories (the products stay)."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.delete_category(actor=request.auth, shop=shop, category_id=category_id)
    return Status(204, None)


@seller_router.put("/shop/categories/{category_id}/products", response=responses({200: ShopCategoryOut}),
                   auth=bearer)
def seller_category_products(request, category_id: Id, payload: ShopCategoryProductsIn):
    """Set the category's products (products of the same shop; another shop's is a 404)."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    services.set_category_products(actor=request.auth, shop=shop, category_id=category_id,
                                   product_ids=payload.product_ids)
    return Status(200, _one_category(shop, category_id))


# --- seller: home-page blocks ----------------------------------------------------------


@seller_router.get("/shop/decoration", response=responses({200: ShopDecorationOut}), auth=bearer)
def seller_decoration(request):
    """The draft the seller edits and the published page shoppers see."""
    return Status(200, _decoration_out(shop_for_seller(request.auth, perm="shop_settings")))


@seller_router.post("/shop/decoration/blocks", response=responses({201: ShopBlockOut}), auth=bearer)
def seller_add_block(request, payload: ShopBlockIn):
    """Add a block at the end of the draft. `config` by kind: banner {slides: [{image_id, link, alt}]};
    product_grid {source: "category", category_id, limit} or {source: "products", product_ids, limit};
    notice {html, html_en} (sanitised); coupons {limit}."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    block = services.add_block(actor=request.auth, shop=shop, kind=payload.kind, config=payload.config,
                               title=payload.title, title_en=payload.title_en, visible=payload.visible)
    return Status(201, _block_out(block))


@seller_router.patch("/shop/decoration/blocks/{block_id}", response=responses({200: ShopBlockOut}), auth=bearer)
def seller_update_block(request, block_id: Id, payload: ShopBlockPatch):
    """Change a draft block: titles, visibility (hide/show) or settings; what is left out stays."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    block = services.update_block(actor=request.auth, shop=shop, block_id=block_id, config=payload.config,
                                  title=payload.title, title_en=payload.title_en, visible=payload.visible)
    return Status(200, _block_out(block))


@seller_router.delete("/shop/decoration/blocks/{block_id}", response=responses({204: None}), auth=bearer)
def seller_delete_block(request, block_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    services.delete_block(actor=request.auth, shop=shop, block_id=block_id)
    return Status(204, None)


@seller_router.put("/shop/decoration/order", response=responses({200: ShopDecorationOut}), auth=bearer)
def seller_order_blocks(request, payload: ShopBlockOrderIn):
    """Reorder the draft: the ids of all its blocks in the new order."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    services.reorder_blocks(actor=request.auth, shop=shop, block_ids=payload.block_ids)
    return Status(200, _decoration_out(shop))


@seller_router.get("/shop/decoration/preview", response=responses({200: ShopHomeOut}), auth=bearer)
def seller_preview(request):
    """The home page as the draft would show it (visible blocks, visible products)."""
    shop = shop_for_seller(request.auth, perm="shop_settings")
    return Status(200, _home_out(shop, request.auth, ShopBlock.Version.DRAFT))


@seller_router.post("/shop/decoration/publish", response=responses({200: ShopDecorationOut}), auth=bearer)
def seller_publish(request):
    """Make the draft the public home page."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    services.publish(actor=request.auth, shop=shop)
    return Status(200, _decoration_out(shop))


# --- shoppers ------------------------------------------------------------------------


def _active_shop(shop_id):
    shop = active_shops().filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(_("Shop not found."))
    return shop


@router.get("/shops/{shop_id}/home", response=responses({200: ShopHomeOut}), auth=None)
def shop_home(request, shop_id: Id):
    """A shop's home page as published: profile, rating summary and the visible blocks
    (product grids hold only products shoppers may buy). A suspended shop is a 404.
    With a bearer token, `following` says whether the caller follows the shop."""
    shop = _active_shop(shop_id)
    user = bearer(request) if request.headers.get("Authorization") else None  # optional: `following` needs it
    return Status(200, _home_out(shop, user, ShopBlock.Version.PUBLISHED))


@router.get("/followed-shops", response=responses({200: list[FollowedShopOut]}), auth=bearer)
def followed_shops(request):
    """The shops the caller follows, newest first (suspended shops left out)."""
    out = []
    for shop in queries.followed_shops(request.auth)[:200]:
        prof = getattr(shop, "profile", None)  # a shop whose seller never wrote a profile has none
        out.append({"id": shop.pk, "name": shop.name, "name_en": shop.name_en, "slug": shop.slug,
                    "logo_url": prof.logo.url if prof is not None and prof.logo else None})
    return Status(200, out)


@router.put("/followed-shops/{shop_id}", response=responses({204: None}), auth=bearer)
def follow(request, shop_id: Id):
    """Follow a shop (idempotent)."""
    services.follow_shop(actor=request.auth, shop_id=shop_id)
    return Status(204, None)


@router.delete("/followed-shops/{shop_id}", response=responses({204: None}), auth=bearer)
def unfollow(request, shop_id: Id):
    """Stop following a shop (idempotent)."""
    services.unfollow_shop(actor=request.auth, shop_id=shop_id)
    return Status(204, None)

