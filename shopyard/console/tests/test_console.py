"""Seller console pages, driven through the Django test client as a seller would."""

import io
import random
from decimal import Decimal

import pytest
from django.urls import reverse
from PIL import Image

from shopyard.catalog.models import Product, ProductImage, Sku
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order
from shopyard.orders.services import mark_paid
from shopyard.shipping.models import Shipment
from shopyard.shops.models import ShopMember
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def png_bytes(size=(64, 48), colour=(255, 80, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def upload(name, data, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def editor_post(category, *, title="纯棉T恤", attributes=(), rows=(), action="save", **extra):
    """The POST body the product editor sends. `rows`: dicts with options, code, price, stock, active."""
    data = {
        "action": action, "category_id": str(category.pk), "brand_id": "", "title": title,
        "title_en": "Cotton T-shirt", "description": "舒适", "description_en": "Comfortable",
        "code_base": "TEE", "sku_rows": str(len(rows)),
    }
    for i, (name, name_en, options, options_en) in enumerate(attributes):
        data.update({f"attr-{i}-name": name, f"attr-{i}-name_en": name_en,
                     f"attr-{i}-options": options, f"attr-{i}-options_en": options_en})
    for n, row in enumerate(rows):
        for k, value in enumerate(row.get("options", [])):
            data[f"sku-{n}-opt-{k}"] = value
        data[f"sku-{n}-code"] = row["code"]
        data[f"sku-{n}-price"] = row["price"]
        data[f"sku-{n}-stock"] = row["stock"]
        if "stock_seen" in row:
            data[f"sku-{n}-stock_seen"] = row["stock_seen"]
        if row.get("active", True):
            data[f"sku-{n}-active"] = "1"
    data.update(extra)
    return data


COLOUR_SIZE = [("颜色", "Colour", "红色, 蓝色", "Red, Blue"), ("尺码", "Size", "M，L", "M, L")]
FOUR_ROWS = [
    {"options": ["红色", "M"], "code": "TEE-RM", "price": "59.00", "stock": "10"},
    {"options": ["红色", "L"], "code": "TEE-RL", "price": "69.00", "stock": "5"},
    {"options": ["蓝色", "M"], "code": "TEE-BM", "price": "59.00", "stock": "0"},
    {"options": ["蓝色", "L"], "code": "TEE-BL", "price": "79.50", "stock": "3"},
]


def stock_of(sku):
    sku.refresh_from_db()
    return sku.stock.quantity


# --- access --------------------------------------------------------------

def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=/console/" in response["Location"]


def test_non_member_gets_403_on_every_page(client, shopper, product):
    client.force_login(shopper)
    for url in [reverse("console:dashboard"), reverse("console:products"), reverse("console:orders"),
                reverse("console:product_edit", args=[product.pk])]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "This page is for sellers" in response.content.decode()


def test_dashboard_shows_counts(seller_client, shop, product, shopper, address):
    f.make_product(shop, publish=False)
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": product.skus.get().pk, "quantity": 2}])
    mark_paid(actor=None, order=placed.order_ids[0])
    response = seller_client.get(reverse("console:dashboard"))
    assert response.status_code == 200
    stats = response.context["stats"]
    assert (stats["published"], stats["draft"], stats["to_ship"], stats["pending"], stats["today"]) == (1, 1, 1, 0, 1)
    # 2 × 59.90 + 10.00 shipping (under the 199 free-shipping threshold)
    assert stats["today_sales"] == Decimal("129.8000")
    assert "¥129.80" in response.content.decode()


def test_shop_selector_switches_between_memberships(seller_client, seller, shop, other_shop):
    f.make_product(other_shop, title="青木木椅")
    ShopMember.objects.create(shop=other_shop, user=seller, role=ShopMember.Role.MANAGER)
    assert seller_client.get(reverse("console:dashboard") + f"?shop={other_shop.pk}").status_code == 200
    page = seller_client.get(reverse("console:products")).content.decode()
    assert "青木木椅" in page
    assert seller_client.get(reverse("console:dashboard") + f"?shop={shop.pk}").status_code == 200
    assert "青木木椅" not in seller_client.get(reverse("console:products")).content.decode()


def test_shop_selector_refuses_a_shop_the_user_is_not_in(seller_client, other_shop):
    assert seller_client.get(reverse("console:dashboard") + f"?shop={other_shop.pk}").status_code == 404


# --- products ------------------------------------------------------------

def test_products_list_search_and_status_filter(seller_client, shop, other_shop):
    f.make_product(shop, title="无线耳机", price="199.00", stock=7)
    f.make_product(shop, title="机械键盘", publish=False, skus=[("299.00", 2), ("349.00", 3)])
    f.make_product(other_shop, title="无线台灯")

    page = seller_client.get(reverse("console:products"), {"q": "无线"}).content.decode()
    assert "无线耳机" in page and "机械键盘" not in page and "无线台灯" not in page

    response = seller_client.get(reverse("console:products"), {"status": "draft"})
    rows = list(response.context["page"].object_list)
    assert [p.title for p in rows] == ["机械键盘"]
    assert rows[0].total_stock == 5
    assert "¥299.00 – ¥349.00" in response.content.decode()


def test_publish_and_unpublish(seller_client, shop):
    product = f.make_product(shop, publish=False)
    url = reverse("console:product_publish", args=[product.pk])
    assert seller_client.post(url, {"published": "1"}).status_code == 302
    product.refresh_from_db()
    assert product.status == Product.Status.PUBLISHED
    assert seller_client.post(url, {"published": "0"}).status_code == 302
    product.refresh_from_db()
    assert product.status == Product.Status.DRAFT


def test_generate_builds_the_cartesian_product_and_keeps_typed_rows(seller_client):
    category = f.make_category()
    typed = [{"options": ["红色", "M"], "code": "TEE-RM", "price": "59.00", "stock": "10"}]
    response = seller_client.post(reverse("console:product_create"),
                                  editor_post(category, attributes=COLOUR_SIZE, rows=typed, action="generate"))
    assert response.status_code == 200
    rows = response.context["state"].rows
    assert [r.options for r in rows] == [["红色", "M"], ["红色", "L"], ["蓝色", "M"], ["蓝色", "L"]]
    assert (rows[0].code, rows[0].price, rows[0].stock) == ("TEE-RM", "59.00", "10")
    assert len({r.code for r in rows}) == 4
    assert Product.objects.count() == 0


def test_create_product_with_two_attributes_and_four_skus(seller_client, shop):
    category = f.make_category()
    response = seller_client.post(reverse("console:product_create"),
                                  editor_post(category, attributes=COLOUR_SIZE, rows=FOUR_ROWS, publish="1"))
    assert response.status_code == 302
    product = Product.objects.get(shop=shop)
    assert response["Location"] == reverse("console:product_edit", args=[product.pk])
    assert (product.title, product.title_en, product.category_id) == ("纯棉T恤", "Cotton T-shirt", category.pk)
    assert product.status == Product.Status.PUBLISHED
    assert (product.min_price, product.max_price) == (Decimal("59.00"), Decimal("79.50"))
    assert [(a.name, a.name_en, [(o.value, o.value_en) for o in a.options.all()]) for a in product.attributes.all()] == [
        ("颜色", "Colour", [("红色", "Red"), ("蓝色", "Blue")]),
        ("尺码", "Size", [("M", "M"), ("L", "L")]),
    ]
    skus = {s.code: s for s in product.skus.all()}
    assert {c: (s.price, s.name, stock_of(s)) for c, s in skus.items()} == {
        "TEE-RM": (Decimal("59.00"), "红色 / M", 10),
        "TEE-RL": (Decimal("69.00"), "红色 / L", 5),
        "TEE-BM": (Decimal("59.00"), "蓝色 / M", 0),
        "TEE-BL": (Decimal("79.50"), "蓝色 / L", 3),
    }
    # the saved product reopens in the editor with the same table
    page = seller_client.get(response["Location"])
    assert [r.code for r in page.context["state"].rows] == ["TEE-RM", "TEE-RL", "TEE-BM", "TEE-BL"]


def test_invalid_price_is_422_with_the_error_on_that_row_and_nothing_saved(seller_client):
    category = f.make_category()
    rows = [dict(r) for r in FOUR_ROWS]
    rows[2]["price"] = "12.345"
    response = seller_client.post(reverse("console:product_create"),
                                  editor_post(category, attributes=COLOUR_SIZE, rows=rows))
    assert response.status_code == 422
    state = response.context["state"]
    assert state.rows[2].errors == {"price": ["Use at most two decimal places."]}
    assert not state.rows[0].errors
    page = response.content.decode()
    assert "Use at most two decimal places." in page and 'value="12.345"' in page
    assert Product.objects.count() == 0 and Sku.objects.count() == 0


def test_missing_title_and_category_are_shown_next_to_their_fields(seller_client):
    category = f.make_category()
    data = editor_post(category, title="", rows=[{"code": "X-1", "price": "1", "stock": "1"}], category_id="")
    response = seller_client.post(reverse("console:product_create"), data)
    assert response.status_code == 422
    assert response.context["state"].errors == {"title": ["This field is required."], "category_id": ["Choose a category."]}
    assert Product.objects.count() == 0


def test_mismatched_english_options_are_refused(seller_client):
    category = f.make_category()
    attrs = [("颜色", "Colour", "红色, 蓝色", "Red")]
    rows = [{"options": ["红色"], "code": "C-1", "price": "5", "stock": "1"}]
    response = seller_client.post(reverse("console:product_create"), editor_post(category, attributes=attrs, rows=rows))
    assert response.status_code == 422
    assert "options_en" in response.context["state"].attributes[0].errors
    assert Product.objects.count() == 0


def test_edit_changes_price_and_stock(seller_client, shop):
    product = f.make_product(shop, skus=[("10.00", 4), ("12.00", 6)])
    url = reverse("console:product_edit", args=[product.pk])
    state = seller_client.get(url).context["state"]
    rows = [{"options": r.options, "code": r.code, "price": r.price, "stock": r.stock} for r in state.rows]
    rows[1].update(price="15.50", stock="20")
    attrs = [(a.name, a.name_en, a.options, a.options_en) for a in state.attributes]
    data = editor_post(product.category, title=product.title, attributes=attrs, rows=rows)
    response = seller_client.post(url, data)
    assert response.status_code == 302
    product.refresh_from_db()
    first, second = product.skus.order_by("id")
    assert (second.price, stock_of(second)) == (Decimal("15.50"), 20)
    assert (first.price, stock_of(first)) == (Decimal("10.00"), 4)
    assert (product.min_price, product.max_price) == (Decimal("10.00"), Decimal("15.50"))


def test_the_seller_edits_the_search_engine_title_and_description(seller_client, shop):
    product = f.make_product(shop)
    url = reverse("console:product_edit", args=[product.pk])
    state = seller_client.get(url).context["state"]
    rows = [{"options": r.options, "code": r.code, "price": r.price, "stock": r.stock} for r in state.rows]
    page = seller_client.get(url).content.decode()
    assert 'name="seo_title"' in page and 'name="seo_description"' in page
    response = seller_client.post(url, editor_post(product.category, title=product.title, rows=rows,
                                                   seo_title="纯棉T恤 夏季新款", seo_description="透气舒适，包邮"))
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.seo_title, product.seo_description) == ("纯棉T恤 夏季新款", "透气舒适，包邮")
    # an over-long title is refused beside its field and nothing changes
    response = seller_client.post(url, editor_post(product.category, title=product.title, rows=rows,
                                                   seo_title="长" * 121))
    assert response.status_code == 422 and response.context["state"].errors["seo_title"]
    product.refresh_from_db()
    assert product.seo_title == "纯棉T恤 夏季新款"


def test_units_sold_while_editing_are_not_written_back(seller_client, shop, shopper, address):
    # given the editor open on a SKU showing 10 in stock
    product = f.make_product(shop, price="20.00", stock=10)
    sku = product.skus.get()
    url = reverse("console:product_edit", args=[product.pk])
    row = seller_client.get(url).context["state"].rows[0]
    assert (row.stock, row.stock_seen) == ("10", "10")
    # when 3 sell meanwhile, and the seller saves a new price with the stock field untouched
    place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 3}])
    data = editor_post(product.category, title=product.title,
                       rows=[{"code": sku.code, "price": "25.00", "stock": "10", "stock_seen": "10"}])
    assert seller_client.post(url, data).status_code == 302
    # then the sale stands: 7 on hand, not 10
    sku.refresh_from_db()
    assert (sku.price, stock_of(sku)) == (Decimal("25.00"), 7)
    # and a change the seller types is applied as a change: +5 → 12
    data = editor_post(product.category, title=product.title,
                       rows=[{"code": sku.code, "price": "25.00", "stock": "12", "stock_seen": "7"}])
    assert seller_client.post(url, data).status_code == 302
    assert stock_of(sku) == 12


