"""Factories shared by every test: plain functions that go through services
where a service exists, so tests build data the way users do."""

import io
import itertools
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shopyard.accounts.models import User
from shopyard.accounts.services import create_address, issue_token
from shopyard.catalog.models import Category
from shopyard.catalog.services import create_product
from shopyard.shops.models import Shop, ShopMember
from shopyard.storefront.models import FeaturedCategory, HomeBanner
from shopyard.storefront.services import save_banner, save_featured

_seq = itertools.count(1)

PASSWORD = "Sh0pyard-test-pass"


def make_user(username=None, **extra) -> User:
    n = next(_seq)
    return User.objects.create_user(username=username or f"user{n}", password=PASSWORD, **extra)


def make_shop(name=None, *, owner=None, shipping_fee="0", free_shipping_over=None, kind=Shop.Kind.SELLER) -> Shop:
    n = next(_seq)
    shop = Shop.objects.create(
        name=name or f"店铺{n}", name_en=f"Shop {n}", slug=f"shop-{n}", kind=kind,
        shipping_fee=Decimal(shipping_fee), free_shipping_over=Decimal(free_shipping_over) if free_shipping_over else None,
    )
    if owner is not None:
        ShopMember.objects.create(shop=shop, user=owner, role=ShopMember.Role.OWNER)
    return shop


def make_category(name=None, parent=None) -> Category:
    n = next(_seq)
    return Category.objects.create(name=name or f"分类{n}", name_en=f"Category {n}", slug=f"cat-{n}", parent=parent)


def make_product(shop, *, category=None, price="99.00", stock=10, skus=None, publish=True, title=None, actor=None,
                 weight=None):
    """A product with one SKU (or `skus`: list of (price, stock) for a size attribute);
    `weight` (kg) goes on the one SKU."""
    n = next(_seq)
    category = category or make_category()
    if skus is None:
        attributes = []
        sku_data = [{"code": f"SKU-{n}", "price": str(price), "stock": stock, "options": [],
                     **({"weight": str(weight)} if weight is not None else {})}]
    else:
        sizes = [f"S{i}" for i in range(len(skus))]
        attributes = [{"name": "尺码", "name_en": "Size", "options": [{"value": s, "value_en": s} for s in sizes]}]
        sku_data = [
            {"code": f"SKU-{n}-{i}", "price": str(p), "stock": s, "options": [sizes[i]]} for i, (p, s) in enumerate(skus)
        ]
    return create_product(
        actor=actor, shop=shop,
        data={
            "category_id": category.pk, "title": title or f"商品{n}", "title_en": f"Product {n}",
            "description": "描述", "attributes": attributes, "skus": sku_data, "publish": publish,
        },
    )


def make_address(user, **overrides):
    data = {
        "recipient": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
        "district": "西湖区", "detail": "文三路 100 号", "postcode": "310000",
    }
    data.update(overrides)
    return create_address(actor=user, data=data)


def token_for(user) -> str:
    return issue_token(user=user)


