"""Shop decoration (店铺装修): every write to a shop's profile, its own category
tree, its home-page blocks, and shoppers' follows.

The seller edits a draft; shoppers see the published copy, which `publish`
replaces with the draft in one transaction, so a half-edited page is never
public and a preview shows exactly what publishing would. Each block's
settings are checked here (`clean_config`) and nowhere else: a block may only
name the shop's own products, shop categories and images (another shop's id
is a 404 with a field message, as if it did not exist), a notice's HTML goes
through the product description's sanitiser (catalog.rich_text), links are
http(s) or a path on this site.

Decoration sits above the catalogue (a product grid names products), so this
module, unlike the rest of shops/, reads catalog; catalog never imports it.

Every function takes the shop the caller acts for (shops.queries.shop_for_seller
with write=True, or the console's current shop) and an explicit `actor`.
"""

import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.models import Product
from shopyard.catalog.rich_text import sanitize
from shopyard.core import images
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.images import delete_written
from shopyard.core.validation import parse_id, parse_int

from .models import (
    SERVICE_PROMISES,
    ShopBlock,
    ShopCategory,
    ShopFollow,
    ShopImage,
    ShopPage,
    ShopProfile,
)

MAX_DESCRIPTION = 2000
MAX_NAME = 60
MAX_TITLE = 60
MAX_CATEGORIES = 200
MAX_CATEGORY_PRODUCTS = 2000
MAX_BLOCKS = 30
MAX_SLIDES = 8
MAX_GRID = 48
DEFAULT_GRID = 8
MAX_COUPONS = 12
DEFAULT_COUPONS = 6
MAX_NOTICE = 20000
MAX_LINK = 500
MAX_ALT = 100
MAX_IMAGES = 200
# banners and logos are shown large: a little more than a product thumbnail, far below a photo's size
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def _text(value, field, *, max_length, required=False, multiline=False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(fields={field: [_("Enter text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(fields={field: [_("This field is required.")]})
    if len(value) > max_length:
        raise ValidationFailed(fields={field: [_("Use at most %(n)s characters.") % {"n": max_length}]})
    forbidden = ("\x00",) if multiline else ("\x00", "\n", "\r")
    if any(ch in value for ch in forbidden):
        raise ValidationFailed(fields={field: [_("Remove the control characters.")]})
    return value


def _touch_draft(shop):
    page, _c = ShopPage.objects.get_or_create(shop=shop)
    page.draft_updated_at = timezone.now()
    page.save(update_fields=["draft_updated_at"])


# --- profile -------------------------------------------------------------------


def profile_of(shop) -> ShopProfile:
    """The shop's profile (an unsaved blank one when the seller never wrote it)."""
    return ShopProfile.objects.filter(shop=shop).first() or ShopProfile(shop=shop)


def update_profile(*, actor, shop, description, description_en="", promises=()) -> ShopProfile:
    """The description in Chinese (Shop.description) and English, and the service promises
    (keys of SERVICE_PROMISES, shown in that order)."""
    description = _text(description, "description", max_length=MAX_DESCRIPTION, multiline=True)
    description_en = _text(description_en, "description_en", max_length=MAX_DESCRIPTION, multiline=True)
    if isinstance(promises, str) or not isinstance(promises, list | tuple | set):
        raise ValidationFailed(fields={"promises": [_("Choose from the listed promises.")]})
    unknown = [p for p in promises if not isinstance(p, str) or p not in SERVICE_PROMISES]
    if unknown:
        raise ValidationFailed(fields={"promises": [_("Choose from the listed promises.")]})
    chosen = [key for key in SERVICE_PROMISES if key in set(promises)]
    with transaction.atomic():
        shop.description = description
        shop.save(update_fields=["description"])
        profile, _c = ShopProfile.objects.get_or_create(shop=shop)
        profile.description_en = description_en
        profile.promises = chosen
        profile.save()
        emit("shop.updated", shop_id=shop.pk, actor_id=actor.pk)
    return profile


def _store_image(upload, field, folder_field, written):
    data, ext = images.check_upload(upload, field=field, max_bytes=MAX_IMAGE_BYTES)
    folder_field.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
    written.append(folder_field)


def set_logo(*, actor, shop, upload) -> ShopProfile:
    """A JPEG/PNG/WebP/GIF of at most 2 MB, decoded in full before it is stored;
    the old logo file is deleted once the new one is saved."""
    written = []
    try:
        with transaction.atomic():
            profile, _c = ShopProfile.objects.select_for_update().get_or_create(shop=shop)
            old = profile.logo.name if profile.logo else ""
            _store_image(upload, "logo", profile.logo, written)
            profile.save()
            emit("shop.updated", shop_id=shop.pk, actor_id=actor.pk)
    except BaseException:
        delete_written(written)
        raise
    if old:
        transaction.on_commit(lambda: profile.logo.storage.delete(old))
    return profile


def add_image(*, actor, shop, upload) -> ShopImage:
    """A picture for banner slides (at most MAX_IMAGES per shop)."""
    written = []
    try:
        with transaction.atomic():
            if ShopImage.objects.filter(shop=shop).count() >= MAX_IMAGES:
                raise ValidationFailed(fields={"image": [_("A shop has at most %(n)s decoration images.")
                                                         % {"n": MAX_IMAGES}]})
            image = ShopImage(shop=shop)
            _store_image(upload, "image", image.image, written)
            image.save()
    except BaseException:
        delete_written(written)
        raise
    return image


# --- the seller's category tree ----------------------------------------------------


def own_category(shop, category_id, field="category_id", *, lock=False) -> ShopCategory:
    """The shop's category `category_id`; anything else (garbage, another shop's) is a 404."""
    pk = parse_id(category_id)
    qs = ShopCategory.objects.select_for_update() if lock else ShopCategory.objects
    found = qs.filter(shop=shop, pk=pk).first() if pk else None
    if found is None:
        raise NotFound(_("Shop category not found."), fields={field: [_("Unknown shop category.")]})
    return found


def _parent(shop, parent_id, *, moving=None):
    if parent_id in (None, ""):
        return None
    parent = own_category(shop, parent_id, "parent_id")
    if parent.parent_id is not None:
        raise ValidationFailed(fields={"parent_id": [_("Shop categories have two levels: pick a top-level parent.")]})
    if moving is not None:
        if parent.pk == moving.pk:
            raise ValidationFailed(fields={"parent_id": [_("A category cannot be its own parent.")]})
        if moving.children.exists():
            raise ValidationFailed(fields={"parent_id": [_("Move or delete its subcategories first.")]})
    return parent


def create_category(*, actor, shop, name, name_en="", parent_id=None) -> ShopCategory:
    name = _text(name, "name", max_length=MAX_NAME, required=True)
    name_en = _text(name_en, "name_en", max_length=MAX_NAME)
    with transaction.atomic():
        parent = _parent(shop, parent_id)
        if ShopCategory.objects.filter(shop=shop).count() >= MAX_CATEGORIES:
            raise ValidationFailed(fields={"name": [_("A shop has at most %(n)s categories.") % {"n": MAX_CATEGORIES}]})
        position = (ShopCategory.objects.filter(shop=shop, parent=parent).aggregate(m=Max("position"))["m"] or 0) + 1
        category = ShopCategory.objects.create(shop=shop, parent=parent, name=name, name_en=name_en,
                                               position=position)
        emit("shop_category.changed", shop_id=shop.pk, category_id=category.pk, actor_id=actor.pk)
    return category


def update_category(*, actor, shop, category_id, name, name_en="", parent_id=None) -> ShopCategory:
    name = _text(name, "name", max_length=MAX_NAME, required=True)
    name_en = _text(name_en, "name_en", max_length=MAX_NAME)
    with transaction.atomic():
        category = own_category(shop, category_id, lock=True)
        category.parent = _parent(shop, parent_id, moving=category)
        category.name, category.name_en = name, name_en
        category.save(update_fields=["parent", "name", "name_en"])
        emit("shop_category.changed", shop_id=shop.pk, category_id=category.pk, actor_id=actor.pk)
    return category


def delete_category(*, actor, shop, category_id) -> None:
    """Deletes the category and its subcategories; its products stay (only the links go).
    A product grid that showed it then shows nothing until the seller picks another."""
    with transaction.atomic():
        category = own_category(shop, category_id, lock=True)
        category.delete()
        emit("shop_category.changed", shop_id=shop.pk, category_id=int(category_id), actor_id=actor.pk)


def _own_product_ids(shop, product_ids, field) -> list[int]:
    """The ids as given (duplicates dropped, order kept), each a product of `shop`, or a 404 on `field`."""
    if isinstance(product_ids, str) or not isinstance(product_ids, list | tuple):
        raise ValidationFailed(fields={field: [_("Send a list of product ids.")]})
    ids = []
    for raw in product_ids:
        pk = parse_id(raw)
        if pk is None:
            raise ValidationFailed(fields={field: [_("Enter a valid id.")]})
        if pk not in ids:
            ids.append(pk)
    if ids:
        found = set(Product.objects.filter(shop=shop, pk__in=ids).values_list("pk", flat=True))
        if len(found) != len(ids):
            raise NotFound(_("Product not found."), fields={field: [_("Pick products of your own shop.")]})
    return ids


def set_category_products(*, actor, shop, category_id, product_ids) -> ShopCategory:
    """The products in the category: exactly `product_ids` (products of the same shop)."""
    if isinstance(product_ids, list | tuple) and len(product_ids) > MAX_CATEGORY_PRODUCTS:
        raise ValidationFailed(fields={"product_ids": [_("Put at most %(n)s products in one category.")
                                                       % {"n": MAX_CATEGORY_PRODUCTS}]})
    with transaction.atomic():
        category = own_category(shop, category_id, lock=True)
        ids = _own_product_ids(shop, product_ids, "product_ids")
        category.products.set(ids)
        emit("shop_category.changed", shop_id=shop.pk, category_id=category.pk, actor_id=actor.pk)
    return category


# --- home-page blocks --------------------------------------------------------------


def _limit(config, default, maximum):
    raw = config.get("limit", default)
    if raw in (None, ""):
        return default
    number = raw if isinstance(raw, int) and not isinstance(raw, bool) else parse_int(raw)
    if number is None or not 1 <= number <= maximum:
        raise ValidationFailed(fields={"config.limit": [_("Enter a whole number from 1 to %(n)s.") % {"n": maximum}]})
    return number


def _link(value, field) -> str:
    link = _text(value, field, max_length=MAX_LINK)
    if link and not (link.startswith(("https://", "http://")) or (link.startswith("/") and not link.startswith("//"))):
        raise ValidationFailed(fields={field: [_("Enter a web address (https://…) or a path on this site (/…).")]})
    if any(ch.isspace() for ch in link) or "\\" in link:
        raise ValidationFailed(fields={field: [_("Enter a web address (https://…) or a path on this site (/…).")]})
    return link


def _banner(shop, config) -> dict:
    slides = config.get("slides")
    if not isinstance(slides, list) or not slides:
        raise ValidationFailed(fields={"config.slides": [_("Add at least one picture.")]})
    if len(slides) > MAX_SLIDES:
        raise ValidationFailed(fields={"config.slides": [_("A banner has at most %(n)s pictures.") % {"n": MAX_SLIDES}]})
    out = []
    for slide in slides:
        if not isinstance(slide, dict):
            raise ValidationFailed(fields={"config.slides": [_("Each picture needs an image id.")]})
        image_id = parse_id(slide.get("image_id"))
        if image_id is None:
            raise ValidationFailed(fields={"config.slides": [_("Enter a valid id.")]})
        out.append({"image_id": image_id, "link": _link(slide.get("link", ""), "config.slides"),
                    "alt": _text(slide.get("alt", ""), "config.slides", max_length=MAX_ALT)})
    wanted = {s["image_id"] for s in out}
    found = set(ShopImage.objects.filter(shop=shop, pk__in=wanted).values_list("pk", flat=True))
    if found != wanted:
        raise NotFound(_("Image not found."), fields={"config.slides": [_("Pick pictures uploaded for your shop.")]})
    return {"slides": out}


def _product_grid(shop, config) -> dict:
    source = config.get("source")
    limit = _limit(config, DEFAULT_GRID, MAX_GRID)
    if source == "category":
        category = own_category(shop, config.get("category_id"), "config.category_id")
        return {"source": "category", "category_id": category.pk, "limit": limit}
    if source == "products":
        raw = config.get("product_ids")
        if isinstance(raw, list | tuple) and len(raw) > MAX_GRID:
            raise ValidationFailed(fields={"config.product_ids": [_("Pick at most %(n)s products.") % {"n": MAX_GRID}]})
        ids = _own_product_ids(shop, raw, "config.product_ids")
        if not ids:
            raise ValidationFailed(fields={"config.product_ids": [_("Pick at least one product.")]})
        return {"source": "products", "product_ids": ids, "limit": limit}
    raise ValidationFailed(fields={"config.source": [_("Choose a shop category or hand-picked products.")]})


def _notice(config) -> dict:
    html = {}
    for key in ("html", "html_en"):
        value = config.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValidationFailed(fields={f"config.{key}": [_("Enter text.")]})
        if len(value) > MAX_NOTICE:
            raise ValidationFailed(fields={f"config.{key}": [_("Use at most %(n)s characters.") % {"n": MAX_NOTICE}]})
        html[key] = sanitize(value.replace("\x00", "")).strip()
    if not html["html"] and not html["html_en"]:
        raise ValidationFailed(fields={"config.html": [_("Write the notice.")]})
    return html


def clean_config(shop, kind, config) -> dict:
    """The block's settings as stored, or a 4xx naming the field (`config.<name>`)."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ValidationFailed(fields={"config": [_("Send the block's settings as an object.")]})
    if kind == ShopBlock.Kind.BANNER:
        return _banner(shop, config)
    if kind == ShopBlock.Kind.PRODUCT_GRID:
        return _product_grid(shop, config)
    if kind == ShopBlock.Kind.NOTICE:
        return _notice(config)
    if kind == ShopBlock.Kind.COUPONS:
        return {"limit": _limit(config, DEFAULT_COUPONS, MAX_COUPONS)}
    raise ValidationFailed(fields={"kind": [_("Choose a block kind.")]})


def own_block(shop, block_id, *, lock=False) -> ShopBlock:
    """A block of the shop's draft; anything else is a 404."""
    pk = parse_id(block_id)
    qs = ShopBlock.objects.select_for_update() if lock else ShopBlock.objects
    found = qs.filter(shop=shop, version=ShopBlock.Version.DRAFT, pk=pk).first() if pk else None
    if found is None:
        raise NotFound(_("Block not found."))
    return found


def _visible_flag(value) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationFailed(fields={"visible": [_("Enter true or false.")]})


def add_block(*, actor, shop, kind, config=None, title="", title_en="", visible=True) -> ShopBlock:
    """A new block at the end of the draft."""
    if kind not in ShopBlock.Kind.values:
        raise ValidationFailed(fields={"kind": [_("Choose a block kind.")]})
    title = _text(title, "title", max_length=MAX_TITLE)
    title_en = _text(title_en, "title_en", max_length=MAX_TITLE)
    visible = _visible_flag(visible)
    with transaction.atomic():
        ShopPage.objects.get_or_create(shop=shop)
        ShopPage.objects.select_for_update().filter(shop=shop).first()  # one writer of a draft at a time
        cleaned = clean_config(shop, kind, config)
        draft = ShopBlock.objects.filter(shop=shop, version=ShopBlock.Version.DRAFT)
        if draft.count() >= MAX_BLOCKS:
            raise ValidationFailed(fields={"kind": [_("A page has at most %(n)s blocks.") % {"n": MAX_BLOCKS}]})
        position = (draft.aggregate(m=Max("position"))["m"] or 0) + 1
        block = ShopBlock.objects.create(shop=shop, version=ShopBlock.Version.DRAFT, kind=kind, position=position,
                                         visible=visible, title=title, title_en=title_en, config=cleaned)
        _touch_draft(shop)
    return block


def update_block(*, actor, shop, block_id, config=None, title=None, title_en=None, visible=None) -> ShopBlock:
    """Change a draft block's settings, titles or visibility (what is None stays)."""
    with transaction.atomic():
        block = own_block(shop, block_id, lock=True)
        if title is not None:
            block.title = _text(title, "title", max_length=MAX_TITLE)
        if title_en is not None:
            block.title_en = _text(title_en, "title_en", max_length=MAX_TITLE)
        if visible is not None:
            block.visible = _visible_flag(visible)
        if config is not None:
            block.config = clean_config(shop, block.kind, config)
        block.save()
        _touch_draft(shop)
    return block


def delete_block(*, actor, shop, block_id) -> None:
    with transaction.atomic():
        own_block(shop, block_id, lock=True).delete()
        _touch_draft(shop)


def reorder_blocks(*, actor, shop, block_ids) -> list[ShopBlock]:
    """The draft in the order given: `block_ids` must name every draft block once."""
    if isinstance(block_ids, str) or not isinstance(block_ids, list | tuple) or len(block_ids) > MAX_BLOCKS:
        raise ValidationFailed(fields={"block_ids": [_("Send the ids of all the page's blocks in their new order.")]})
    ids = [parse_id(b) for b in block_ids]
    if None in ids:
        raise ValidationFailed(fields={"block_ids": [_("Enter a valid id.")]})
    with transaction.atomic():
        blocks = {b.pk: b for b in ShopBlock.objects.select_for_update()
                  .filter(shop=shop, version=ShopBlock.Version.DRAFT)}
        if len(set(ids)) != len(ids) or set(ids) - set(blocks):
            raise NotFound(_("Block not found."), fields={"block_ids": [_("Name each block of your page once.")]})
        if set(ids) != set(blocks):
            raise ValidationFailed(fields={"block_ids": [_("Send the ids of all the page's blocks in their new order.")]})
        for position, pk in enumerate(ids, start=1):
            blocks[pk].position = position
        ShopBlock.objects.bulk_update(blocks.values(), ["position"])
        _touch_draft(shop)
    return [blocks[pk] for pk in ids]


def move_block(*, actor, shop, block_id, direction) -> ShopBlock:
    """Swap a draft block with its neighbour ("up" or "down"); at an end it stays."""
    if direction not in ("up", "down"):
        raise ValidationFailed(fields={"direction": [_("Choose up or down.")]})
    with transaction.atomic():
        block = own_block(shop, block_id, lock=True)
        order = list(ShopBlock.objects.filter(shop=shop, version=ShopBlock.Version.DRAFT)
                     .order_by("position", "id").values_list("pk", flat=True))
        i = order.index(block.pk)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
        reorder_blocks(actor=actor, shop=shop, block_ids=order)
    return block


def publish(*, actor, shop) -> ShopPage:
    """The draft becomes the public page (the published blocks are replaced by copies of the draft)."""
    with transaction.atomic():
        page, _c = ShopPage.objects.get_or_create(shop=shop)
        page = ShopPage.objects.select_for_update().get(pk=page.pk)
        ShopBlock.objects.filter(shop=shop, version=ShopBlock.Version.PUBLISHED).delete()
        draft = ShopBlock.objects.filter(shop=shop, version=ShopBlock.Version.DRAFT).order_by("position", "id")
        ShopBlock.objects.bulk_create([
            ShopBlock(shop=shop, version=ShopBlock.Version.PUBLISHED, kind=b.kind, position=b.position,
                      visible=b.visible, title=b.title, title_en=b.title_en, config=b.config)
            for b in draft
        ])
        page.published_at = timezone.now()
        if page.draft_updated_at is None or page.draft_updated_at > page.published_at:
            page.draft_updated_at = page.published_at
        page.published_by = actor if getattr(actor, "pk", None) else None
        page.save()
        emit("shop_page.published", shop_id=shop.pk, actor_id=getattr(actor, "pk", None))
    return page


# --- follows -------------------------------------------------------------------------


def follow_shop(*, actor, shop_id) -> ShopFollow:
    """Idempotent: following a followed shop keeps the first follow. A suspended
    or unknown shop is a 404 (shoppers cannot see it)."""
    from .queries import active_shops

    pk = parse_id(shop_id)
    shop = active_shops().filter(pk=pk).first() if pk else None
    if shop is None:
        raise NotFound(_("Shop not found."))
    follow, _c = ShopFollow.objects.get_or_create(user=actor, shop=shop)
    return follow


def unfollow_shop(*, actor, shop_id) -> None:
    """Idempotent: unfollowing a shop not followed changes nothing."""
    pk = parse_id(shop_id)
    if pk is None:
        raise NotFound(_("Shop not found."))
    ShopFollow.objects.filter(user=actor, shop_id=pk).delete()