def test_lowering_stock_below_what_is_left_is_refused(seller_client, shop, shopper, address):
    product = f.make_product(shop, price="20.00", stock=5)
    sku = product.skus.get()
    url = reverse("console:product_edit", args=[product.pk])
    place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 4}])
    # the form showed 5 and the seller typed 0 (remove 5), but only 1 is left
    data = editor_post(product.category, title="新标题",
                       rows=[{"code": sku.code, "price": "20.00", "stock": "0", "stock_seen": "5"}])
    response = seller_client.post(url, data)
    assert response.status_code == 422
    product.refresh_from_db()
    assert (product.title, stock_of(sku)) != ("新标题", 0)
    assert stock_of(sku) == 1


def test_edit_with_bad_stock_changes_nothing(seller_client, shop, product):
    sku = product.skus.get()
    title = product.title
    url = reverse("console:product_edit", args=[product.pk])
    data = editor_post(product.category, title="改过的标题", rows=[{"code": sku.code, "price": "1.00", "stock": "-3"}])
    response = seller_client.post(url, data)
    assert response.status_code == 422
    assert response.context["state"].rows[0].errors["stock"]
    product.refresh_from_db()
    sku.refresh_from_db()
    assert (product.title, sku.price, stock_of(sku)) == (title, Decimal("59.90"), 10)