def auth(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def sign_simulated(body: bytes, timestamp: str, secret: str | None = None) -> dict:
    """Headers of a simulated-gateway notification, signed as its documented
    protocol says: HMAC-SHA256 over "<timestamp>.<body>" (for bodies that
    `simulated.build_notification` would not produce, such as malformed ones)."""
    import hashlib
    import hmac

    from django.conf import settings

    from shopyard.payments.gateways.simulated import SIGNATURE_HEADER

    key = (secret or settings.PAYMENT_SIM_SECRET).encode()
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={timestamp},v1={digest}"}


def png_upload(name="banner.png", size=(64, 24), colour=(255, 80, 0)):
    """A small valid PNG as an upload."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def make_banner(*, actor=None, title=None, **fields):
    """A home banner saved through the service, with a generated picture."""
    n = next(_seq)
    banner = HomeBanner(title=title or f"横幅{n}", **fields)
    return save_banner(actor=actor, banner=banner, upload=png_upload())


def make_featured(category, *, actor=None, **fields):
    return save_featured(actor=actor, featured=FeaturedCategory(category=category, **fields))


def make_promotion(shop, kind, rules, *, actor=None, scope="all", target_ids=None, publish=True, name=None,
                   starts_at=None, ends_at=None, **extra):
    """A promotion of `shop` (None: the platform's, run by an operator), live now unless told otherwise."""
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions.services import create_promotion, publish_promotion

    if actor is None:
        actor = make_user(is_staff=True) if shop is None else shop.members.first().user
    now = timezone.now()
    promotion = create_promotion(
        actor=actor, shop=shop, kind=kind, name=name or f"活动{next(_seq)}", name_en=extra.pop("name_en", ""),
        starts_at=starts_at or now - timedelta(minutes=1), ends_at=ends_at or now + timedelta(days=1),
        rules=rules, scope=scope, target_ids=target_ids, **extra)
    if publish:
        promotion = publish_promotion(actor=actor, shop=shop, promotion_id=promotion.pk)
    return promotion


def make_coupon_template(shop, *, actor=None, benefit="amount", publish=True, total_quantity=100, **fields):
    """A coupon template of `shop` (None: the platform's), claimable now and valid for a day
    unless told otherwise; ¥10 off ¥100 by default."""
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions.coupon_services import create_template, publish_template

    if actor is None:
        actor = make_user(is_staff=True) if shop is None else shop.members.first().user
    now = timezone.now()
    defaults = {"amount": {"threshold": "100", "amount_off": "10"}, "percent": {"percent_off": "10"},
                "free_shipping": {}}[benefit]
    if fields.get("validity", "fixed") == "fixed":
        defaults.update(valid_from=now - timedelta(minutes=1), valid_until=now + timedelta(days=1))
    template = create_template(
        actor=actor, shop=shop, name=fields.pop("name", f"券{next(_seq)}"), benefit=benefit,
        total_quantity=total_quantity, claim_starts_at=fields.pop("claim_starts_at", now - timedelta(minutes=1)),
        claim_ends_at=fields.pop("claim_ends_at", now + timedelta(hours=12)), **{**defaults, **fields})
    if publish:
        template = publish_template(actor=actor, shop=shop, template_id=template.pk)
    return template


def give_coupon(user, template):
    """`user` claims one coupon of `template`."""
    from shopyard.promotions.coupon_services import claim_coupon

    return claim_coupon(actor=user, template_id=template.pk)
def make_freight_template(shop, *, name="标准快递", basis="piece", first_units="1", first_fee="10.00",
                          additional_units="1", additional_fee="5.00", region_rules=(), undeliverable=(),
                          free_rules=(), products=(), actor=None):
    """A freight template of `shop` made through the seller's service, assigned to `products`."""
    from shopyard.shipping.services import assign_template, create_template

    actor = actor or shop.members.first().user
    template = create_template(actor=actor, shop=shop, data={
        "name": name, "basis": basis, "first_units": first_units, "first_fee": first_fee,
        "additional_units": additional_units, "additional_fee": additional_fee,
        "region_rules": list(region_rules), "undeliverable": list(undeliverable), "free_rules": list(free_rules),
    })
    if products:
        assign_template(actor=actor, shop=shop, template_id=template.pk, product_ids=[p.pk for p in products])
    return template


XINJIANG = {"province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区"}
TIBET = {"province": "西藏自治区", "city": "拉萨市", "district": "城关区"}


def make_flash_sale(shop, items, *, actor=None, starts_in_minutes=-1, minutes=60, publish=True, name="整点秒杀"):
    """A flash-sale session of `shop` (None: platform) written through the services:
    `items` is a list of (sku, flash_price, flash_stock, per_user_limit). Live now by
    default (started a minute ago, ends in an hour) and published."""
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions import flash

    if actor is None:
        actor = make_user(is_staff=True) if shop is None else shop.members.first().user
    now = timezone.now()
    sale = flash.create_sale(actor=actor, shop=shop, data={
        "name": name, "name_en": "On-the-hour flash sale", "starts_at": now + timedelta(minutes=starts_in_minutes),
        "ends_at": now + timedelta(minutes=starts_in_minutes + minutes)})
    for sku, price, stock, limit in items:
        flash.add_item(actor=actor, sale=sale, data={"sku_id": sku.pk, "flash_price": str(price),
                                                       "flash_stock": stock, "per_user_limit": limit})
    if publish:
        flash.publish(actor=actor, sale=sale)
    sale.refresh_from_db()
    return sale


def make_group_buy(shop, sku, *, price="39.90", size=3, publish=True, name="三人团", actor=None):
    """A group-buy campaign of `shop` for one SKU at `price`, written through the services:
    running now (started a minute ago, ends in a week) and published unless told otherwise."""
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions import group_services

    actor = actor or shop.members.first().user
    now = timezone.now()
    campaign = group_services.create_campaign(
        actor=actor, shop=shop, name=name, group_size=size, time_limit_hours=24, max_quantity=2,
        starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=7),
        items=[{"sku_id": sku.pk, "group_price": price}])
    if publish:
        campaign = group_services.publish_campaign(actor=actor, shop=shop, campaign_id=campaign.pk)
    return campaign
def make_paid_order(user, address, lines):
    """An order of `lines` ([(sku, quantity)], one shop) placed and paid, as checkout and
    the gateway would leave it; its lines come in `lines` order."""
    from shopyard.checkout.services import place_order
    from shopyard.orders.models import Order
    from shopyard.orders.services import mark_paid

    placed = place_order(actor=user, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": qty} for sku, qty in lines])
    order = Order.objects.get(pk=placed.order_ids[0])
    mark_paid(actor=None, order=order)
    order.refresh_from_db()
    return order


def make_completed_order(user, address, lines):
    """An order of `lines` ([(sku, quantity)], one shop) placed, paid, shipped whole by its
    shop's owner and received by `user`: completed, as reviews and after-sales need it."""
    from shopyard.orders import services as order_services

    order = make_paid_order(user, address, lines)
    owner = order.shop.members.get(role=ShopMember.Role.OWNER).user
    order_services.ship(actor=owner, shop=order.shop, order_id=order.pk, carrier="sf", tracking_number="SF1428839201775")
    order_services.confirm_receipt(actor=user, order_id=order.pk)
    order.refresh_from_db()
    return order


def push_tracking(client, events, *, tracking_number, timestamp=None, secret=None, adapter="simulated"):
    """POST a simulated carrier's tracking push (signed as shipping.carriers.SimulatedCarrier
    documents) of `events` ([{"id", "time", "code", ...}]) to the webhook."""
    import json
    import time

    from django.conf import settings

    from shopyard.shipping.carriers import sign

    body = json.dumps({"tracking_number": tracking_number, "events": events}).encode()
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    key = secret if secret is not None else settings.CARRIER_WEBHOOK_SECRETS["simulated"]
    return client.post(f"/api/v1/shipping/tracking/{adapter}", data=body, content_type="application/json",
                       HTTP_X_CARRIER_TIMESTAMP=stamp, HTTP_X_CARRIER_SIGNATURE=sign(key, stamp, body))


FLASH_ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "province_code", "city_code",
                        "district_code", "detail", "postcode")


def make_flash_buyers(n):
    """n users and an address each, written in bulk (creating them one by one would dominate a race test)."""
    from shopyard.accounts.models import Address, User

    User.objects.bulk_create([User(username=f"flash-racer{i}") for i in range(n)])
    users = list(User.objects.filter(username__startswith="flash-racer").order_by("id"))
    first = make_address(users[0])
    fields = {name: getattr(first, name) for name in FLASH_ADDRESS_FIELDS}
    Address.objects.bulk_create([Address(user=u, **fields) for u in users[1:]])
    addresses = dict(Address.objects.filter(user__in=users).values_list("user_id", "id"))
    return [(u, addresses[u.pk]) for u in users]


def make_flash_race_item():
    """The race's prize: 100 flash units at ¥9.90 (limit 1 per buyer) set aside from 150 in
    stock of a ¥99 SKU, in a shop with free shipping; returns (sku, item)."""
    shop = make_shop(owner=make_user("flash-seller"), shipping_fee="0")
    sku = make_product(shop, price="99.00", stock=150).skus.get()
    return sku, make_flash_sale(shop, [(sku, "9.90", 100, 1)]).items.get()


def product_url(product) -> str:
    """The product's canonical page (/p/<id>-<slug>/); /p/<id>/ answers with a 301 to it."""
    from shopyard.storefront.seo import product_path

    return product_path(product.pk, product.slug)
