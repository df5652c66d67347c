"""Seller console pages for the shop's face, driven through the test client as
a seller would: the profile (logo, zh/en description, service promises), the
shop's own categories with their products, and the home-page editor (add,
edit, reorder, hide, delete, publish). Bad input shows field messages with
nothing written; another shop's rows are 404; a suspended shop is read-only."""

import pytest
from django.urls import reverse

from shopyard.shops import decoration as services
from shopyard.shops.models import ShopBlock, ShopCategory, ShopImage, ShopProfile
from shopyard.shops.services import suspend_shop
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_pages_render_for_the_seller(seller_client, seller, shop, product):
    category = services.create_category(actor=seller, shop=shop, name="热卖")
    block = services.add_block(actor=seller, shop=shop, kind="notice", config={"html": "公告"})
    for url in (reverse("console:shop_profile"), reverse("console:shop_categories"),
                reverse("console:shop_category", args=[category.pk]), reverse("console:decoration"),
                reverse("console:decoration") + "?kind=product_grid", reverse("console:decoration") + "?kind=notice",
                reverse("console:decoration") + "?kind=coupons", reverse("console:decoration") + "?kind=junk",
                reverse("console:decoration_block", args=[block.pk])):
        resp = seller_client.get(url)
        assert resp.status_code == 200, url


def test_profile_form_saves_descriptions_and_promises(seller_client, shop, media):
    resp = seller_client.post(reverse("console:shop_profile"), {
        "description": "官方授权", "description_en": "Authorised", "promises": ["ships_48h", "returns_7d"]})
    assert resp.status_code == 302
    shop.refresh_from_db()
    profile = ShopProfile.objects.get(shop=shop)
    assert (shop.description, profile.description_en, profile.promises) == (
        "官方授权", "Authorised", ["returns_7d", "ships_48h"])
    bad = seller_client.post(reverse("console:shop_profile"), {"description": "x" * 2001, "promises": ["returns_7d"]})
    assert bad.status_code == 422 and "Use at most 2000 characters." in bad.content.decode()
    shop.refresh_from_db()
    assert shop.description == "官方授权"
    logo = seller_client.post(reverse("console:shop_logo"), {"logo": f.png_upload("logo.png")})
    assert logo.status_code == 302
    assert ShopProfile.objects.get(shop=shop).logo.name.startswith("shops/logos/")


