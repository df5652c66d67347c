"""What shoppers see of promotions on the product, cart, checkout and order pages
and in the API, and that it is what checkout charges."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from shopyard.cart.services import add_line, get_cart
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from shopyard.promotions.kinds import Kind
from shopyard.promotions.services import stop_promotion
from shopyard.storefront import page_cache
from tests import factories as f

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_product_page_shows_the_price_paid_the_list_price_and_the_promotions(client, shop):
    product = f.make_product(shop, price="199.00")
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "20"}, name="限时8折", name_en="Flash 20")
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "300", "amount_off": "30"}]})
    page = text(client.get(f.product_url(product)))
    assert "¥159.20" in page and "¥199.00" in page
    assert "¥199.00 − ¥39.80 Flash 20" in page
    # the badges name every live promotion covering the product, with its rule
    assert "Limited-time discount 20% off" in page
    assert "Spend and save ¥30.00 off ¥300.00" in page
    zh = text(client.get(f.product_url(product), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "限时8折" in zh and "满¥300.00减¥30.00" in zh


def test_product_page_price_is_what_buying_one_unit_charges(client, shopper, shop, address):
    product = f.make_product(shop, price="250.00")
    sku = product.skus.get()
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    client.force_login(shopper)
    page = text(client.get(f.product_url(product)))
    assert "¥230.00" in page
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    order = Order.objects.get(pk=placed.order_ids[0])
    assert order.total - order.shipping_fee + order.shipping_discount == Decimal("230.00")


def test_a_cached_product_page_expires_when_a_promotion_starts(client, shop, settings, monkeypatch):
    settings.PAGE_CACHE_SECONDS = 300
    product = f.make_product(shop, price="100.00")
    now = timezone.now()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, starts_at=now + timedelta(seconds=40),
                     ends_at=now + timedelta(hours=1))
    kept = []
    real_set = page_cache.cache.set
    monkeypatch.setattr(page_cache.cache, "set", lambda key, value, timeout=None: (
        kept.append(timeout), real_set(key, value, timeout)))
    client.get(f.product_url(product))
    assert kept and 1 <= kept[-1] <= 40


def test_publishing_or_stopping_a_promotion_refreshes_cached_product_pages(client, shop, settings,
                                                                           django_capture_on_commit_callbacks):
    settings.PAGE_CACHE_SECONDS = 300
    cache.clear()
    product = f.make_product(shop, price="100.00")
    url = f.product_url(product)
    assert "¥90.00" not in text(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):  # events reach the page cache after commit
        promotion = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"})
    assert "¥90.00" in text(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        stop_promotion(actor=shop.members.first().user, shop=shop, promotion_id=promotion.pk)
    assert "¥90.00" not in text(client.get(url))


def test_cart_and_checkout_pages_explain_each_discount_and_charge_the_total(client, shopper, shop, address):
    a = f.make_product(shop, price="120.00", title="耳机").skus.get()
    b = f.make_product(shop, price="100.00", title="音箱").skus.get()
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, scope="skus", target_ids=[a.pk],
                     name="限时9折", name_en="10% off")
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    cart = get_cart(user=shopper, create=True)
    add_line(cart=cart, sku_id=a.pk, quantity=1)
    add_line(cart=cart, sku_id=b.pk, quantity=1)
    client.force_login(shopper)
    page = text(client.get(reverse("storefront:cart")))
    # 108 + 100 = 208 reaches ¥200: ¥20 split 10.38 / 9.62
    assert "¥120.00 − ¥12.00 10% off − ¥10.38 ¥20.00 off ¥200.00" in page
    assert "¥100.00 − ¥9.62 ¥20.00 off ¥200.00" in page
    assert "Discounts −¥32.00" in page
    # ¥188 of goods after discounts is below the ¥199 free-shipping threshold: ¥10 shipping
    assert "Total ¥198.00" in page
    checkout = text(client.get(reverse("storefront:checkout")))
    assert "Discounts −¥32.00" in checkout
    api = client.get("/api/v1/cart", HTTP_AUTHORIZATION=f"Bearer {f.token_for(shopper)}").json()
    assert api["discount"] == "32.00"
    [group] = api["groups"]
    assert [line["net_total"] for line in group["lines"]] == ["97.62", "90.38"]
    placed = place_order(actor=shopper, address_id=address.pk)
    assert placed.payment.amount == Decimal(api["total"])
    order_page = text(client.get(reverse("storefront:order_detail", args=[placed.order_ids[0]])))
    assert "¥120.00 − ¥12.00 10% off − ¥10.38 ¥20.00 off ¥200.00" in order_page
    assert "Discounts −¥32.00" in order_page


def test_order_api_lists_every_adjustment_with_its_funder(api, shopper, shopper_token, shop, address):
    sku = f.make_product(shop, price="300.00").skus.get()
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    f.make_promotion(None, Kind.CROSS_SHOP_TIERS, {"tiers": [{"threshold": "250", "amount_off": "25"}]})
    response = api.c.post("/api/v1/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]},
                          content_type="application/json", **f.auth(shopper_token))
    assert response.status_code in (200, 201), response.content
    order = response.json()["orders"][0]
    assert order["discount_total"] == "45.00"
    assert order["total"] == "255.00"
    [line] = order["lines"]
    assert [(a["kind"], a["amount"], a["funded_by"]) for a in line["adjustments"]] == [
        ("spend_tiers", "20.00", "shop"), ("cross_shop_tiers", "25.00", "platform")]
    assert line["net_total"] == "255.00"
    again = api.c.get(f"/api/v1/orders/{order['id']}", **f.auth(shopper_token)).json()
    assert again["lines"][0]["adjustments"] == line["adjustments"]
    assert again["lines"][0]["explanation"].startswith("¥300.00 − ¥20.00")


def test_listing_cards_carry_a_badge_for_each_kind_of_live_promotion(client, shop, other_shop,
                                                                    django_assert_max_num_queries):
    category = f.make_category("数码")
    star = f.make_product(shop, category=category, title="明星")
    plain = f.make_product(shop, category=category, title="普通")
    theirs = f.make_product(other_shop, category=category, title="别家")
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, scope="skus", target_ids=[star.skus.get().pk])
    f.make_promotion(shop, Kind.SPEND_TIERS, {"tiers": [{"threshold": "200", "amount_off": "20"}]})
    url = reverse("storefront:category", args=[category.slug])
    client.get(url)
    with django_assert_max_num_queries(9):  # the page's 6, plus promotions and their scope rows
        html = client.get(url).content.decode()
    page = html.split('class="product-card"')
    by_title = {title: next(part for part in page if f">{title}<" in part)
                for title in (star.title_en, plain.title_en, theirs.title_en)}
    assert "Limited-time discount" in by_title[star.title_en] and "Spend and save" in by_title[star.title_en]
    assert "Limited-time discount" not in by_title[plain.title_en] and "Spend and save" in by_title[plain.title_en]
    assert "badge" not in by_title[theirs.title_en]
