"""A shop's decorated home page: the published blocks (never the draft, never
hidden blocks, only products shoppers may buy), the seller's preview of the
draft, following a shop from its page and the followed-shops list; the page
costs the same number of queries however many blocks and products it shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shopyard.catalog.services import set_published
from shopyard.shops import decoration as services
from shopyard.shops.models import ShopFollow
from shopyard.shops.services import suspend_shop
from tests import factories as f

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def shop_url(shop):
    return reverse("storefront:shop", args=[shop.slug])


def block_kinds(html):
    import re

    return re.findall(r'data-block-kind="([a-z_]+)"', html)


def test_shoppers_see_the_published_page_and_the_seller_previews_the_draft(client, seller, shop, product):
    services.update_profile(actor=seller, shop=shop, description="官方授权", description_en="Authorised dealer",
                            promises=["returns_7d", "ships_48h"])
    services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "<p>国庆发货安排</p>",
                                                                        "html_en": "<p>Holiday shipping</p>"})
    services.publish(actor=seller, shop=shop)
    services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "<p>草稿公告</p>"})
    public = client.get(shop_url(shop), **ZH).content.decode()
    assert "国庆发货安排" in public and "草稿公告" not in public
    assert "官方授权" in public  # the Chinese description (promise labels come from the catalogue)
    english = client.get(shop_url(shop)).content.decode()
    assert "Holiday shipping" in english and "Authorised dealer" in english
    assert "7-day returns, no reason needed" in english and "Ships within 48 hours" in english
    assert block_kinds(english) == ["notice"]
    # the seller's preview shows the draft, marked as such and not indexed
    client.force_login(seller)
    preview = client.get(reverse("storefront:shop_preview", args=[shop.slug])).content.decode()
    assert block_kinds(preview) == ["notice", "notice"] and "草稿公告" in preview
    assert '<meta name="robots" content="noindex">' in preview
    # and the public page still shows the published one
    assert block_kinds(client.get(shop_url(shop)).content.decode()) == ["notice"]


def test_preview_is_only_for_the_shops_sellers(client, shopper, shop, other_shop):
    url = reverse("storefront:shop_preview", args=[shop.slug])
    assert client.get(url).status_code == 302  # log in first
    client.force_login(shopper)
    assert client.get(url).status_code == 404
    client.force_login(other_shop.members.first().user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("storefront:shop_preview", args=["no-such-shop"])).status_code == 404


def test_hidden_blocks_and_invisible_products_are_not_shown(client, seller, shop):
    on_sale = f.make_product(shop, title="在售耳机")
    draft = f.make_product(shop, title="草稿耳机", publish=False)
    withdrawn = f.make_product(shop, title="下架耳机")
    services.add_block(actor=seller, shop=shop, kind="product_grid", title="精选", config={
        "source": "products", "product_ids": [draft.pk, withdrawn.pk, on_sale.pk]})
    services.add_block(actor=seller, shop=shop, kind="notice", visible=False, config={"html": "隐藏的公告"})
    set_published(actor=seller, shop=shop, product_id=withdrawn.pk, published=False)
    services.publish(actor=seller, shop=shop)
    html = client.get(shop_url(shop), **ZH).content.decode()
    assert block_kinds(html) == ["product_grid"]
    grid = html.split('data-block-kind="product_grid"')[1].split("</section>")[0]
    assert "在售耳机" in grid and "草稿耳机" not in grid and "下架耳机" not in grid
    assert "隐藏的公告" not in html


def test_category_grid_shows_the_category_and_its_children_newest_first(client, seller, shop):
    root = services.create_category(actor=seller, shop=shop, name="手机")
    child = services.create_category(actor=seller, shop=shop, name="旗舰", parent_id=root.pk)
    older = f.make_product(shop, title="老款手机")
    newer = f.make_product(shop, title="新款手机")
    f.make_product(shop, title="不在分类")
    services.set_category_products(actor=seller, shop=shop, category_id=root.pk, product_ids=[older.pk])
    services.set_category_products(actor=seller, shop=shop, category_id=child.pk, product_ids=[newer.pk])
    services.add_block(actor=seller, shop=shop, kind="product_grid",
                       config={"source": "category", "category_id": root.pk, "limit": 1})
    services.add_block(actor=seller, shop=shop, kind="product_grid",
                       config={"source": "category", "category_id": child.pk})
    services.publish(actor=seller, shop=shop)
    html = client.get(shop_url(shop), **ZH).content.decode()
    grids = [part.split("</section>")[0] for part in html.split('data-block-kind="product_grid"')[1:]]
    assert ["新款手机" in g for g in grids] == [True, True]
    assert ["老款手机" in g for g in grids] == [False, False]  # the first grid's limit is 1


def test_coupon_block_claims_through_the_existing_flow(client, shopper, seller, shop):
    template = f.make_coupon_template(shop, name="店铺券")
    services.add_block(actor=seller, shop=shop, kind="coupons", config={"limit": 3})
    services.publish(actor=seller, shop=shop)
    html = client.get(shop_url(shop)).content.decode()
    claim = reverse("storefront:coupon_claim", args=[template.pk])
    assert f'action="{claim}"' in html
    assert "coupon-strip-slot" not in html  # the block replaces the default strip
    client.force_login(shopper)
    resp = client.post(claim, {"next": shop_url(shop)})
    assert resp.status_code == 302 and resp["Location"] == shop_url(shop)
    assert shopper.coupons.filter(template=template).count() == 1


def test_home_page_costs_fixed_queries(client, seller, shop, media, django_assert_max_num_queries):
    def decorate(n):
        products = [f.make_product(shop, title=f"商品{n}-{i}") for i in range(n)]
        category = services.create_category(actor=seller, shop=shop, name=f"分类{n}")
        services.set_category_products(actor=seller, shop=shop, category_id=category.pk,
                                       product_ids=[p.pk for p in products])
        image = services.add_image(actor=seller, shop=shop, upload=f.png_upload())
        services.add_block(actor=seller, shop=shop, kind="banner",
                           config={"slides": [{"image_id": image.pk, "link": "/"}] * n})
        services.add_block(actor=seller, shop=shop, kind="product_grid",
                           config={"source": "category", "category_id": category.pk, "limit": 48})
        services.add_block(actor=seller, shop=shop, kind="product_grid",
                           config={"source": "products", "product_ids": [p.pk for p in products]})
        services.add_block(actor=seller, shop=shop, kind="notice", config={"html": f"公告{n}"})
        services.add_block(actor=seller, shop=shop, kind="coupons", config={})
        services.publish(actor=seller, shop=shop)

    decorate(1)
    client.get(shop_url(shop))  # warm the cached category tree
    with CaptureQueriesContext(connection) as few:
        client.get(shop_url(shop))
    decorate(6)
    with CaptureQueriesContext(connection) as many:
        resp = client.get(shop_url(shop))
    assert block_kinds(resp.content.decode()).count("product_grid") == 4
    assert len(many) == len(few)
    with django_assert_max_num_queries(16):
        client.get(shop_url(shop))


def test_suspended_shop_page_is_404_as_before(client, seller, shop):
    services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "公告"})
    services.publish(actor=seller, shop=shop)
    suspend_shop(actor=f.make_user(is_staff=True), shop_id=shop.pk, reason="检查")
    assert client.get(shop_url(shop)).status_code == 404
    assert client.post(reverse("storefront:toggle_follow", args=[shop.slug])).status_code == 404


def test_follow_from_the_shop_page_and_the_followed_list(client, shopper, shop, other_shop):
    follow = reverse("storefront:toggle_follow", args=[shop.slug])
    assert client.post(follow)["Location"].startswith("/accounts/login/") or client.post(follow).status_code == 302
    assert ShopFollow.objects.count() == 0
    client.force_login(shopper)
    resp = client.post(follow, {"action": "follow"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and 'aria-pressed="true"' in resp.content.decode()
    client.post(follow, {"action": "follow"})  # twice: still one follow
    client.post(reverse("storefront:toggle_follow", args=[other_shop.slug]))  # no action: toggles on
    assert ShopFollow.objects.filter(user=shopper).count() == 2
    page = client.get(shop_url(shop)).content.decode()
    assert "Following" in page
    listed = client.get(reverse("storefront:followed_shops")).content.decode()
    assert listed.index(other_shop.name_en or other_shop.name) < listed.index(shop.name_en or shop.name)
    client.post(follow, {"action": "unfollow"})
    client.post(follow, {"action": "unfollow"})
    assert list(ShopFollow.objects.filter(user=shopper).values_list("shop_id", flat=True)) == [other_shop.pk]
    assert client.get(reverse("storefront:followed_shops")).status_code == 200


def test_followed_list_needs_login(client):
    resp = client.get(reverse("storefront:followed_shops"))
    assert resp.status_code == 302 and "/login" in resp["Location"]


@pytest.mark.parametrize("slug", ["no-such-shop"])
def test_follow_an_unknown_shop_is_404(client, shopper, slug):
    client.force_login(shopper)
    assert client.post(reverse("storefront:toggle_follow", args=[slug])).status_code == 404
    assert ShopFollow.objects.count() == 0