def test_wrong_type_logo_is_refused_with_a_message(seller_client, shop, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = seller_client.post(reverse("console:shop_logo"),
                              {"logo": SimpleUploadedFile("a.png", b"<svg/>", content_type="image/png")}, follow=True)
    assert "Upload a valid JPEG, PNG, WebP or GIF image." in resp.content.decode()
    assert not ShopProfile.objects.filter(shop=shop).exclude(logo="").exists()


def test_categories_create_assign_and_delete(seller_client, shop, product, other_shop):
    foreign = f.make_product(other_shop)
    assert seller_client.post(reverse("console:shop_categories"), {"name": "手机", "name_en": "Phones"}).status_code == 302
    category = ShopCategory.objects.get(shop=shop)
    url = reverse("console:shop_category", args=[category.pk])
    assert seller_client.post(url, {"name": "手机", "product_ids": [product.pk]}).status_code == 302
    assert list(category.products.values_list("pk", flat=True)) == [product.pk]
    # another shop's product: 404 with the field message, nothing changed (the rename neither)
    resp = seller_client.post(url, {"name": "改名", "product_ids": [product.pk, foreign.pk]})
    assert resp.status_code == 404 and "Pick products of your own shop." in resp.content.decode()
    category.refresh_from_db()
    assert category.name == "手机" and list(category.products.values_list("pk", flat=True)) == [product.pk]
    empty = seller_client.post(reverse("console:shop_categories"), {"name": ""})
    assert empty.status_code == 422 and ShopCategory.objects.filter(shop=shop).count() == 1
    assert seller_client.post(reverse("console:shop_category_delete", args=[category.pk])).status_code == 302
    assert ShopCategory.objects.filter(shop=shop).count() == 0


def test_editor_adds_reorders_hides_deletes_and_publishes(seller_client, shop, product, media):
    editor = reverse("console:decoration")
    assert seller_client.post(reverse("console:decoration_image"), {"image": f.png_upload()}).status_code == 302
    image = ShopImage.objects.get(shop=shop)
    seller_client.post(reverse("console:decoration_add"), {
        "kind": "banner", "visible": "1", "slide_image_1": image.pk, "slide_link_1": "/c/phones/"})
    seller_client.post(reverse("console:decoration_add"), {
        "kind": "product_grid", "visible": "1", "source": "products", "product_ids": [product.pk], "limit": "4"})
    seller_client.post(reverse("console:decoration_add"), {"kind": "notice", "visible": "1", "html": "<p>公告</p>"})
    draft = list(ShopBlock.objects.filter(shop=shop, version="draft").order_by("position"))
    assert [b.kind for b in draft] == ["banner", "product_grid", "notice"]
    action = lambda b, a: seller_client.post(reverse("console:decoration_block_action", args=[b.pk]), {"action": a})  # noqa: E731
    action(draft[2], "up")
    action(draft[0], "hide")
    action(draft[1], "delete")
    rows = list(ShopBlock.objects.filter(shop=shop, version="draft").order_by("position").values_list("kind", "visible"))
    assert rows == [("banner", False), ("notice", True)]
    edit = seller_client.post(reverse("console:decoration_block", args=[draft[2].pk]),
                              {"visible": "1", "title": "公告", "html": "<p>新公告</p>"})
    assert edit.status_code == 302
    assert ShopBlock.objects.filter(shop=shop, version="published").count() == 0
    page = seller_client.get(editor).content.decode()
    assert "Not published yet" in page
    assert seller_client.post(reverse("console:decoration_publish")).status_code == 302
    assert list(ShopBlock.objects.filter(shop=shop, version="published").order_by("position")
                .values_list("kind", "visible", "title")) == [("banner", False, ""), ("notice", True, "公告")]


def test_editor_refuses_bad_blocks_with_field_messages(seller_client, shop, other_shop):
    foreign = f.make_product(other_shop)
    resp = seller_client.post(reverse("console:decoration_add"), {
        "kind": "product_grid", "visible": "1", "source": "products", "product_ids": [foreign.pk]})
    assert resp.status_code == 404 and "Pick products of your own shop." in resp.content.decode()
    resp = seller_client.post(reverse("console:decoration_add"), {"kind": "banner", "visible": "1"})
    assert resp.status_code == 422 and "Add at least one picture." in resp.content.decode()
    resp = seller_client.post(reverse("console:decoration_add"), {"kind": "coupons", "limit": "９"})
    assert resp.status_code == 422
    resp = seller_client.post(reverse("console:decoration_add"), {"kind": "poster"})
    assert resp.status_code == 422
    assert ShopBlock.objects.count() == 0


def test_another_shops_rows_are_404(seller_client, other_shop):
    owner = other_shop.members.first().user
    category = services.create_category(actor=owner, shop=other_shop, name="别家")
    block = services.add_block(actor=owner, shop=other_shop, kind="notice", config={"html": "别家公告"})
    assert seller_client.get(reverse("console:shop_category", args=[category.pk])).status_code == 404
    assert seller_client.post(reverse("console:shop_category", args=[category.pk]), {"name": "改"}).status_code == 404
    assert seller_client.post(reverse("console:shop_category_delete", args=[category.pk])).status_code == 404
    assert seller_client.get(reverse("console:decoration_block", args=[block.pk])).status_code == 404
    assert seller_client.post(reverse("console:decoration_block_action", args=[block.pk]),
                              {"action": "delete"}).status_code == 404
    assert ShopBlock.objects.filter(pk=block.pk, visible=True).exists()
    assert ShopCategory.objects.filter(pk=category.pk, name="别家").exists()


def test_suspended_shop_editor_is_read_only(seller_client, shop):
    suspend_shop(actor=f.make_user(is_staff=True), shop_id=shop.pk, reason="检查")
    assert seller_client.get(reverse("console:decoration")).status_code == 200
    resp = seller_client.post(reverse("console:decoration_add"), {"kind": "coupons"})
    assert resp.status_code == 403 and ShopBlock.objects.count() == 0