def test_other_shops_product_is_404(seller_client, other_shop):
    foreign = f.make_product(other_shop)
    edit = reverse("console:product_edit", args=[foreign.pk])
    assert seller_client.get(edit).status_code == 404
    data = editor_post(foreign.category, title="hijack", rows=[{"code": "H-1", "price": "1", "stock": "1"}])
    assert seller_client.post(edit, data).status_code == 404
    assert seller_client.post(reverse("console:product_publish", args=[foreign.pk]), {"published": "0"}).status_code == 404
    png = upload("a.png", png_bytes(), "image/png")
    assert seller_client.post(reverse("console:image_upload", args=[foreign.pk]), {"images": [png]}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.title != "hijack" and foreign.status == Product.Status.PUBLISHED
    assert not ProductImage.objects.exists()


# --- images --------------------------------------------------------------

def test_upload_real_pngs_makes_images_and_thumbnails(seller_client, product):
    url = reverse("console:image_upload", args=[product.pk])
    files = [upload("front.png", png_bytes((800, 600)), "image/png"), upload("back.png", png_bytes(), "image/png")]
    response = seller_client.post(url, {"images": files})
    assert response.status_code == 302
    images = list(product.images.order_by("position"))
    assert len(images) == 2
    for image in images:
        assert image.image.name.endswith(".png")
        with Image.open(image.thumbnail.path) as thumb:
            assert thumb.format == "JPEG" and max(thumb.size) <= 400
    page = seller_client.get(reverse("console:product_edit", args=[product.pk])).content.decode()
    assert images[0].thumbnail.url in page


def test_text_file_named_jpg_is_refused(seller_client, product):
    url = reverse("console:image_upload", args=[product.pk])
    response = seller_client.post(url, {"images": [upload("x.jpg", b"not an image at all", "image/jpeg")]})
    assert response.status_code == 422
    assert "x.jpg: Upload a valid JPEG, PNG, WebP or GIF image." in response.content.decode()
    assert not ProductImage.objects.exists()


def test_oversized_upload_is_refused(seller_client, product, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    big = io.BytesIO()
    Image.frombytes("RGB", (100, 100), random.Random(1).randbytes(30000)).save(big, "PNG")
    data = big.getvalue()
    assert len(data) > 1024  # a valid PNG, refused only for its size
    response = seller_client.post(reverse("console:image_upload", args=[product.pk]),
                                  {"images": [upload("big.png", data, "image/png")]})
    assert response.status_code == 422
    assert "big.png: The image is larger than" in response.content.decode()
    assert not ProductImage.objects.exists()


def test_no_file_chosen_is_422(seller_client, product):
    response = seller_client.post(reverse("console:image_upload", args=[product.pk]), {})
    assert response.status_code == 422
    assert "Choose at least one image to upload." in response.content.decode()


def test_delete_image(seller_client, product):
    seller_client.post(reverse("console:image_upload", args=[product.pk]),
                       {"images": [upload("a.png", png_bytes(), "image/png")]})
    image = product.images.get()
    response = seller_client.post(reverse("console:image_delete", args=[product.pk, image.pk]))
    assert response.status_code == 302
    assert not product.images.exists()


# --- orders --------------------------------------------------------------

@pytest.fixture
def orders(shop, other_shop, product, shopper, address):
    """One paid and one unpaid order in the seller's shop, one paid order elsewhere."""
    foreign = f.make_product(other_shop, price="30.00")
    own_sku, foreign_sku = product.skus.get(), foreign.skus.get()
    paid = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": own_sku.pk, "quantity": 1}])
    mark_paid(actor=None, order=paid.order_ids[0])
    unpaid = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": own_sku.pk, "quantity": 1}])
    elsewhere = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": foreign_sku.pk, "quantity": 1}])
    mark_paid(actor=None, order=elsewhere.order_ids[0])
    get = Order.objects.get
    return get(pk=paid.order_ids[0]), get(pk=unpaid.order_ids[0]), get(pk=elsewhere.order_ids[0])


def test_orders_list_shows_only_own_shop(seller_client, orders):
    paid, unpaid, elsewhere = orders
    response = seller_client.get(reverse("console:orders"))
    assert response.status_code == 200
    assert [o.pk for o in response.context["page"].object_list] == [unpaid.pk, paid.pk]
    page = response.content.decode()
    assert paid.number in page and unpaid.number in page and elsewhere.number not in page


def test_orders_filter_by_status_and_number(seller_client, orders):
    paid, unpaid, _elsewhere = orders
    listed = seller_client.get(reverse("console:orders"), {"status": "paid"}).context["page"].object_list
    assert [o.pk for o in listed] == [paid.pk]
    listed = seller_client.get(reverse("console:orders"), {"q": unpaid.number[-6:]}).context["page"].object_list
    assert [o.pk for o in listed] == [unpaid.pk]


def test_order_detail_and_other_shops_order_is_404(seller_client, orders):
    paid, _unpaid, elsewhere = orders
    page = seller_client.get(reverse("console:order_detail", args=[paid.pk])).content.decode()
    assert paid.number in page and "张三" in page and "文三路 100 号" in page and "¥69.90" in page
    assert seller_client.get(reverse("console:order_detail", args=[elsewhere.pk])).status_code == 404
    response = seller_client.post(reverse("console:order_ship", args=[elsewhere.pk]),
                                  {"carrier": "sf", "tracking_number": "SF1234567890123"})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == Order.Status.PAID


def test_ship_a_paid_order(seller_client, seller, orders):
    paid, _unpaid, _elsewhere = orders
    response = seller_client.post(reverse("console:order_ship", args=[paid.pk]),
                                  {"carrier": "sf", "tracking_number": "SF1234567890123"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == Order.Status.SHIPPED and paid.shipped_at is not None
    shipment = Shipment.objects.get(order=paid)
    assert (shipment.carrier, shipment.tracking_number, shipment.shipped_by) == ("sf", "SF1234567890123", seller)
    page = seller_client.get(response["Location"]).content.decode()
    assert "SF1234567890123" in page and "SF Express" in page


def test_ship_unpaid_order_is_409(seller_client, orders):
    _paid, unpaid, _elsewhere = orders
    response = seller_client.post(reverse("console:order_ship", args=[unpaid.pk]),
                                  {"carrier": "sf", "tracking_number": "SF1234567890123"})
    assert response.status_code == 409
    assert "Only paid orders can be shipped" in response.content.decode()
    unpaid.refresh_from_db()
    assert unpaid.status == Order.Status.PENDING_PAYMENT
    assert not Shipment.objects.exists()


def test_bad_tracking_number_is_422_on_the_field(seller_client, orders):
    paid, _unpaid, _elsewhere = orders
    response = seller_client.post(reverse("console:order_ship", args=[paid.pk]),
                                  {"carrier": "sf", "tracking_number": "no!"})
    assert response.status_code == 422
    assert response.context["ship_errors"] == {"tracking_number": ["Enter 6 to 40 letters, digits or dashes."]}
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID
    assert not Shipment.objects.exists()


def test_post_without_csrf_token_is_refused(seller, orders):
    from django.test import Client

    paid, _unpaid, _elsewhere = orders
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(seller)
    response = strict.post(reverse("console:order_ship", args=[paid.pk]), {"carrier": "sf", "tracking_number": "SF1234567890123"})
    assert response.status_code == 403
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID


def test_pages_render_in_chinese(seller_client, product, orders):
    paid, _unpaid, _elsewhere = orders
    for url in [reverse("console:dashboard"), reverse("console:products"), reverse("console:product_create"),
                reverse("console:product_edit", args=[product.pk]), reverse("console:orders"),
                reverse("console:order_detail", args=[paid.pk])]:
        response = seller_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, url
        assert 'lang="zh-hans"' in response.content.decode(), url


# --- SKU matrix, image order, SKU pictures (issue 6) ------------------------

def matrix_attrs(*pairs):
    return [{"name": name, "options": [{"value": v} for v in values]} for name, values in pairs]


def sku_state(product):
    """{options tuple: (id, code, price, stock, active)} of every SKU."""
    out = {}
    for sku in product.skus.select_related("stock").prefetch_related("options").order_by("id"):
        out[tuple(o.value for o in sku.options.order_by("attribute__position"))] = (
            sku.pk, sku.code, sku.price, sku.stock.quantity, sku.is_active)
    return out


def test_matrix_from_two_by_two_options_makes_four_skus(shop, seller):
    from shopyard.catalog import services as catalog

    product = f.make_product(shop, price="10.00")
    catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                            attributes=matrix_attrs(("颜色", ["黑", "白"]), ("容量", ["128G", "256G"])),
                            default_price="99.00", default_stock=7)
    state = sku_state(product)
    live = {k: v for k, v in state.items() if v[4]}
    assert sorted(live) == [("白", "128G"), ("白", "256G"), ("黑", "128G"), ("黑", "256G")]
    assert {(v[2], v[3]) for v in live.values()} == {(Decimal("99.00"), 7)}


def test_matrix_regenerated_with_a_new_option_keeps_existing_skus(shop, seller):
    from shopyard.catalog import services as catalog
    from shopyard.inventory import services as inventory

    product = f.make_product(shop, price="10.00")
    catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                            attributes=matrix_attrs(("颜色", ["黑", "白"]), ("容量", ["128G", "256G"])),
                            default_price="99.00", default_stock=7)
    black = product.skus.get(is_active=True, options__value="黑", name__contains="128G")
    black.price = Decimal("120.00")
    black.save()
    inventory.set_stock(sku=black, quantity=3)
    before = {k: v for k, v in sku_state(product).items() if v[4]}

    catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                            attributes=matrix_attrs(("颜色", ["黑", "白", "蓝"]), ("容量", ["128G", "256G"])),
                            default_price="88.00", default_stock=2)

    after = {k: v for k, v in sku_state(product).items() if v[4]}
    for combo, row in before.items():
        assert after[combo] == row
    assert after[("黑", "128G")][2:4] == (Decimal("120.00"), 3)
    assert {after[("蓝", "128G")][2:4], after[("蓝", "256G")][2:4]} == {(Decimal("88.00"), 2)}
    assert len(after) == 6


def test_matrix_without_an_option_deactivates_its_skus(shop, seller):
    from shopyard.catalog import services as catalog

    product = f.make_product(shop, price="10.00")
    catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                            attributes=matrix_attrs(("颜色", ["黑", "白"]), ("容量", ["128G", "256G"])),
                            default_price="99.00")
    white_ids = set(product.skus.filter(name__startswith="白").values_list("pk", flat=True))

    catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                            attributes=matrix_attrs(("颜色", ["黑"]), ("容量", ["128G", "256G"])))

    assert len(white_ids) == 2
    assert set(product.skus.filter(pk__in=white_ids).values_list("is_active", flat=True)) == {False}
    assert product.skus.filter(is_active=True).count() == 2


