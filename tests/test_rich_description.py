"""Rich product descriptions: seller HTML goes through nh3's allow-list when it
is written (console form and seller API) and again when the product page
renders it, so no script, style, event handler, frame or foreign URL scheme
reaches a shopper."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from shopyard.catalog.models import Product
from shopyard.catalog.rich_text import render, sanitize
from shopyard.catalog.services import attach_image_bytes
from tests import factories as f

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = pytest.mark.usefixtures("media")

# (seller input, what is kept)
VECTORS = [
    ('<h3>标题</h3><p onclick="x()">段落</p><script>alert(1)</script>', "<h3>标题</h3><p>段落</p>"),
    ('<img src="x" onerror="alert(1)">', "<img>"),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
    ('<p style="color:red">t</p><style>p{color:red}</style>', "<p>t</p>"),
    ('<iframe src="https://evil.example/"></iframe>ok', "ok"),
    ('<img src="data:image/png;base64,AAAA" alt="d">', '<img alt="d">'),
    ('<a href="data:text/html,x">d</a>', '<a rel="noopener noreferrer nofollow">d</a>'),
    ("<svg onload=alert(1)>", ""),
    ('<img src="/admin/x.png">', "<img>"),
    ('<img src="/media/../admin/x.png">', "<img>"),
    ('<img src="/media/%2e%2e/admin/x.png">', "<img>"),
    ('<img src="//evil.example/x.png">', "<img>"),
]

KEPT = (
    '<h2>参数</h2><p><strong>纯棉</strong>，<em>舒适</em></p><ul><li>一</li></ul><ol><li>二</li></ol>'
    '<p><img src="/media/products/2026/11/a.jpg" alt="细节"><img src="https://cdn.example.com/b.jpg" alt="b"></p>'
    '<table><tbody><tr><th>重量</th><td>200g</td></tr></tbody></table>'
    '<a href="https://example.com/" rel="noopener noreferrer nofollow">链接</a>'
)


@pytest.mark.parametrize(("raw", "kept"), VECTORS)
def test_sanitize_removes_the_vector(raw, kept):
    assert sanitize(raw) == kept


def test_sanitize_keeps_the_allowed_markup_and_is_idempotent():
    assert sanitize(KEPT) == KEPT
    assert sanitize(sanitize(KEPT)) == KEPT


def test_plain_text_keeps_its_paragraphs_escaped():
    assert render("第一行\n\n第二 & <行") == "<p>第一行</p>\n\n<p>第二 &amp; &lt;行</p>"


HOSTILE = "".join(raw for raw, _kept in VECTORS) + KEPT
HOSTILE_CLEAN = "".join(kept for _raw, kept in VECTORS) + KEPT


def test_seller_api_stores_the_sanitised_description(api, seller_token, shop):
    category = f.make_category()
    data = {
        "category_id": category.pk, "title": "蓝牙耳机", "title_en": "Earbuds",
        "description": HOSTILE, "description_en": '<p onmouseover="x()">Hi</p><script>1</script>',
        "skus": [{"code": "EAR-1", "price": "199.00", "stock": 5, "options": []}],
    }

    response = api.post("/seller/products", data, token=seller_token)

    assert response.status_code == 201, response.content
    product = Product.objects.get(pk=response.json()["id"])
    assert (product.description, product.description_en) == (HOSTILE_CLEAN, "<p>Hi</p>")
    assert response.json()["description"] == HOSTILE_CLEAN


def test_seller_api_update_sanitises_too(api, seller_token, shop):
    product = f.make_product(shop)
    data = {"category_id": product.category_id, "title": product.title, "description": '<img src=x onerror=alert(1)>',
            "skus": [{"code": product.skus.get().code, "price": "99.00", "stock": 10, "options": []}]}

    response = api.put(f"/seller/products/{product.pk}", data, token=seller_token)

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.description == "<img>"


def test_console_form_stores_the_sanitised_description(client, seller, shop):
    client.force_login(seller)
    category = f.make_category()
    post = {
        "action": "save", "category_id": str(category.pk), "brand_id": "", "title": "纯棉T恤",
        "title_en": "Tee", "description": HOSTILE, "description_en": '<a href="javascript:alert(1)">x</a>',
        "code_base": "TEE", "sku_rows": "1", "sku-0-code": "TEE-1", "sku-0-price": "59.00",
        "sku-0-stock": "3", "sku-0-active": "1",
    }

    response = client.post(reverse("console:product_create"), post)

    assert response.status_code == 302
    product = Product.objects.get(shop=shop)
    assert product.description == HOSTILE_CLEAN
    assert product.description_en == '<a rel="noopener noreferrer nofollow">x</a>'


def test_console_editor_offers_the_toolbar_and_the_products_images(client, seller, shop):
    client.force_login(seller)
    product = f.make_product(shop)
    picture = io.BytesIO()
    Image.new("RGB", (40, 40), (255, 80, 0)).save(picture, "PNG")
    image = attach_image_bytes(product=product, data=picture.getvalue(), ext="png")

    html = client.get(reverse("console:product_edit", args=[product.pk]), **EN).content.decode()

    assert html.count('role="toolbar"') == 2
    assert f'<option value="{image.image.url}">Image 1</option>' in html
    assert '<textarea id="f-desc" name="description" rows="10">描述</textarea>' in html
    assert "/static/console/description_editor.js" in html


def test_product_page_sanitises_a_description_written_around_the_service(client, shop):
    product = f.make_product(shop)
    Product.objects.filter(pk=product.pk).update(description=HOSTILE, description_en=HOSTILE)

    html = client.get(f.product_url(product), **EN).content.decode()

    body = html.split('<div class="description rich-text">')[1].split("</div>")[0]
    assert body == HOSTILE_CLEAN
    for bad in ("alert(", "onerror", "onclick", "javascript:", "<iframe", "<style", "data:", "<svg"):
        assert bad not in body


def test_an_empty_description_renders_nothing(client, shop):
    product = f.make_product(shop)
    Product.objects.filter(pk=product.pk).update(description="", description_en="<script>x</script>")

    html = client.get(f.product_url(product), **EN).content.decode()

    assert render("") == "" and render("  ") == ""
    assert 'class="description rich-text"' not in html
