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


def _header(html: str) -> str:
    return html[html.index('<header class="topbar">'):html.index("</header>")]


def test_django_and_jinja_pages_share_one_layout_for_a_signed_in_operator(client, product, sku):
    """The product page is Jinja2 from top to bottom; the cart page is Django's template
    language inside the same Jinja2 layout: a staff shopper with a cart line sees the same
    header (count, staff links, name) and footer on both, in both languages."""
    from django.urls import reverse

    from shopyard.cart.services import add_line, get_cart

    operator = f.make_user("operator", is_staff=True, nickname="值班 <运营>")
    add_line(cart=get_cart(user=operator, create=True), sku_id=sku.pk, quantity=2)
    client.force_login(operator)
    for headers in (ZH, EN):
        jinja_page = client.get(f.product_url(product), **headers).content.decode()
        django_page = client.get(reverse("storefront:cart"), **headers).content.decode()
        assert _header(jinja_page) == _header(django_page)
        header = _header(jinja_page)
        assert '<span class="badge" id="cart-count">2</span>' in header
        assert reverse("service:operator_tickets") in header and "值班 &lt;运营&gt;" in header
        for page in (jinja_page, django_page):
            footer = page[page.index('<footer class="footer">'):]
            assert '<option value="zh-hans"' in footer and '<option value="en"' in footer
            assert 'name="csrfmiddlewaretoken"' in footer
            assert page.rstrip().endswith("</html>") and page.count("<html") == 1


def test_a_django_page_fills_the_layout_blocks_it_overrides_and_keeps_the_others(rf):
    """`{% layout %}` (jinja_tags.LayoutNode): a Django page's blocks replace the layout's,
    the blocks it leaves alone show the layout's defaults, escaping stays Django's."""
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.template import engines
    from django.urls import reverse

    request = rf.get("/somewhere/?q=<b>")
    request.user = AnonymousUser()
    request.session = SessionStore()
    page = engines["django"].from_string(
        '{% extends "shopyard/base.html" %}{% block title %}{{ name }}{% endblock %}'
        '{% block content %}<p>{{ name }}</p>{% endblock %}').render({"name": "A&B"}, request)
    assert "<title>A&amp;B</title>" in page and '<main class="page"><p>A&amp;B</p></main>' in page
    assert '<body class=""' in page  # body_class left alone: the layout's empty default
    assert 'value="&lt;b&gt;"' in page  # the search box keeps the query, escaped
    bare = engines["django"].from_string('{% extends "shopyard/base.html" %}').render({}, request)
    assert "<title>Shopyard</title>" in bare and '<main class="page"></main>' in bare
    # without a request (no context processors at all), missing values show as nothing, as in
    # Django's template language: an anonymous header, an empty search box, no cart count
    alone = engines["django"].from_string('{% extends "shopyard/base.html" %}').render({})
    assert 'name="q" value=""' in alone and '<span class="badge" id="cart-count"></span>' in alone
    assert reverse("accounts:login") in alone and 'name="next" type="hidden" value=""' in alone
