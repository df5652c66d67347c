"""Shop decoration through the services and the API: the draft is edited and
published, blocks name only the shop's own products, categories and pictures,
bad input is a 4xx with a field message and writes nothing, another shop's
seller gets 404, and shoppers follow shops idempotently."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.shops import decoration as services
from shopyard.shops import decoration_queries
from shopyard.shops.models import (
    ShopBlock,
    ShopCategory,
    ShopFollow,
    ShopImage,
    ShopPage,
    ShopProfile,
)
from tests import factories as f


def draft_rows(shop):
    return list(ShopBlock.objects.filter(shop=shop, version="draft").order_by("position")
                .values_list("kind", "visible", "config"))


def published_rows(shop):
    return list(ShopBlock.objects.filter(shop=shop, version="published").order_by("position")
                .values_list("kind", "visible", "config"))


# --- publishing --------------------------------------------------------------


def test_publish_copies_the_draft_and_later_edits_stay_in_the_draft(seller, shop, product):
    notice = services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "<p>满199包邮</p>"})
    services.add_block(actor=seller, shop=shop, kind="product_grid",
                       config={"source": "products", "product_ids": [product.pk], "limit": 4})
    assert published_rows(shop) == []
    page = services.publish(actor=seller, shop=shop)
    assert page.published_at is not None and page.has_unpublished_changes is False
    assert published_rows(shop) == [("notice", True, {"html": "<p>满199包邮</p>", "html_en": ""}),
                                    ("product_grid", True, {"source": "products", "product_ids": [product.pk],
                                                            "limit": 4})]
    # when: the seller edits the draft after publishing
    services.update_block(actor=seller, shop=shop, block_id=notice.pk, config={"html": "<p>今日休息</p>"})
    # then: the public page is unchanged and the page says so
    assert published_rows(shop)[0][2]["html"] == "<p>满199包邮</p>"
    assert draft_rows(shop)[0][2]["html"] == "<p>今日休息</p>"
    assert ShopPage.objects.get(shop=shop).has_unpublished_changes is True
    services.publish(actor=seller, shop=shop)
    assert published_rows(shop)[0][2]["html"] == "<p>今日休息</p>"
    assert ShopBlock.objects.filter(shop=shop).count() == 4  # two draft, two published: no leftovers


def test_reorder_hide_and_delete(seller, shop):
    a = services.add_block(actor=seller, shop=shop, kind="coupons", config={})
    b = services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "B"})
    c = services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "C"})
    services.reorder_blocks(actor=seller, shop=shop, block_ids=[c.pk, a.pk, b.pk])
    assert [k for k, _v, _c in draft_rows(shop)] == ["notice", "coupons", "notice"]
    services.move_block(actor=seller, shop=shop, block_id=b.pk, direction="up")
    assert list(ShopBlock.objects.filter(shop=shop).order_by("position").values_list("pk", flat=True)) == [c.pk, b.pk, a.pk]
    services.update_block(actor=seller, shop=shop, block_id=b.pk, visible=False)
    services.delete_block(actor=seller, shop=shop, block_id=c.pk)
    assert draft_rows(shop) == [("notice", False, {"html": "B", "html_en": ""}), ("coupons", True, {"limit": 6})]
    # a reorder that leaves a block out changes nothing
    with pytest.raises(ValidationFailed) as exc:
        services.reorder_blocks(actor=seller, shop=shop, block_ids=[b.pk])
    assert "block_ids" in exc.value.fields
    assert list(ShopBlock.objects.filter(shop=shop).order_by("position").values_list("pk", flat=True)) == [b.pk, a.pk]


def test_notice_html_is_sanitised(seller, shop):
    block = services.add_block(actor=seller, shop=shop, kind="notice", config={
        "html": '<p onclick="x()">公告<script>alert(1)</script></p><a href="javascript:alert(1)">x</a>',
        "html_en": "<h2>Notice</h2><style>body{}</style>"})
    assert block.config == {"html": '<p>公告</p><a rel="noopener noreferrer nofollow">x</a>',
                            "html_en": "<h2>Notice</h2>"}


# --- refused input: nothing written -------------------------------------------------


def test_foreign_products_categories_and_images_are_refused(seller, shop, product, other_shop, media):
    foreign_product = f.make_product(other_shop, title="别家商品")
    foreign_category = ShopCategory.objects.create(shop=other_shop, name="别家分类")
    foreign_image = services.add_image(actor=other_shop.members.first().user, shop=other_shop,
                                       upload=f.png_upload())
    attempts = [
        ("product_grid", {"source": "products", "product_ids": [product.pk, foreign_product.pk]}, "config.product_ids"),
        ("product_grid", {"source": "category", "category_id": foreign_category.pk}, "config.category_id"),
        ("banner", {"slides": [{"image_id": foreign_image.pk, "link": "/"}]}, "config.slides"),
    ]
    for kind, config, field in attempts:
        with pytest.raises(NotFound) as exc:
            services.add_block(actor=seller, shop=shop, kind=kind, config=config)
        assert list(exc.value.fields) == [field]
    category = services.create_category(actor=seller, shop=shop, name="新品")
    with pytest.raises(NotFound) as exc:
        services.set_category_products(actor=seller, shop=shop, category_id=category.pk,
                                       product_ids=[product.pk, foreign_product.pk])
    assert list(exc.value.fields) == ["product_ids"]
    assert ShopBlock.objects.filter(shop=shop).count() == 0
    assert list(category.products.all()) == []
    with pytest.raises(NotFound):
        services.set_category_products(actor=seller, shop=shop, category_id=foreign_category.pk, product_ids=[])
    with pytest.raises(NotFound):
        services.create_category(actor=seller, shop=shop, name="子", parent_id=foreign_category.pk)
    assert ShopCategory.objects.filter(shop=shop).count() == 1


@pytest.mark.parametrize(("kind", "config", "field"), [
    ("banner", {"slides": []}, "config.slides"),
    ("banner", {"slides": "1"}, "config.slides"),
    ("banner", {"slides": [{"image_id": "²"}]}, "config.slides"),
    ("product_grid", {"source": "products", "product_ids": ["abc"]}, "config.product_ids"),
    ("product_grid", {"source": "products", "product_ids": [2**70]}, "config.product_ids"),
    ("product_grid", {"source": "products", "product_ids": []}, "config.product_ids"),
    ("product_grid", {"source": "category", "category_id": "x"}, "config.category_id"),
    ("product_grid", {"source": "elsewhere"}, "config.source"),
    ("product_grid", {"source": "products", "product_ids": [1], "limit": 0}, "config.limit"),
    ("product_grid", {"source": "products", "product_ids": [1], "limit": 10**9}, "config.limit"),
    ("notice", {"html": ""}, "config.html"),
    ("notice", {"html": 5}, "config.html"),
    ("notice", {"html": "x" * 20001}, "config.html"),
    ("coupons", {"limit": -1}, "config.limit"),
    ("coupons", {"limit": True}, "config.limit"),
    ("unknown", {}, "kind"),
])
def test_bad_block_settings_are_field_errors(seller, shop, kind, config, field):
    with pytest.raises((ValidationFailed, NotFound)) as exc:
        services.add_block(actor=seller, shop=shop, kind=kind, config=config)
    assert field in exc.value.fields
    assert ShopBlock.objects.count() == 0 and not ShopPage.objects.filter(shop=shop, draft_updated_at__isnull=False).exists()


def test_banner_links_must_be_web_addresses_or_site_paths(seller, shop, media):
    image = services.add_image(actor=seller, shop=shop, upload=f.png_upload())
    for bad in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x", "ftp://x"):
        with pytest.raises(ValidationFailed):
            services.add_block(actor=seller, shop=shop, kind="banner",
                               config={"slides": [{"image_id": image.pk, "link": bad}]})
    block = services.add_block(actor=seller, shop=shop, kind="banner", config={"slides": [
        {"image_id": image.pk, "link": "https://example.com/sale"}, {"image_id": str(image.pk), "link": "/c/phones/"}]})
    assert block.config["slides"] == [{"image_id": image.pk, "link": "https://example.com/sale", "alt": ""},
                                      {"image_id": image.pk, "link": "/c/phones/", "alt": ""}]


def test_images_of_the_wrong_type_or_too_large_are_refused(seller, shop, media):
    text = SimpleUploadedFile("x.png", b"not a picture", content_type="image/png")
    with pytest.raises(ValidationFailed) as exc:
        services.add_image(actor=seller, shop=shop, upload=text)
    assert list(exc.value.fields) == ["image"]
    huge = SimpleUploadedFile("big.png", b"0" * (services.MAX_IMAGE_BYTES + 1), content_type="image/png")
    with pytest.raises(ValidationFailed) as exc:
        services.set_logo(actor=seller, shop=shop, upload=huge)
    assert list(exc.value.fields) == ["logo"]
    assert ShopImage.objects.count() == 0 and not ShopProfile.objects.filter(shop=shop).exclude(logo="").exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_profile_promises_must_be_known(seller, shop):
    with pytest.raises(ValidationFailed) as exc:
        services.update_profile(actor=seller, shop=shop, description="新描述", promises=["returns_7d", "lifetime"])
    assert list(exc.value.fields) == ["promises"]
    shop.refresh_from_db()
    assert shop.description != "新描述" and not ShopProfile.objects.filter(shop=shop).exists()
    profile = services.update_profile(actor=seller, shop=shop, description="正品保障", description_en="Genuine only",
                                      promises=["ships_48h", "returns_7d", "ships_48h"])
    assert profile.promises == ["returns_7d", "ships_48h"]  # the catalogue's order, once each


def test_category_tree_has_two_levels(seller, shop, product):
    root = services.create_category(actor=seller, shop=shop, name="手机", name_en="Phones")
    child = services.create_category(actor=seller, shop=shop, name="旗舰", parent_id=root.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.create_category(actor=seller, shop=shop, name="太深", parent_id=child.pk)
    assert list(exc.value.fields) == ["parent_id"]
    with pytest.raises(ValidationFailed):
        services.update_category(actor=seller, shop=shop, category_id=root.pk, name="手机", parent_id=root.pk)
    services.set_category_products(actor=seller, shop=shop, category_id=child.pk, product_ids=[product.pk, product.pk])
    tree = decoration_queries.category_tree(shop)
    assert [(r.name, r.product_count, [(c.name, c.product_count) for c in r.child_list]) for r in tree] == [
        ("手机", 0, [("旗舰", 1)])]
    services.delete_category(actor=seller, shop=shop, category_id=root.pk)
    assert ShopCategory.objects.filter(shop=shop).count() == 0
    product.refresh_from_db()  # the product stays


# --- follows ---------------------------------------------------------------------


def test_follow_and_unfollow_are_idempotent(shopper, shop, other_shop):
    first = services.follow_shop(actor=shopper, shop_id=shop.pk)
    again = services.follow_shop(actor=shopper, shop_id=str(shop.pk))
    assert first.pk == again.pk and ShopFollow.objects.filter(user=shopper).count() == 1
    services.follow_shop(actor=shopper, shop_id=other_shop.pk)
    assert [s.pk for s in decoration_queries.followed_shops(shopper)] == [other_shop.pk, shop.pk]
    services.unfollow_shop(actor=shopper, shop_id=shop.pk)
    services.unfollow_shop(actor=shopper, shop_id=shop.pk)
    assert [s.pk for s in decoration_queries.followed_shops(shopper)] == [other_shop.pk]
    for junk in ("abc", 0, -1, 2**70, "٣"):
        with pytest.raises(NotFound):
            services.follow_shop(actor=shopper, shop_id=junk)
    assert ShopFollow.objects.filter(user=shopper).count() == 1


def test_a_suspended_shop_cannot_be_followed_and_leaves_the_list(shopper, shop):
    from shopyard.shops.services import suspend_shop

    services.follow_shop(actor=shopper, shop_id=shop.pk)
    suspend_shop(actor=f.make_user(is_staff=True), shop_id=shop.pk, reason="检查")
    assert list(decoration_queries.followed_shops(shopper)) == []
    with pytest.raises(NotFound):
        services.follow_shop(actor=shopper, shop_id=shop.pk)


# --- API -------------------------------------------------------------------------


def test_api_decorate_preview_publish_and_shopper_home(api, seller_token, shopper_token, shop, product):
    category = api.post("/seller/shop/categories", {"name": "热卖", "name_en": "Hot"}, token=seller_token)
    assert category.status_code == 201, category.content
    cat_id = category.json()["id"]
    assigned = api.put(f"/seller/shop/categories/{cat_id}/products", {"product_ids": [product.pk]}, token=seller_token)
    assert assigned.status_code == 200 and assigned.json()["product_count"] == 1
    grid = api.post("/seller/shop/decoration/blocks", {"kind": "product_grid", "title": "热卖", "title_en": "Hot",
                                                       "config": {"source": "category", "category_id": cat_id}},
                    token=seller_token)
    assert grid.status_code == 201, grid.content
    assert grid.json()["config"] == {"source": "category", "category_id": cat_id, "limit": 8}
    preview = api.get("/seller/shop/decoration/preview", token=seller_token).json()
    assert [(b["kind"], [p["id"] for p in b["products"]]) for b in preview["blocks"]] == [("product_grid", [product.pk])]
    home = api.get(f"/shops/{shop.pk}/home")
    assert home.status_code == 200 and home.json()["blocks"] == []  # not published yet
    published = api.post("/seller/shop/decoration/publish", token=seller_token)
    assert published.status_code == 200 and published.json()["has_unpublished_changes"] is False
    body = api.get(f"/shops/{shop.pk}/home", headers={"Accept-Language": "en"}).json()
    assert [(b["kind"], b["title"], [p["id"] for p in b["products"]]) for b in body["blocks"]] == [
        ("product_grid", "Hot", [product.pk])]
    assert body["rating"]["count"] == 0 and body["following"] is False
    # the shopper follows through the API, twice
    assert api.put(f"/followed-shops/{shop.pk}", token=shopper_token).status_code == 204
    assert api.put(f"/followed-shops/{shop.pk}", token=shopper_token).status_code == 204
    listed = api.get("/followed-shops", token=shopper_token).json()
    assert [s["id"] for s in listed] == [shop.pk]
    assert api.get(f"/shops/{shop.pk}/home", token=shopper_token).json()["following"] is True
    assert api.delete(f"/followed-shops/{shop.pk}", token=shopper_token).status_code == 204
    assert api.delete(f"/followed-shops/{shop.pk}", token=shopper_token).status_code == 204
    assert api.get("/followed-shops", token=shopper_token).json() == []


def test_api_foreign_ids_are_404_with_field_and_nothing_written(api, seller_token, shop, other_shop):
    foreign = f.make_product(other_shop)
    resp = api.post("/seller/shop/decoration/blocks", {"kind": "product_grid",
                                                       "config": {"source": "products", "product_ids": [foreign.pk]}},
                    token=seller_token)
    assert resp.status_code == 404 and list(resp.json()["fields"]) == ["config.product_ids"]
    foreign_cat = ShopCategory.objects.create(shop=other_shop, name="别家")
    other_block = ShopBlock.objects.create(shop=other_shop, kind="coupons", config={"limit": 6})
    # another shop's seller can neither read nor change this shop's categories and blocks
    assert api.put(f"/seller/shop/categories/{foreign_cat.pk}", {"name": "改"}, token=seller_token).status_code == 404
    assert api.delete(f"/seller/shop/categories/{foreign_cat.pk}", token=seller_token).status_code == 404
    assert api.patch(f"/seller/shop/decoration/blocks/{other_block.pk}", {"visible": False},
                     token=seller_token).status_code == 404
    assert api.delete(f"/seller/shop/decoration/blocks/{other_block.pk}", token=seller_token).status_code == 404
    assert api.get("/seller/shop/categories", token=seller_token).json() == []
    assert api.get("/seller/shop/decoration", token=seller_token).json()["draft"] == []
    foreign_cat.refresh_from_db()
    other_block.refresh_from_db()
    assert foreign_cat.name == "别家" and other_block.visible is True
    assert ShopBlock.objects.filter(shop=shop).count() == 0


@pytest.mark.parametrize(("path", "body"), [
    ("/seller/shop/decoration/blocks", {"kind": "poster", "config": {}}),
    ("/seller/shop/decoration/blocks", {"kind": "notice", "config": []}),
    ("/seller/shop/decoration/blocks", {"kind": "notice", "config": {"html": ""}}),
    ("/seller/shop/decoration/blocks", {"kind": "coupons", "config": {"limit": "lots"}}),
    ("/seller/shop/decoration/blocks", {"kind": "coupons", "title": "x" * 61}),
    ("/seller/shop/categories", {"name": ""}),
    ("/seller/shop/categories", {"name": "a", "parent_id": "x"}),
    ("/seller/shop/categories", {"name": "a", "parent_id": 2**60}),
    ("/seller/shop/categories", [1, 2]),
])
def test_api_bad_input_is_4xx_with_fields(api, seller_token, shop, path, body):
    resp = api.post(path, body, token=seller_token)
    assert 400 <= resp.status_code < 500 and resp.status_code != 401, resp.content
    assert resp.json()["code"] in ("validation_error", "not_found", "invalid")
    assert ShopBlock.objects.count() == 0 and ShopCategory.objects.count() == 0


def test_api_garbage_ids_and_non_members(api, seller_token, shopper_token, shop):
    assert api.patch("/seller/shop/decoration/blocks/abc", {}, token=seller_token).status_code == 422
    assert api.patch(f"/seller/shop/decoration/blocks/{2**70}", {}, token=seller_token).status_code == 422
    assert api.get("/shops/0/home").status_code == 422
    assert api.get("/shops/999999/home").status_code == 404
    assert api.put("/followed-shops/999999", token=shopper_token).status_code == 404
    assert api.get("/seller/shop/decoration", token=shopper_token).status_code == 403
    assert api.put("/seller/shop/decoration/order", {"block_ids": [1, 1]}, token=seller_token).status_code == 404


def test_api_reorder_and_logo_upload(api, client, seller_token, seller, shop, media):
    a = services.add_block(actor=seller, shop=shop, kind="coupons", config={})
    b = services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "B"})
    resp = api.put("/seller/shop/decoration/order", {"block_ids": [b.pk, a.pk]}, token=seller_token)
    assert resp.status_code == 200 and [x["id"] for x in resp.json()["draft"]] == [b.pk, a.pk]
    up = client.post("/api/v1/seller/shop/logo", {"image": f.png_upload("logo.png")}, **f.auth(seller_token))
    assert up.status_code == 200 and up.json()["logo_url"].startswith("/media/shops/logos/")
    text = SimpleUploadedFile("x.png", b"hello", content_type="image/png")
    bad = client.post("/api/v1/seller/shop/images", {"image": text}, **f.auth(seller_token))
    assert bad.status_code == 422 and list(bad.json()["fields"]) == ["image"] and ShopImage.objects.count() == 0
    profile = api.put("/seller/shop/profile", {"description": "正品", "description_en": "Genuine",
                                                "promises": ["genuine", "ships_48h"]}, token=seller_token)
    assert profile.status_code == 200 and profile.json()["promises"] == ["ships_48h", "genuine"]
    assert api.put("/seller/shop/profile", {"promises": ["forever"]}, token=seller_token).status_code == 422


def test_suspended_shop_home_is_404_and_its_console_api_is_read_only(api, seller_token, shop):
    from shopyard.shops.services import suspend_shop

    suspend_shop(actor=f.make_user(is_staff=True), shop_id=shop.pk, reason="检查")
    assert api.get(f"/shops/{shop.pk}/home").status_code == 404
    assert api.get("/seller/shop/decoration", token=seller_token).status_code == 200
    resp = api.post("/seller/shop/decoration/blocks", {"kind": "coupons"}, token=seller_token)
    assert resp.status_code == 403 and ShopBlock.objects.count() == 0


# --- demo ------------------------------------------------------------------------


def test_demo_shops_have_decorated_home_pages_in_both_languages(db, client, media):
    from django.core.management import call_command

    from shopyard.shops.models import Shop

    call_command("load_demo", "--products", "12", "--no-orders", stdout=io.StringIO())
    shop = Shop.objects.get(slug="galaxy-digital")
    kinds = list(ShopBlock.objects.filter(shop=shop, version="published").order_by("position")
                 .values_list("kind", flat=True))
    assert kinds == ["banner", "notice", "coupons", "product_grid", "product_grid"]
    assert all(ShopPage.objects.filter(shop=s, published_at__isnull=False).exists() for s in Shop.objects.all())
    zh = client.get(f"/shop/{shop.slug}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    en = client.get(f"/shop/{shop.slug}/").content.decode()
    assert "店铺公告" in zh and "店长推荐" in zh and "shop-carousel" in zh
    assert "Shop notice" in en and "Our picks" in en and "authorised dealer" in en
    assert ShopCategory.objects.filter(shop=shop).exists() and ShopProfile.objects.get(shop=shop).logo
