"""The product page and the product card are rendered by Jinja2 (storefront/jinja_env.py):
they must show exactly what Django's templates showed, escaping included (Django writes
&#x27; and &quot;, MarkupSafe &#39; and &#34;), with every promotion, flash-sale, group-buy
and Q&A part filled in, in both languages."""

import pytest

from shopyard.promotions.kinds import Kind
from tests import factories as f

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TITLE = 'Tom\'s "best" <b>&'
ESCAPED = "Tom&#x27;s &quot;best&quot; &lt;b&gt;&amp;"

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def category(db):
    return f.make_category()


@pytest.fixture
def busy_product(shop, category):
    p = f.make_product(shop, category=category, title=TITLE, skus=[("10.00", 5), ("12.00", 0), ("15.00", 2)])
    skus = list(p.skus.order_by("id"))
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"})
    f.make_flash_sale(shop, [(skus[0], "8.00", 3, 1)])
    f.make_group_buy(shop, skus[2], price="11.00")
    return p


def test_product_page_escapes_as_django_and_shows_every_part(client, busy_product):
    zh = client.get(f.product_url(busy_product), **ZH).content.decode()
    en = client.get(f.product_url(busy_product), **EN).content.decode()

    assert f'<h1 class="product-name">{ESCAPED}</h1>' in zh  # English pages show title_en
    for html in (zh, en):
        assert "&#39;" not in html and "&#34;" not in html
        assert html.count('name="csrfmiddlewaretoken"') == 5  # add to cart, favourite, contact, ask, language
        assert 'data-state="sold_out"' in html and 'aria-disabled="true"' in html
        assert "{{" not in html and "{%" not in html
    assert "限时折扣" in zh and "秒杀" in zh
    assert "Limited-time discount" in en and "Flash sale" in en and "3-person group" in en
    assert "Ask other shoppers" in en and "Reviews" in en and "Product details" in en
    assert "问大家" in zh and "商品详情" in zh


def test_product_card_escapes_as_django(client, busy_product, category):
    html = client.get(f"/c/{category.slug}/", **ZH).content.decode()

    assert f'<h3 class="product-title">{ESCAPED}</h3>' in html
    assert "&#39;" not in html and "&#34;" not in html
    assert "限时折扣" in html