def test_matrix_price_for_all_rows(shop, seller):
    from shopyard.catalog import services as catalog

    product = f.make_product(shop, price="10.00")
    catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                            attributes=matrix_attrs(("颜色", ["黑", "白"])), default_price="99.00")
    catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                            attributes=matrix_attrs(("颜色", ["黑", "白"])), price_all="45.50", stock_all=4)
    live = product.skus.filter(is_active=True).select_related("stock")
    assert sorted((s.price, s.stock.quantity) for s in live) == [(Decimal("45.50"), 4)] * 2
    product.refresh_from_db()
    assert (product.min_price, product.max_price) == (Decimal("45.50"), Decimal("45.50"))


@pytest.mark.parametrize("attributes, field", [
    ([("a", ["1"]), ("b", ["1"]), ("c", ["1"]), ("d", ["1"])], "attributes"),
    ([("颜色", [str(n) for n in range(21)])], "attributes[0].options"),
    ([("a", [str(n) for n in range(15)]), ("b", [str(n) for n in range(15)])], "attributes"),
])
def test_matrix_limits_are_refused_with_nothing_written(shop, seller, attributes, field):
    from shopyard.catalog import services as catalog
    from shopyard.core.errors import ValidationFailed

    product = f.make_product(shop, price="10.00")
    before = sku_state(product)
    with pytest.raises(ValidationFailed) as exc:
        catalog.sync_sku_matrix(actor=seller, shop=shop, product_id=product.pk,
                                attributes=matrix_attrs(*attributes), default_price="1.00")
    assert list(exc.value.fields) == [field]
    assert sku_state(product) == before
    assert not product.attributes.exists()


