"""One visibility rule (catalog.queries.visible_products / visible_skus): a
product in any hidden state (draft, its SKU deactivated, its shop suspended) is
absent from every shopper surface: listings, product page, API, favourites,
cart (shown apart, not buyable, outside the totals) and checkout (refused)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from shopyard.cart import services as cart_services
from shopyard.cart.models import CartLine
from shopyard.catalog import services as catalog
from shopyard.catalog.models import Favourite, Sku
from shopyard.catalog.queries import visible_products, visible_skus
from shopyard.core.models import IdempotencyRecord
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from shopyard.shops import services as shop_services

from . import factories as f

HIDDEN_STATES = ["draft", "sku_inactive", "shop_suspended"]


@pytest.fixture
def operator(db):
    return f.make_user("operator-vis", is_staff=True)


@pytest.fixture
def category(db):
    return f.make_category("可见分类")


@pytest.fixture
def visible(other_shop, category):
    """A product that stays visible, in the same category, so listings are never empty."""
    return f.make_product(other_shop, category=category, price="20.00", stock=10, title="一直在架")


@pytest.fixture
def hidden_world(shop, seller, shopper, category, visible):
    """`hide(state)` hides a product the shopper already favourited and put in the cart."""
    product = f.make_product(shop, category=category, price="59.90", stock=10, title="将被隐藏")
    sku = product.skus.get()
    catalog.add_favourite(actor=shopper, product_id=product.pk)
    catalog.add_favourite(actor=shopper, product_id=visible.pk)
    cart = cart_services.get_cart(user=shopper, create=True)
    cart_services.add_line(cart=cart, sku_id=sku.pk, quantity=2)
    cart_services.add_line(cart=cart, sku_id=visible.skus.get().pk, quantity=1)

    def hide(state, operator):
        if state == "draft":
            catalog.set_published(actor=seller, shop=shop, product_id=product.pk, published=False)
        elif state == "sku_inactive":
            Sku.objects.filter(pk=sku.pk).update(is_active=False)
        else:
            shop_services.suspend_shop(actor=operator, shop_id=shop.pk, reason="投诉较多 / complaints")
        return product, sku

    return hide


def _link(product) -> str:
    return f'href="{f.product_url(product)}"'


def _writes():
    return (Order.objects.count(), Payment.objects.count(), IdempotencyRecord.objects.count(),
            list(StockLevel.objects.order_by("sku_id").values_list("sku_id", "quantity")),
            list(CartLine.objects.order_by("id").values_list("sku_id", "quantity")))


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_the_visibility_queries_leave_out_every_hidden_state(hidden_world, operator, visible, state):
    product, sku = hidden_world(state, operator)

    assert list(visible_products().values_list("pk", flat=True)) == [visible.pk]
    assert list(visible_skus().values_list("pk", flat=True)) == [visible.skus.get().pk]


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_a_hidden_product_is_absent_from_listings_and_its_page_is_404(
    hidden_world, operator, visible, category, shop, client, api, state
):
    product, _sku = hidden_world(state, operator)

    for url in ("/", f"/c/{category.slug}/", "/search/?q=" + "将被", "/search/?q=" + "一直"):
        html = client.get(url).content.decode()
        assert _link(product) not in html, url
    assert _link(visible) in client.get(f"/c/{category.slug}/").content.decode()
    shop_page = client.get(f"/shop/{shop.slug}/")
    assert shop_page.status_code == (404 if state == "shop_suspended" else 200)
    assert _link(product) not in shop_page.content.decode()
    assert client.get(f.product_url(product)).status_code == 404
    assert client.get(f.product_url(visible)).status_code == 200

    listed = api.get("/products", data={"page_size": 100}).json()["results"]
    assert [p["id"] for p in listed] == [visible.pk]
    assert [p["id"] for p in api.get("/products", data={"shop": shop.pk}).json()["results"]] == []
    assert api.get(f"/products/{product.pk}").status_code == 404


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_a_hidden_product_is_absent_from_favourites_and_cannot_be_favourited(
    hidden_world, operator, visible, shopper, shopper_token, client, api, state
):
    product, _sku = hidden_world(state, operator)
    client.force_login(shopper)

    html = client.get(reverse("storefront:favourites")).content.decode()
    assert _link(product) not in html
    assert _link(visible) in html
    assert [p["id"] for p in api.get("/favourites", token=shopper_token).json()] == [visible.pk]
    Favourite.objects.filter(product=product).delete()
    assert api.put(f"/favourites/{product.pk}", token=shopper_token).status_code == 404
    assert not Favourite.objects.filter(product=product).exists()


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_a_hidden_product_in_the_cart_is_shown_apart_and_counts_for_nothing(
    hidden_world, operator, visible, shopper, shopper_token, client, api, state
):
    product, sku = hidden_world(state, operator)
    client.force_login(shopper)

    # the page: the line sits in the "no longer available" section, the total is the visible line's
    html = client.get(reverse("storefront:cart")).content.decode()
    unavailable = html.split('id="cart-unavailable"', 1)[1]
    assert f'id="line-{CartLine.objects.get(sku=sku).pk}"' in unavailable
    total = re.search(r'id="cart-grand-total">([^<]+)<', html).group(1).strip()
    assert total == "¥28.00"  # 20.00 + the other shop's 8.00 shipping, nothing of the hidden 2 × 59.90

    # the API: the same split and the same total
    body = api.get("/cart", token=shopper_token).json()
    assert [line["sku_id"] for g in body["groups"] for line in g["lines"]] == [visible.skus.get().pk]
    assert [(line["sku_id"], line["quantity"]) for line in body["unavailable"]] == [(sku.pk, 2)]
    assert (body["total"], body["count"]) == ("28.00", 1)

    # adding more of it is refused, and nothing changes
    before = _writes()
    response = api.post("/cart/lines", {"sku_id": sku.pk, "quantity": 1}, token=shopper_token)
    assert response.status_code == 404
    assert _writes() == before


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_checkout_refuses_a_hidden_product_and_leaves_it_out_of_a_cart_checkout(
    hidden_world, operator, visible, shopper, shopper_token, address, client, api, state
):
    product, sku = hidden_world(state, operator)

    # buy-now lines naming it: 404 on that line, nothing written
    before = _writes()
    response = api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]},
                        token=shopper_token)
    assert response.status_code == 404
    assert list(response.json()["fields"]) == ["lines[0].sku_id"]
    assert _writes() == before

    # the checkout page says it is left out; placing the cart buys only the visible line
    client.force_login(shopper)
    page = client.get(reverse("storefront:checkout")).content.decode()
    assert 'id="checkout-unavailable"' in page
    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "vis-1"})
    assert response.status_code == 302
    order = Order.objects.get()
    assert [(line.sku_id, line.quantity) for line in order.lines.all()] == [(visible.skus.get().pk, 1)]
    assert order.total == Decimal("28.0000")
    assert list(CartLine.objects.values_list("sku_id", "quantity")) == [(sku.pk, 2)]  # still there, apart
    assert StockLevel.objects.get(sku=sku).quantity == 10

    # a cart holding only hidden lines cannot be checked out
    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "vis-2"})
    assert response.status_code == 422
    assert Order.objects.count() == 1
