"""Build the demo marketplace: accounts, shops, categories, products with
SKUs, stock and pictures, and a few orders in different states.

Products, addresses, orders, payments and shipments go through the
services, the way users create them; accounts, shops, categories and brands
have no write service yet and are created directly. Everything is drawn from
one `random.Random(seed)`, so two loads with the same seed look the same.
"""

import itertools
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from shopyard.accounts import services as accounts
from shopyard.accounts.models import User
from shopyard.catalog import services as catalog
from shopyard.catalog.models import Brand, Category, Product
from shopyard.promotions import services as promotions
from shopyard.promotions.models import Promotion
from shopyard.shops.models import Shop, ShopMember
from shopyard.storefront import services as storefront
from shopyard.storefront.models import FeaturedCategory, HomeBanner

from . import data, images

# every curated product once; "Phones & Digital" then spans two listing pages
DEFAULT_PRODUCTS = len(data.PRODUCTS)
DEFAULT_SEED = 20240611
CENT = Decimal("0.01")

URLS = [
    ("Storefront", "/"),
    ("Seller console", "/console/"),
    ("Admin (operator)", "/admin/"),
    ("API docs", "/api/v1/docs"),
]


@dataclass
class DemoResult:
    products: int = 0
    skus: int = 0
    images: int = 0
    drafts: int = 0
    orders: int = 0
    seconds: float = 0.0
    shops: list = field(default_factory=list)


def demo_exists() -> bool:
    return Product.objects.exists()


# --- accounts, shops, taxonomy -------------------------------------------

def ensure_users() -> dict:
    users = {}
    for acc in data.ACCOUNTS:
        user = User.objects.filter(username=acc["username"]).first()
        if user is None:
            # Demo passwords are deliberately simple, so they skip the password
            # validators that register_user applies to real sign-ups.
            user = User.objects.create_user(
                username=acc["username"], password=acc["password"], email=acc.get("email", ""),
                first_name=acc.get("first_name", ""), last_name=acc.get("last_name", ""),
                phone=acc.get("phone", ""), is_staff=acc.get("staff", False),
                is_superuser=acc.get("superuser", False),
            )
        users[acc["username"]] = user
    return users


def ensure_addresses(user):
    if user.addresses.exists():
        return
    for addr in data.SHOPPER_ADDRESSES:
        payload = {k: v for k, v in addr.items() if k != "default"}
        accounts.create_address(actor=user, data=payload, is_default=addr["default"])


def ensure_shops(users) -> dict:
    owners = {acc["shop"]: users[acc["username"]] for acc in data.ACCOUNTS if acc.get("shop")}
    shops = {}
    for key, spec in data.SHOPS.items():
        shop, _created = Shop.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"], "name_en": spec["name_en"], "kind": spec["kind"],
                "description": spec["description"], "shipping_fee": Decimal(spec["fee"]),
                "free_shipping_over": Decimal(spec["free_over"]) if spec["free_over"] else None,
            },
        )
        owner = owners.get(spec["slug"])
        if owner is not None:
            ShopMember.objects.get_or_create(shop=shop, user=owner, defaults={"role": ShopMember.Role.OWNER})
        shops[key] = shop
    return shops


def ensure_categories() -> dict:
    cats = {}
    for pos, (slug, name, name_en, children) in enumerate(data.CATEGORIES):
        root, _c = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_en": name_en, "position": pos}
        )
        cats[slug] = root
        for cpos, (cslug, cname, cname_en) in enumerate(children):
            child, _c = Category.objects.get_or_create(
                slug=cslug, defaults={"name": cname, "name_en": cname_en, "parent": root, "position": cpos}
            )
            cats[cslug] = child
    return cats


def ensure_brands() -> dict:
    brands = {}
    for key, (name, name_en) in data.BRANDS.items():
        brands[key], _c = Brand.objects.get_or_create(name=name, defaults={"name_en": name_en})
    return brands


# --- products ---------------------------------------------------------------