def test_matrix_through_the_seller_api(api, seller_token, shop, other_shop):
    product = f.make_product(shop, price="10.00")
    body = {"attributes": matrix_attrs(("颜色", ["黑", "白"]), ("容量", ["128G", "256G"])),
            "default_price": "99.00", "default_stock": 5}
    response = api.put(f"/seller/products/{product.pk}/skus/matrix", body, token=seller_token)
    assert response.status_code == 200
    assert len(response.json()["skus"]) == 4
    too_many = {"attributes": matrix_attrs(("颜色", [str(n) for n in range(21)])), "default_price": "1.00"}
    response = api.put(f"/seller/products/{product.pk}/skus/matrix", too_many, token=seller_token)
    assert response.status_code == 422
    assert product.skus.filter(is_active=True).count() == 4
    new_option = {"attributes": matrix_attrs(("颜色", ["黑", "白", "蓝"]), ("容量", ["128G", "256G"])),
                  "default_price": "abc"}
    response = api.put(f"/seller/products/{product.pk}/skus/matrix", new_option, token=seller_token)
    assert response.status_code == 422
    assert "default_price" in str(response.json())
    assert product.skus.filter(is_active=True).count() == 4
    foreign = f.make_product(other_shop, price="10.00")
    response = api.put(f"/seller/products/{foreign.pk}/skus/matrix", body, token=seller_token)
    assert response.status_code == 404
    assert foreign.skus.count() == 1 and not foreign.attributes.exists()


