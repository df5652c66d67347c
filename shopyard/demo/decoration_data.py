"""Demo shop decoration (店铺装修), in Chinese and English: each shop gets a
logo, descriptions, service promises, its own categories (one per platform
category it sells in) and a published home page of a banner carousel, a
notice, a coupon strip and product grids (one from a shop category, one
hand-picked). Written through shops.decoration, as a seller would."""

from django.core.files.uploadedfile import SimpleUploadedFile

from shopyard.catalog.models import Product
from shopyard.shops import decoration
from shopyard.shops.models import ShopMember, ShopPage

from . import images

PROFILES = {
    "shopyard-self": ("Sold and shipped by Shopyard: genuine goods, free next-day delivery.",
                      ["genuine", "free_shipping", "ships_48h", "invoice"], "blue"),
    "galaxy-digital": ("Phones, earphones, laptops and wearables; authorised dealer with nationwide warranty.",
                       ["genuine", "warranty", "ships_48h", "returns_7d"], "navy"),
    "aoki-home": ("Simple Japanese-style homeware: kitchen, bedding and everyday things.",
                  ["returns_7d", "ships_48h"], "sage"),
    "kapok-wardrobe": ("Comfortable everyday clothes for women and men; 7-day returns.",
                       ["returns_7d", "ships_48h", "free_shipping"], "pink"),
}
NOTICES = {
    "zh": "<h3>店铺公告</h3><p>工作日 16:00 前付款当天发货；节假日顺延。</p><ul><li>关注店铺领取专属优惠券</li>"
          "<li>有问题请联系在线客服</li></ul>",
    "en": "<h3>Shop notice</h3><p>Paid before 16:00 on a working day: shipped the same day; holidays move it to the"
          " next working day.</p><ul><li>Follow the shop for member coupons</li><li>Questions? Ask our customer"
          " service</li></ul>",
}
BANNERS = [("新品上市", "New arrivals", "phone"), ("限时特惠", "Limited-time offers", "headphones")]


def _picture(name, caption, kind, colour, seed, *, banner=True):
    data = (images.render_banner(kind=kind, colour=colour, caption=caption, seed=seed) if banner
            else images.render(kind=kind, colour=colour, caption="", seed=seed))
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def load_decoration(*, shops) -> int:
    """Decorates each shop once (a shop with a published page is left as it is); returns how many."""
    done = 0
    for shop in shops.values():
        if ShopPage.objects.filter(shop=shop, published_at__isnull=False).exists():
            continue
        owner = ShopMember.objects.filter(shop=shop, role=ShopMember.Role.OWNER).select_related("user").first()
        if owner is None:
            continue
        actor = owner.user
        description_en, promises, colour_name = PROFILES.get(shop.slug, ("", ["returns_7d"], "grey"))
        colour = images.COLOURS[colour_name]
        decoration.update_profile(actor=actor, shop=shop, description=shop.description,
                                  description_en=description_en, promises=promises)
        decoration.set_logo(actor=actor, shop=shop, upload=_picture("logo.jpg", "", "bottle", colour, shop.pk,
                                                                    banner=False))
        products = list(Product.objects.filter(shop=shop, status=Product.Status.PUBLISHED)
                        .select_related("category").order_by("-sales_count", "id"))
        by_category = {}
        for p in products:
            by_category.setdefault(p.category, []).append(p.pk)
        categories = []
        for cat, ids in list(by_category.items())[:4]:
            shop_cat = decoration.create_category(actor=actor, shop=shop, name=cat.name, name_en=cat.name_en)
            decoration.set_category_products(actor=actor, shop=shop, category_id=shop_cat.pk, product_ids=ids)
            categories.append(shop_cat)
        slides = []
        for n, (caption, caption_en, kind) in enumerate(BANNERS):
            image = decoration.add_image(actor=actor, shop=shop,
                                         upload=_picture(f"banner-{n}.jpg", caption_en, kind, colour, shop.pk + n))
            slides.append({"image_id": image.pk, "link": "/coupons/" if n else f"/shop/{shop.slug}/?sort=newest",
                           "alt": f"{caption} / {caption_en}"})
        decoration.add_block(actor=actor, shop=shop, kind="banner", config={"slides": slides})
        decoration.add_block(actor=actor, shop=shop, kind="notice", config={"html": NOTICES["zh"],
                                                                              "html_en": NOTICES["en"]})
        decoration.add_block(actor=actor, shop=shop, kind="coupons", title="领券中心", title_en="Coupons",
                             config={"limit": 4})
        if products:
            decoration.add_block(actor=actor, shop=shop, kind="product_grid", title="店长推荐",
                                 title_en="Our picks", config={"source": "products",
                                                               "product_ids": [p.pk for p in products[:4]]})
        if categories:
            first = categories[0]
            decoration.add_block(actor=actor, shop=shop, kind="product_grid", title=first.name,
                                 title_en=first.name_en, config={"source": "category", "category_id": first.pk,
                                                                 "limit": 8})
        decoration.publish(actor=actor, shop=shop)
        done += 1
    return done