def product_specs(count: int) -> list:
    """`count` product specs, taken round-robin across leaf categories so that
    even a small catalogue covers every category; past the curated list the
    items repeat as numbered styles."""
    by_cat: dict[str, list] = {}
    for spec in data.PRODUCTS:
        by_cat.setdefault(spec["cat"], []).append(spec)
    ordered = []
    for row in itertools.zip_longest(*by_cat.values()):
        ordered.extend(s for s in row if s is not None)
    specs = []
    for n in range(count):
        base = dict(ordered[n % len(ordered)])
        edition = n // len(ordered)
        if edition:
            base["title"] = f"{base['title']}（{edition + 1} 号款）"
            base["title_en"] = f"{base['title_en']} (Style {edition + 1})"
        specs.append(base)
    return specs


def _price(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def build_product_data(spec, *, number: int, shop_code: str, category, brand, rng: random.Random) -> dict:
    attrs = spec["attrs"]
    attributes = [
        {"name": name, "name_en": name_en, "options": [{"value": v, "value_en": e} for v, e, _d in options]}
        for name, name_en, options in attrs
    ]
    skus = []
    combos = itertools.product(*[options for _n, _e, options in attrs]) if attrs else [()]
    base = _price(spec["price"])
    for i, combo in enumerate(combos, start=1):
        price = base + sum((Decimal(d) for _v, _e, d in combo), Decimal("0"))
        roll = rng.random()
        stock = 0 if roll < 0.08 else rng.randint(1, 9) if roll < 0.2 else rng.randint(20, 800)
        skus.append({
            "code": f"{shop_code}-{number:04d}-{i:02d}", "price": str(price.quantize(CENT)), "stock": stock,
            "options": [v for v, _e, _d in combo],
        })
    note_zh, note_en = data.CATEGORY_NOTES.get(spec["cat"], ("", ""))
    promise_zh, promise_en = data.SHOP_PROMISE[spec["shop"]]
    return {
        "category_id": category.pk,
        "brand_id": brand.pk if brand else None,
        "title": spec["title"],
        "title_en": spec["title_en"],
        "description": f"{spec['title']}：{spec['pitch']}。{note_zh}{promise_zh}",
        "description_en": f"{spec['title_en']}: {spec['pitch_en']}. {note_en} {promise_en}",
        "attributes": attributes,
        "skus": skus,
        "publish": False,
    }


def picture_colours(spec, rng) -> list:
    """The colours the pictures show: the product's own colour options when it has any."""
    found = []
    for _name, _name_en, options in spec["attrs"]:
        for _v, value_en, _d in options:
            key = value_en.lower()
            if any(word in key for word in images.COLOURS):
                found.append(images.colour_for(value_en, rng))
        if found:
            break
    if not found:
        found = [images.COLOURS[data.CATEGORY_COLOUR.get(spec["cat"], "grey")]]
    return found


def add_pictures(product, spec, *, number: int, rng: random.Random, count: int) -> int:
    colours = picture_colours(spec, rng)
    brand_en = data.BRANDS.get(spec.get("brand"), ("", ""))[1]
    shop_en = data.SHOPS[spec["shop"]]["name_en"]
    for variant in range(count):
        colour = colours[variant % len(colours)] if variant < 2 else colours[0]
        jpeg = images.render(
            kind=spec["kind"], colour=colour, caption=spec["title_en"],
            sub=f"{brand_en.upper()} | {shop_en}".strip(" |"), variant=variant, seed=number * 7 + variant,
        )
        catalog.attach_image_bytes(product=product, data=jpeg, ext="jpg")
    return count


def _sales(rng: random.Random) -> int:
    # a long tail: most items sell tens, a few sell thousands
    return min(50000, int(rng.paretovariate(1.1) * 12) + rng.randint(0, 30))


def load_catalogue(*, shops, users, cats, brands, count: int, rng: random.Random, result: DemoResult):
    owner_of = {
        shop.pk: ShopMember.objects.filter(shop=shop, role=ShopMember.Role.OWNER).first() for shop in shops.values()
    }
    specs = product_specs(count)
    draft_numbers = {n for n in (count - 1, count // 2) if n > 0}  # a couple of drafts
    for n, spec in enumerate(specs):
        number = n + 1
        shop = shops[spec["shop"]]
        member = owner_of[shop.pk]
        actor = member.user if member else users["operator"]
        payload = build_product_data(
            spec, number=number, shop_code=data.SHOPS[spec["shop"]]["code"], category=cats[spec["cat"]],
            brand=brands.get(spec.get("brand")), rng=rng,
        )
        product = catalog.create_product(actor=actor, shop=shop, data=payload)
        result.images += add_pictures(product, spec, number=number, rng=rng, count=2 if number % 4 == 0 else 3)
        result.skus += len(payload["skus"])
        if n in draft_numbers:
            result.drafts += 1
        else:
            catalog.set_published(actor=actor, shop=shop, product_id=product.pk, published=True)
            # sales figures for realism on listing pages sorted by sales (no service owns this counter)
            Product.objects.filter(pk=product.pk).update(sales_count=_sales(rng))
        result.products += 1


# --- a few orders, so order lists and the seller console are not empty -----

def _buyable_skus(shop, *, limit):
    from shopyard.catalog.models import Sku

    return list(
        Sku.objects.filter(product__shop=shop, product__status=Product.Status.PUBLISHED, is_active=True,
                           stock__quantity__gte=5)
        .order_by("product_id", "id")[:limit]
    )


def _pay(payment_id):
    from shopyard.payments.gateways import simulated
    from shopyard.payments.models import Payment
    from shopyard.payments.services import handle_notification

    payment = Payment.objects.get(pk=payment_id)
    body, headers = simulated.build_notification(payment=payment, status="success")
    handle_notification(gateway=simulated.NAME, body=body, headers=headers)


def load_orders(*, shops, users, result: DemoResult):
    from shopyard.cart import services as cart_services
    from shopyard.checkout.services import place_order
    from shopyard.orders import services as orders
    from shopyard.orders.models import Order

    shopper = users["shopper"]
    address = shopper.addresses.order_by("-is_default", "id").first()
    need = {"self": 4, "gd": 3, "ak": 3, "fs": 2}
    picks = {key: _buyable_skus(shop, limit=6) for key, shop in shops.items()}
    if address is None or any(len(picks.get(key, [])) < n for key, n in need.items()):
        return
    owners = {key: ShopMember.objects.filter(shop=shop, role=ShopMember.Role.OWNER).first().user
              for key, shop in shops.items()}
    key_of = {shop.pk: key for key, shop in shops.items()}
    tracking = {"self": ("jd", "JD0086451237801"), "gd": ("sf", "SF1428839201775")}

    # 1. two shops in one checkout: paid, both shipped, the self-operated one received
    placed = place_order(actor=shopper, address_id=address.pk, idempotency_key="demo-checkout-1", lines=[
        {"sku_id": picks["self"][0].pk, "quantity": 1}, {"sku_id": picks["gd"][0].pk, "quantity": 1},
    ])
    _pay(placed.payment_id)
    for order in Order.objects.filter(pk__in=placed.order_ids).order_by("pk"):
        key = key_of[order.shop_id]
        carrier, number = tracking[key]
        orders.ship(actor=owners[key], shop=shops[key], order_id=order.pk, carrier=carrier, tracking_number=number)
        if key == "self":
            orders.confirm_receipt(actor=shopper, order_id=order.pk)
    result.orders += len(placed.order_ids)

    # 2. paid, waiting for the seller to ship
    placed = place_order(actor=shopper, address_id=address.pk, idempotency_key="demo-checkout-2", lines=[
        {"sku_id": picks["ak"][0].pk, "quantity": 2}, {"sku_id": picks["ak"][1].pk, "quantity": 1},
    ], note="请工作日配送 / weekday delivery please")
    _pay(placed.payment_id)
    result.orders += len(placed.order_ids)

    # 3. paid and shipped by the fashion shop
    placed = place_order(actor=shopper, address_id=address.pk, idempotency_key="demo-checkout-3", lines=[
        {"sku_id": picks["fs"][0].pk, "quantity": 1},
    ])
    _pay(placed.payment_id)
    orders.ship(actor=owners["fs"], shop=shops["fs"], order_id=placed.order_ids[0], carrier="zto",
                tracking_number="73310098265012")
    result.orders += 1

    # 4. cancelled by the buyer (stock released)
    placed = place_order(actor=shopper, address_id=address.pk, idempotency_key="demo-checkout-4", lines=[
        {"sku_id": picks["gd"][1].pk, "quantity": 1},
    ])
    orders.cancel_by_buyer(actor=shopper, order_id=placed.order_ids[0], reason="拍错了 / ordered by mistake")
    result.orders += 1

    # 5. awaiting payment (the unpaid-order timeout will cancel it unless paid)
    placed = place_order(actor=shopper, address_id=address.pk, idempotency_key="demo-checkout-5", lines=[
        {"sku_id": picks["self"][1].pk, "quantity": 2},
    ])
    result.orders += 1

    # 6. reviews of received orders, with shop replies, a follow-up and a hidden one
    load_reviews(shops=shops, users=users, owners=owners, address=address, picks=picks, result=result)

    # 7. a flash sale on now in the self-operated shop, with one unit bought (awaiting payment)
    load_flash_sale(shop=shops["self"], owner=owners["self"], shopper=shopper, address=address, picks=picks["self"])

    # 7. after-sales cases on those orders, in several states
    load_aftersales(shops=shops, owners=owners, shopper=shopper, operator=users["operator"])

    # 8. settlement: last week's statement settled and paid, this week's open
    from .settlement_data import load_settlement

    result.orders += load_settlement(shops=shops, users=users, pay=_pay)

    # favourites and a cart waiting at checkout
    for sku in (picks["gd"][2], picks["fs"][1], picks["self"][2]):
        catalog.add_favourite(actor=shopper, product_id=sku.product_id)
    cart = cart_services.get_cart(user=shopper, create=True)
    cart_services.add_line(cart=cart, sku_id=picks["ak"][2].pk, quantity=1)
    cart_services.add_line(cart=cart, sku_id=picks["self"][3].pk, quantity=3)


def load_reviews(*, shops, users, owners, address, picks, result: DemoResult):
    """Two more orders received by the shopper and reviewed (in Chinese and English,
    one anonymously, with photos), the shops' replies, a follow-up (追评) and one
    review an operator hid, all through the services."""
    from shopyard.checkout.services import place_order
    from shopyard.orders import services as orders
    from shopyard.orders.models import Order
    from shopyard.reviews import services as reviews

    shopper, operator = users["shopper"], users["operator"]
    placed = place_order(actor=shopper, address_id=address.pk, idempotency_key="demo-checkout-reviews", lines=[
        {"sku_id": picks["gd"][-1].pk, "quantity": 1}, {"sku_id": picks["gd"][-2].pk, "quantity": 1},
        {"sku_id": picks["ak"][-1].pk, "quantity": 1},
    ])
    _pay(placed.payment_id)
    key_of = {shop.pk: key for key, shop in shops.items()}
    for order in Order.objects.filter(pk__in=placed.order_ids).order_by("pk"):
        key = key_of[order.shop_id]
        orders.ship(actor=owners[key], shop=shops[key], order_id=order.pk, carrier="sf", tracking_number="SF1428839201775")
        orders.confirm_receipt(actor=shopper, order_id=order.pk)
    result.orders += len(placed.order_ids)
    lines = {}
    for order in Order.objects.filter(user=shopper, status="completed").prefetch_related("lines").order_by("pk"):
        for line in order.lines.all():
            lines.setdefault(key_of[order.shop_id], []).append(line)

    def photo(caption, seed):
        return SimpleUploadedFile(f"review-{seed}.jpg", images.render(kind="phone", colour=(90, 140, 200),
                                                                     caption=caption, seed=seed), "image/jpeg")

    def write(line, **fields):
        return reviews.create_review(actor=shopper, order_id=line.order_id, line_id=line.pk, **fields)

    first = write(lines["self"][0], rating=5, logistics=5, service=5, photos=[photo("Unboxing", 1)],
                  text="正品，包装完好，第二天就到了。用了几天很满意，推荐购买！")
    reviews.reply(actor=owners["self"], shop=shops["self"], review_id=first.pk,
                  text="感谢您对自营旗舰店的支持，期待您再次光临！")
    reviews.add_follow_up(actor=shopper, review_id=first.pk, text="用了一个月，依然很好用，续航也不错。")
    reviews.reply_to_follow_up(actor=owners["self"], shop=shops["self"], review_id=first.pk,
                               text="谢谢您的追评，有任何问题随时联系我们。")
    gd = lines["gd"]
    second = write(gd[0], rating=4, logistics=5, service=4, anonymous=True,
                   text="Good value for money. Delivery was fast, but the box was a little dented.")
    reviews.reply(actor=owners["gd"], shop=shops["gd"], review_id=second.pk,
                  text="Thanks for the feedback! We have asked the courier to pack more carefully.")
    if len(gd) > 1:
        write(gd[1], rating=3, logistics=3, service=4, text="还行吧，和描述基本一致，颜色比图片略深。")
    if len(gd) > 2:
        write(gd[2], rating=5, logistics=4, service=5, photos=[photo("Looks great", 2), photo("Detail", 3)],
              text="Exactly as described, works perfectly. Would buy again.")
    spam = write(lines["ak"][0], rating=1, logistics=2, service=1, text="加微信 xxx 领优惠，比这里便宜一半！")
    reviews.hide_review(actor=operator, review_id=spam.pk, reason="广告引流 / advertising")
def load_aftersales(*, shops, owners, shopper, operator):
    """After-sales cases through the services, as shopper and sellers would make them: a
    return approved and waiting for the parcel (received order), a price-protection
    compensation paid as store credit, a refund request with a photo waiting for the shop,
    and an exchange the shop rejected and the shopper took to the platform (a dispute)."""
    from shopyard.aftersales import services as aftersales
    from shopyard.aftersales.defaults import ensure_default_reasons
    from shopyard.aftersales.models import Reason, ShopPolicy
    from shopyard.orders.models import Order

    ensure_default_reasons()
    ShopPolicy.objects.get_or_create(shop=shops["gd"], defaults={"changed_mind_days": 7, "quality_days": 30,
                                                                 "respond_hours": 24})
    reason = {r.code: r.pk for r in Reason.objects.all()}

    def order_of(key, status):
        return Order.objects.filter(user=shopper, shop=shops[key], status=status).order_by("pk").first()

    def lines(order, quantity=1):
        return [{"line_id": order.lines.order_by("pk").first().pk, "quantity": quantity}]

    photo = SimpleUploadedFile("damage.jpg", images.render(kind="phone", colour=(200, 80, 60),
                                                            caption="Scratch", seed=3), "image/jpeg")
    received = order_of("self", "completed")
    if received is not None:
        case = aftersales.open_case(actor=shopper, order_id=received.pk, kind="return_refund",
                                    reason_id=reason["quality"], lines=lines(received),
                                    description="收到的商品有明显瑕疵，申请退货退款。The item arrived with a visible defect.")
        aftersales.approve(actor=owners["self"], shop=shops["self"], case_id=case.pk,
                           note="请寄回：上海市浦东新区张江路 88 号 / Return to 88 Zhangjiang Rd, Shanghai")
    shipped = order_of("gd", "shipped")
    if shipped is not None:
        case = aftersales.open_case(actor=shopper, order_id=shipped.pk, kind="compensation",
                                    reason_id=reason["price_protection"], lines=lines(shipped), amount="5",
                                    compensation="credit",
                                    description="下单第二天降价 5 元，申请价保。The price dropped ¥5 the next day.")
        aftersales.approve(actor=owners["gd"], shop=shops["gd"], case_id=case.pk, note="已补偿店铺余额 / credited")
    to_ship = order_of("ak", "paid")
    if to_ship is not None:
        aftersales.open_case(actor=shopper, order_id=to_ship.pk, kind="refund_only", reason_id=reason["changed_mind"],
                             lines=lines(to_ship), photos=[photo],
                             description="不想要了，还没发货请退款。Changed my mind, please refund before shipping.")
    fashion = order_of("fs", "shipped")
    if fashion is not None:
        case = aftersales.open_case(actor=shopper, order_id=fashion.pk, kind="exchange",
                                    reason_id=reason["wrong_item"], lines=lines(fashion),
                                    description="收到的尺码不对，想换 M 码。Wrong size: please exchange for M.")
        aftersales.reject(actor=owners["fs"], shop=shops["fs"], case_id=case.pk,
                          note="吊牌已剪，不支持换货 / The tag was cut off")
        aftersales.escalate(actor=shopper, case_id=case.pk, note="吊牌是发货时就没有的 / There was no tag on arrival")


def load_flash_sale(*, shop, owner, shopper, address, picks):
    """A live flash session (two hours from now) and the next one on the hour after
    it ends, through the seller's services; the demo shopper buys one unit."""
    from datetime import timedelta

    from shopyard.checkout.flash import buy_flash
    from shopyard.promotions import flash

    skus = [s for s in picks[4:] if s.stock.quantity >= 10 and s.price >= 10][:2]
    if not skus:
        return
    now = timezone.now().replace(microsecond=0)
    live = flash.create_sale(actor=owner, shop=shop, data={
        "name": "整点秒杀", "name_en": "On-the-hour flash sale", "starts_at": now, "ends_at": now + timedelta(hours=2)})
    for sku in skus:
        flash.add_item(actor=owner, sale=live, data={"sku_id": sku.pk, "flash_price": str((sku.price / 2).quantize(Decimal("1"))),
                                                      "flash_stock": 5, "per_user_limit": 1})
    flash.publish(actor=owner, sale=live)
    starts = (now + timedelta(hours=3)).replace(minute=0, second=0)
    upcoming = flash.create_sale(actor=owner, shop=shop, data={
        "name": "下一场秒杀", "name_en": "Next flash sale", "starts_at": starts, "ends_at": starts + timedelta(hours=1)})
    flash.add_item(actor=owner, sale=upcoming, data={"sku_id": skus[0].pk, "flash_stock": 3, "per_user_limit": 1,
                                                      "flash_price": str((skus[0].price * Decimal("0.6")).quantize(Decimal("1")))})
    flash.publish(actor=owner, sale=upcoming)
    buy_flash(actor=shopper, item_id=live.items.order_by("id").first().pk, quantity=1, address_id=address.pk,
              idempotency_key="demo-flash-1")


# (title, English title, link, picture kind, colour, category slugs featured after it)
HOME_BANNERS = [
    ("双十一数码狂欢", "Singles' Day digital deals", "/c/digital/", "phone", "blue", "Phones, headphones, laptops"),
    ("秋冬新款服装", "New autumn clothing", "/c/clothing/", "shirt", "wine", "Menswear and womenswear"),
    ("好茶好零食", "Tea and snacks for every day", "/c/food/", "tea", "green", "From the platform's own store"),
]
FEATURED_CATEGORIES = ["phones", "headphones", "womenswear", "kitchen", "skincare", "snacks"]


def load_home_content(*, operator, cats) -> int:
    """A few banners and featured categories, added once, through the
    operator's services (so the page cache and the rules apply)."""
    if HomeBanner.objects.exists() or FeaturedCategory.objects.exists():
        return 0
    for pos, (title, title_en, link, kind, colour, sub) in enumerate(HOME_BANNERS):
        jpeg = images.render_banner(kind=kind, colour=images.COLOURS[colour], caption=title_en, sub=sub, seed=pos)
        storefront.save_banner(actor=operator, banner=HomeBanner(title=title, title_en=title_en, link=link, position=pos),
                               upload=SimpleUploadedFile(f"banner-{pos}.jpg", jpeg, content_type="image/jpeg"))
    for pos, slug in enumerate(FEATURED_CATEGORIES):
        if slug in cats:
            storefront.save_featured(actor=operator, featured=FeaturedCategory(category=cats[slug], position=pos))
    return len(HOME_BANNERS)


def load_campaigns(*, operator, now=None) -> int:
    """The platform's 双12 cross-shop 满减, published and scheduled for the next 12 December
    (so it prices nothing the demo orders buy today), added once through the services."""
    if Promotion.objects.filter(shop__isnull=True).exists():
        return 0
    now = timezone.localtime(now)
    start = now.replace(month=12, day=12, hour=0, minute=0, second=0, microsecond=0)
    if start <= now:
        start = start.replace(year=start.year + 1)
    campaign = promotions.create_promotion(
        actor=operator, shop=None, kind="cross_shop_tiers", name="双12跨店满减", name_en="Double 12 cross-shop deal",
        starts_at=start, ends_at=start + timedelta(days=1), currency="CNY",
        rules={"tiers": [{"threshold": "300", "amount_off": "30"}, {"threshold": "600", "amount_off": "70"}]})
    promotions.publish_promotion(actor=operator, shop=None, promotion_id=campaign.pk)
    return 1


# (name, channel, medium, campaign, shop key, to a product?) — campaign names are free text
CAMPAIGN_LINKS = [
    ("朋友圈 双11预热 / WeChat Moments pre-sale", "wechat", "social", "双11预热", "gd", True),
    ("微博 店铺首页 / Weibo shop page", "weibo", "social", "spring-launch", "ak", False),
    ("邮件周报 / Weekly e-mail", "email", "email", "weekly", "self", True),
]


def load_channels(*, shops, users) -> int:
    """Campaign links of a few shops, the demo shopper's tagged visit that its orders are
    attributed to (last touch), and an old category slug that now redirects."""
    from shopyard.channels import services as channels
    from shopyard.channels.models import CampaignLink
    from shopyard.channels.tags import Tag

    if CampaignLink.objects.exists():
        return 0
    made = 0
    for name, source, medium, campaign, key, to_product in CAMPAIGN_LINKS:
        shop = shops[key]
        product = Product.objects.filter(shop=shop, status=Product.Status.PUBLISHED).order_by("pk").first()
        if to_product and product is None:
            continue
        owner = ShopMember.objects.filter(shop=shop, role=ShopMember.Role.OWNER).first().user
        channels.create_campaign_link(actor=owner, shop=shop, data={
            "name": name, "source": source, "medium": medium, "campaign": campaign,
            "target": "product" if to_product else "shop", "product_id": product.pk if to_product else None})
        made += 1
    link = CampaignLink.objects.filter(source="wechat").first()
    if link is not None:
        channels.record_touch(tag=Tag(source=link.source, medium=link.medium, campaign=link.campaign,
                                      link_code=link.code),
                              visitor="0" * 32, user_id=users["shopper"].pk, product_id=link.product_id,
                              now=timezone.now() - timedelta(hours=2))
    phones = Category.objects.filter(slug="phones").first()
    if phones is not None:
        storefront.record_slug_change(kind="category", object_id=phones.pk, old_slug="mobile-phones", slug="phones")
    return made


def load_coupons(*, operator, shops, users, now=None) -> int:
    """A platform coupon and a shop coupon in the coupon centre, claimable for a month,
    each valid 30 days after claiming, the shopper holding the platform's (added once,
    through the services)."""
    from shopyard.promotions import coupon_services
    from shopyard.promotions.models import CouponTemplate

    if CouponTemplate.objects.exists():
        return 0
    now = now or timezone.now()
    window = {"claim_starts_at": now - timedelta(minutes=1), "claim_ends_at": now + timedelta(days=30),
              "validity": "days", "valid_days": 30}
    platform = coupon_services.create_template(
        actor=operator, shop=None, name="平台满299减20", name_en="¥20 off ¥299 (platform)", benefit="amount",
        threshold="299", amount_off="20", total_quantity=10000, currency="CNY", **window)
    coupon_services.publish_template(actor=operator, shop=None, template_id=platform.pk)
    coupon_services.claim_coupon(actor=users["shopper"], template_id=platform.pk)  # the shopper holds one
    seller_shop = next((s for s in shops.values() if s.members.filter(user=users["seller"]).exists()), None)
    if seller_shop is not None:
        shop_coupon = coupon_services.create_template(
            actor=users["seller"], shop=seller_shop, name="店铺满199减15", name_en="¥15 off ¥199", benefit="amount",
            threshold="199", amount_off="15", total_quantity=1000, **window)
        coupon_services.publish_template(actor=users["seller"], shop=seller_shop, template_id=shop_coupon.pk)
    return 2


SEARCH_SYNONYMS = ["手机, mobile phone, smartphone, cellphone", "耳机, earphones, headphones, earbuds",
                   "笔记本电脑, laptop, notebook", "T恤, t-shirt, tee"]
SEARCH_QUERIES = [("手机", 3), ("shouji", 2), ("耳机", 2), ("laptop", 1), ("不存在的东西", 1)]


def load_search(*, operator) -> int:
    """The operators' synonyms and dictionary words, the search index, and a few logged
    searches (one clicked), so the search admin pages and suggestions have something."""
    from shopyard.search import queries as search_queries
    from shopyard.search import services as search
    from shopyard.search.models import DictionaryWord, SearchLog

    from .data import BRANDS

    if SearchLog.objects.exists():
        return 0
    for terms in SEARCH_SYNONYMS:
        search.save_synonyms(actor=operator, terms=terms)
    for name, _name_en in BRANDS.values():
        if not DictionaryWord.objects.filter(word=name).exists():
            search.save_dictionary_word(actor=operator, word=name)
    search.rebuild_index()
    logged = 0
    for query, times in SEARCH_QUERIES:
        result = search_queries.search(query)
        for _n in range(times):
            entry = search.log_search(query=query, results=result.total)
            logged += 1
        if result.ids:
            search.record_click(log_id=entry.pk, product_id=result.ids[0], position=1)
    return logged


def load_behaviour(*, users, seed: int, now=None) -> int:
    """Three hundred synthetic shoppers' last 60 days (views, carts, purchases,
    favourites) with taste clusters by root category (recommendations.synthetic),
    and a little of the demo shopper's own browsing, so the product pages show
    bought-together and similar products and the shopper's home feed is theirs.
    Then the recommendation tables are computed once. Returns the events written."""
    from shopyard.analytics.models import BehaviourEvent
    from shopyard.recommendations import services as recommendations
    from shopyard.recommendations import synthetic

    if BehaviourEvent.objects.filter(user__isnull=True).exists():
        return 0
    now = now or timezone.now()
    clusters = {}
    rows = (Product.objects.filter(status=Product.Status.PUBLISHED).order_by("pk")
            .values_list("pk", "category__parent_id", "category_id"))
    for pk, parent_id, category_id in rows:
        clusters.setdefault(parent_id or category_id, []).append(pk)
    if not clusters:
        return 0
    days = 60
    log = synthetic.taste_log(clusters, shoppers=300, seed=seed, days=days,
                              start=(now - timedelta(days=days)).timestamp())
    tz = timezone.get_current_timezone()
    made = [BehaviourEvent(kind=e.kind, visitor=f"{int(e.actor[1:]):032x}", product_id=e.item,
                           created_at=datetime.fromtimestamp(e.at, tz)) for e in log]
    # the demo shopper has been looking at the first cluster's products lately
    first = clusters[sorted(clusters)[0]]
    made += [BehaviourEvent(kind=BehaviourEvent.Kind.VIEW, user=users["shopper"], product_id=pk,
                            created_at=now - timedelta(hours=n + 1)) for n, pk in enumerate(first[:4])]
    BehaviourEvent.objects.bulk_create(made, batch_size=2000)
    recommendations.recompute(now=now)
    return len(made)


def load(*, products: int = DEFAULT_PRODUCTS, seed: int = DEFAULT_SEED, with_orders: bool = True) -> DemoResult:
    started = time.monotonic()
    rng = random.Random(seed)
    result = DemoResult()
    with transaction.atomic():
        users = ensure_users()
        ensure_addresses(users["shopper"])
        shops = ensure_shops(users)
        cats = ensure_categories()
        brands = ensure_brands()
        load_catalogue(shops=shops, users=users, cats=cats, brands=brands, count=products, rng=rng, result=result)
        load_home_content(operator=users["operator"], cats=cats)
        load_campaigns(operator=users["operator"])
        load_coupons(operator=users["operator"], shops=shops, users=users)
        load_channels(shops=shops, users=users)
        load_search(operator=users["operator"])
        # shop home pages (店铺装修): profiles, shop categories, published blocks
        from .decoration_data import load_decoration

        load_decoration(shops=shops)
        from .settlement_data import load_rates

        load_rates(operator=users["operator"], shops=shops, cats=cats)
        from .marketplace_data import load_marketplace

        load_marketplace(operator=users["operator"])
    # orders run after the catalogue commits, as they would in real life
    if with_orders:
        load_orders(shops=shops, users=users, result=result)
        # customer service: questions, a conversation, canned replies and tickets
        from .service_data import load_service

        with transaction.atomic():
            load_service(shops=shops, users=users)
    # shoppers' behaviour and the recommendations computed from it
    with transaction.atomic():
        load_behaviour(users=users, seed=seed)
    result.shops = list(shops.values())
    result.seconds = time.monotonic() - started
    return result