def test_console_generate_uses_the_new_rows_price_and_stock(seller_client, shop):
    category = f.make_category()
    response = seller_client.post(reverse("console:product_create"), editor_post(
        category, attributes=COLOUR_SIZE, rows=FOUR_ROWS[:1], action="generate",
        default_price="33.00", default_stock="6"))
    assert response.status_code == 200
    rows = response.context["state"].rows
    assert [(r.code, r.price, r.stock) for r in rows] == [
        ("TEE-RM", "59.00", "10"), ("TEE-1", "33.00", "6"), ("TEE-2", "33.00", "6"), ("TEE-3", "33.00", "6")]


def test_console_generate_over_the_limit_shows_the_message(seller_client):
    category = f.make_category()
    opts = ", ".join(str(n) for n in range(21))
    response = seller_client.post(reverse("console:product_create"), editor_post(
        category, attributes=[("颜色", "Colour", opts, "")], action="generate"))
    assert response.status_code == 422
    assert "Give at most 20 options per attribute." in response.content.decode()
    assert Product.objects.count() == 0


def test_console_apply_to_all_then_save(seller_client, shop):
    category = f.make_category()
    response = seller_client.post(reverse("console:product_create"), editor_post(
        category, attributes=COLOUR_SIZE, rows=FOUR_ROWS, action="apply_all", default_price="12.30"))
    assert response.status_code == 200
    assert [r.price for r in response.context["state"].rows] == ["12.30"] * 4
    assert [r.stock for r in response.context["state"].rows] == ["10", "5", "0", "3"]
    assert Product.objects.count() == 0


