"""Reads of shop decoration shared by the storefront, the console and the API.

A home page is assembled once (`home_blocks`) in a fixed number of queries,
however many blocks and products it has: the blocks, their banner images, the
product ids of the shop categories the grids show, and the products themselves
(through catalog.queries.visible_products, the one visibility rule, so a draft,
a product without an active SKU or a suspended shop's product never shows).
"""

from dataclasses import dataclass, field

from shopyard.catalog.queries import visible_products, with_cover
from shopyard.core.i18n import is_english, localized

from .models import (
    SERVICE_PROMISES,
    ShopBlock,
    ShopCategory,
    ShopFollow,
    ShopImage,
    ShopPage,
    ShopProfile,
)
from .queries import active_shops

# products a category grid looks at, newest first, for all the page's category grids together
CATEGORY_SCAN = 2000


@dataclass
class HomeBlock:
    block: ShopBlock
    slides: list = field(default_factory=list)  # [{"url", "link", "alt"}]
    products: list = field(default_factory=list)  # Product rows (with_cover), in the block's order
    html: str = ""  # a sanitised notice (stored sanitised; rendered through catalog.rich_text again)

    @property
    def kind(self):
        return self.block.kind

    @property
    def title(self):
        return localized(self.block, "title")

    @property
    def coupon_limit(self):
        return self.block.config.get("limit", 6)


def blocks(shop, version) -> list[ShopBlock]:
    return list(ShopBlock.objects.filter(shop=shop, version=version).order_by("position", "id"))


def page_state(shop) -> ShopPage:
    return ShopPage.objects.filter(shop=shop).first() or ShopPage(shop=shop)


def home_blocks(shop, *, version=ShopBlock.Version.PUBLISHED, include_hidden=False) -> list[HomeBlock]:
    """The page's blocks ready to show: banners with their image URLs, grids with
    the visible products they name (at most `limit`), notices in the visitor's language."""
    rows = [b for b in blocks(shop, version) if include_hidden or b.visible]
    out = [HomeBlock(block=b) for b in rows]
    image_ids = {s["image_id"] for b in rows if b.kind == ShopBlock.Kind.BANNER for s in b.config.get("slides", [])}
    images = {i.pk: i for i in ShopImage.objects.filter(shop=shop, pk__in=image_ids)} if image_ids else {}
    grids = [h for h in out if h.kind == ShopBlock.Kind.PRODUCT_GRID]
    category_ids = {h.block.config.get("category_id") for h in grids if h.block.config.get("source") == "category"}
    in_category: dict[int, list[int]] = {}
    if category_ids:
        # a grid of a category shows its products and its subcategories' products
        targets = {c: [c] for c in category_ids}
        for child, parent in ShopCategory.objects.filter(shop=shop, parent_id__in=category_ids).values_list(
                "pk", "parent_id"):
            targets.setdefault(child, []).append(parent)
        found = (visible_products().filter(shop=shop, shop_categories__in=list(targets))
                 .order_by("-created_at", "-id").values_list("pk", "shop_categories")[:CATEGORY_SCAN])
        for pk, cat in found:
            for target in targets[cat]:
                ids = in_category.setdefault(target, [])
                if pk not in ids:
                    ids.append(pk)
    wanted = {}
    for h in grids:
        config = h.block.config
        ids = (in_category.get(config.get("category_id"), []) if config.get("source") == "category"
               else config.get("product_ids", []))
        wanted[h.block.pk] = ids
    all_ids = {pk for ids in wanted.values() for pk in ids}
    products = ({p.pk: p for p in with_cover(visible_products().filter(shop=shop, pk__in=all_ids))}
                if all_ids else {})
    english = is_english()
    for h in out:
        config = h.block.config
        if h.kind == ShopBlock.Kind.BANNER:
            h.slides = [{"url": images[s["image_id"]].image.url, "link": s.get("link", ""), "alt": s.get("alt", "")}
                        for s in config.get("slides", []) if s["image_id"] in images]
        elif h.kind == ShopBlock.Kind.PRODUCT_GRID:
            found = [products[pk] for pk in wanted[h.block.pk] if pk in products]
            h.products = found[: config.get("limit", 8)]
        elif h.kind == ShopBlock.Kind.NOTICE:
            h.html = (config.get("html_en") if english else "") or config.get("html") or config.get("html_en", "")
    return out


def profile(shop) -> ShopProfile:
    return ShopProfile.objects.filter(shop=shop).first() or ShopProfile(shop=shop)


def description(shop, prof) -> str:
    """The shop's description in the visitor's language (Chinese when there is no English)."""
    return (prof.description_en if is_english() else "") or shop.description


def promise_labels(prof) -> list[str]:
    return [str(SERVICE_PROMISES[k]) for k in prof.promises if k in SERVICE_PROMISES]


def category_tree(shop) -> list[ShopCategory]:
    """Top-level categories with `child_list`; each node has `product_count`."""
    from django.db.models import Count

    cats = list(ShopCategory.objects.filter(shop=shop).annotate(product_count=Count("products"))
                .order_by("position", "id"))
    roots = [c for c in cats if c.parent_id is None]
    for root in roots:
        root.child_list = [c for c in cats if c.parent_id == root.pk]
    return roots


def is_following(user, shop) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return ShopFollow.objects.filter(user=user, shop=shop).exists()


def followed_shops(user):
    """The shops `user` follows (newest follow first); a suspended shop is left out, as shoppers cannot visit it."""
    return (active_shops().filter(followers__user=user)
            .select_related("profile").order_by("-followers__created_at", "-id"))