def add_images(product, n):
    from shopyard.catalog import services as catalog

    return [catalog.attach_image_bytes(product=product, data=png_bytes(colour=(n * 10, 0, 0)), ext="png").pk
            for n in range(n)]


def test_console_arrows_and_make_cover_reorder_images(seller_client, product):
    from shopyard.catalog import queries

    a, b, c = add_images(product, 3)
    response = seller_client.post(reverse("console:image_move", args=[product.pk, c]), {"direction": "up"})
    assert response.status_code == 302
    assert list(product.images.values_list("pk", flat=True)) == [a, c, b]
    seller_client.post(reverse("console:image_move", args=[product.pk, b]), {"direction": "cover"})
    assert list(product.images.values_list("pk", flat=True)) == [b, a, c]
    cover = queries.with_cover(Product.objects.filter(pk=product.pk)).get().image_list[0]
    assert cover.pk == b
    page = seller_client.get(reverse("console:product_edit", args=[product.pk])).content.decode()
    assert page.index(f'data-image-id="{b}"') < page.index(f'data-image-id="{a}"')


def test_console_image_order_and_foreign_image_is_404(seller_client, product, other_shop):
    a, b = add_images(product, 2)
    foreign = f.make_product(other_shop, price="10.00")
    (x,) = add_images(foreign, 1)
    response = seller_client.post(reverse("console:image_order", args=[product.pk]), {"image_ids": [b, a]})
    assert response.status_code == 302
    assert list(product.images.values_list("pk", flat=True)) == [b, a]
    response = seller_client.post(reverse("console:image_order", args=[product.pk]), {"image_ids": [a, x]})
    assert response.status_code == 404
    assert list(product.images.values_list("pk", flat=True)) == [b, a]
    response = seller_client.post(reverse("console:image_move", args=[foreign.pk, x]), {"direction": "up"})
    assert response.status_code == 404


def test_api_image_order_sets_the_cover_and_refuses_foreign_ids(api, seller_token, product, other_shop):
    a, b, c = add_images(product, 3)
    foreign = f.make_product(other_shop, price="10.00")
    (x,) = add_images(foreign, 1)
    url = f"/seller/products/{product.pk}/images/order"
    response = api.put(url, {"image_ids": [c, a, b]}, token=seller_token)
    assert response.status_code == 200
    assert [i["id"] for i in response.json()] == [c, a, b]
    detail = api.get(f"/seller/products/{product.pk}", token=seller_token).json()
    assert [i["id"] for i in detail["images"]] == [c, a, b]
    for bad, status in (([a, b, x], 404), ([a, b], 422), ([a, a, b], 422)):
        response = api.put(url, {"image_ids": bad}, token=seller_token)
        assert response.status_code == status
        assert list(product.images.values_list("pk", flat=True)) == [c, a, b]
    response = api.put(f"/seller/products/{foreign.pk}/images/order", {"image_ids": [x]}, token=seller_token)
    assert response.status_code == 404


def test_console_sku_picture_is_chosen_in_the_sku_rows(seller_client, product, other_shop):
    a, b = add_images(product, 2)
    sku = product.skus.get()
    edit = reverse("console:product_edit", args=[product.pk])
    form = seller_client.get(edit)
    assert 'name="sku-0-image"' in form.content.decode()
    state = form.context["state"]
    row = state.rows[0]
    data = editor_post(product.category, attributes=[(a_.name, a_.name_en, a_.options, a_.options_en)
                                                     for a_ in state.attributes],
                       rows=[{"options": row.options, "code": row.code, "price": row.price, "stock": row.stock,
                              "stock_seen": row.stock_seen}])
    response = seller_client.post(edit, {**data, "sku-0-image": str(b)})
    assert response.status_code == 302
    sku.refresh_from_db()
    assert sku.image_id == b
    page = seller_client.get(edit).content.decode()
    assert f'<option value="{b}" selected>' in page

    foreign = f.make_product(other_shop, price="10.00")
    (x,) = add_images(foreign, 1)
    response = seller_client.post(edit, {**data, "sku-0-image": str(x), "sku-0-price": "1.00"})
    assert response.status_code == 422
    assert "Choose one of this product&#x27;s images." in response.content.decode()
    sku.refresh_from_db()
    assert (sku.image_id, sku.price) == (b, Decimal(row.price))
    response = seller_client.post(reverse("console:product_edit", args=[foreign.pk]), {**data, "sku-0-image": str(x)})
    assert response.status_code == 404
    assert foreign.skus.get().image_id is None

    response = seller_client.post(edit, {**data, "sku-0-image": ""})
    sku.refresh_from_db()
    assert (response.status_code, sku.image_id) == (302, None)


def test_console_regenerate_after_adding_an_option_keeps_skus_then_removing_deactivates(seller_client, shop):
    category = f.make_category()
    seller_client.post(reverse("console:product_create"), editor_post(category, attributes=COLOUR_SIZE, rows=FOUR_ROWS))
    product = Product.objects.get()
    before = {s.code: s.pk for s in product.skus.all()}
    edit = reverse("console:product_edit", args=[product.pk])
    form = seller_client.get(edit).context["state"]
    rows = [{"options": r.options, "code": r.code, "price": r.price, "stock": r.stock, "stock_seen": r.stock_seen}
            for r in form.rows]
    three_colours = [("颜色", "Colour", "红色, 蓝色, 黑色", ""), COLOUR_SIZE[1]]

    generated = seller_client.post(edit, editor_post(category, attributes=three_colours, rows=rows,
                                                     action="generate", default_price="20.00", default_stock="9"))
    new_rows = [{"options": r.options, "code": r.code, "price": r.price, "stock": r.stock, "stock_seen": r.stock_seen}
                for r in generated.context["state"].rows]
    assert [r["code"] for r in new_rows] == ["TEE-RM", "TEE-RL", "TEE-BM", "TEE-BL", "TEE-1", "TEE-2"]
    response = seller_client.post(edit, editor_post(category, attributes=three_colours, rows=new_rows))
    assert response.status_code == 302

    after = {s.code: (s.pk, s.price, s.stock.quantity, s.is_active)
             for s in product.skus.select_related("stock")}
    assert {code: after[code][0] for code in before} == before
    assert after["TEE-RL"][1:] == (Decimal("69.00"), 5, True)
    assert after["TEE-1"][1:] == (Decimal("20.00"), 9, True)

    form = seller_client.get(edit).context["state"]
    rows = [{"options": r.options, "code": r.code, "price": r.price, "stock": r.stock, "stock_seen": r.stock_seen}
            for r in form.rows]
    only_red_black = [("颜色", "Colour", "红色, 黑色", ""), COLOUR_SIZE[1]]
    generated = seller_client.post(edit, editor_post(category, attributes=only_red_black, rows=rows, action="generate"))
    rows = [{"options": r.options, "code": r.code, "price": r.price, "stock": r.stock, "stock_seen": r.stock_seen}
            for r in generated.context["state"].rows]
    assert seller_client.post(edit, editor_post(category, attributes=only_red_black, rows=rows)).status_code == 302
    states = dict(product.skus.values_list("code", "is_active"))
    assert (states["TEE-BM"], states["TEE-BL"], states["TEE-RM"], states["TEE-1"]) == (False, False, True, True)
