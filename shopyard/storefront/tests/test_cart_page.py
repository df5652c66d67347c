"""The cart page: selection (with and without htmx), unbuyable lines apart with
their reason, the price-change marker, the stepper, favourites, remove selected,
and checkout of the selected lines only."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from shopyard.cart.models import CartLine
from shopyard.catalog.models import Favourite, Sku
from shopyard.checkout.pricing import price_lines
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _add(client, sku, quantity=1):
    return client.post(reverse("storefront:cart_add"), {"sku_id": sku.pk, "quantity": quantity})


def _select_form(lines, ticked, *, shops):
    """What the page's selection form posts when the shopper changes only line boxes."""
    return {"shown": [x.pk for x in lines], "line": [x.pk for x in ticked], "all": "1", "all_was": "1",
            "shop": shops, "shop_was": shops}


def _checked(html, element_id):
    tag = re.search(rf'<input[^>]*id="{element_id}"[^>]*>', html, re.S).group(0)
    return " checked" in tag


def _grand_total(html):
    return re.search(r'id="cart-grand-total">([^<]+)<', html).group(1)


def test_the_page_has_a_checkbox_per_line_per_shop_and_for_the_cart(client, sku, other_sku):
    # given
    _add(client, sku)
    _add(client, other_sku)
    a, b = CartLine.objects.order_by("pk")
    # when
    html = client.get(reverse("storefront:cart")).content.decode()
    # then
    assert [_checked(html, i) for i in (f"sel-line-{a.pk}", f"sel-line-{b.pk}", f"sel-shop-{sku.product.shop_id}",
                                        f"sel-shop-{other_sku.product.shop_id}", "sel-all")] == [True] * 5
    assert "Update selection" in html  # the form works without JavaScript


def test_unticking_with_htmx_updates_the_totals_to_the_selected_lines(client, sku, other_sku):
    # given
    _add(client, sku, 2)
    _add(client, other_sku, 1)
    a, b = CartLine.objects.order_by("pk")
    shops = [sku.product.shop_id, other_sku.product.shop_id]
    # when the second line's box is unticked (htmx posts the whole form)
    response = client.post(reverse("storefront:cart_select"), _select_form([a, b], [a], shops=shops), **HX)
    # then the partial shows the amount calculator's total for the ticked line
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="cart-body">')
    expected = price_lines([(Sku.objects.select_related("product__shop").get(pk=sku.pk), 2, None)]).total
    assert expected.amount == Decimal("129.80")
    assert _grand_total(html) == "¥129.80"
    assert not _checked(html, f"sel-line-{b.pk}") and not _checked(html, "sel-all")
    assert "No item of this shop is selected." in html


def test_without_javascript_the_selection_is_stored_and_survives_a_reload(client, sku, other_sku):
    # given
    _add(client, sku)
    _add(client, other_sku)
    a, b = CartLine.objects.order_by("pk")
    shops = [sku.product.shop_id, other_sku.product.shop_id]
    # when the form is submitted, then the page is loaded again
    response = client.post(reverse("storefront:cart_select"), _select_form([a, b], [b], shops=shops))
    html = client.get(reverse("storefront:cart")).content.decode()
    # then
    assert response.status_code == 302
    assert (_checked(html, f"sel-line-{a.pk}"), _checked(html, f"sel-line-{b.pk}")) == (False, True)
    assert _grand_total(html) == "¥43.50"  # 35.50 + 8.00 shipping


def test_the_shop_and_all_boxes_tick_and_untick_their_lines(client, sku, other_sku):
    # given
    _add(client, sku)
    _add(client, other_sku)
    a, b = CartLine.objects.order_by("pk")
    shop, other = sku.product.shop_id, other_sku.product.shop_id
    url = reverse("storefront:cart_select")
    # when "all" is unticked, then one shop's box is ticked
    client.post(url, {"shown": [a.pk, b.pk], "line": [a.pk, b.pk], "all_was": "1", "shop": [shop, other],
                      "shop_was": [shop, other]})
    after_all = list(CartLine.objects.order_by("pk").values_list("selected", flat=True))
    client.post(url, {"shown": [a.pk, b.pk], "all_was": "0", "shop": [other]})
    # then
    assert after_all == [False, False]
    assert list(CartLine.objects.order_by("pk").values_list("selected", flat=True)) == [False, True]


def test_an_unbuyable_line_is_shown_apart_with_its_reason_and_cannot_be_ticked(client, sku, other_sku):
    # given a sold-out line
    _add(client, sku)
    _add(client, other_sku)
    a, b = CartLine.objects.order_by("pk")
    StockLevel.objects.filter(sku=sku).update(quantity=0)
    # when the shopper ticks every box
    response = client.post(reverse("storefront:cart_select"),
                           {"shown": [a.pk, b.pk], "line": [a.pk, b.pk], "all": "1", "all_was": "1"}, **HX)
    # then
    html = response.content.decode()
    section = html[html.index('id="cart-unavailable"'):]
    assert f'id="line-{a.pk}"' in section and "Sold out · × 1" in section
    assert 'type="checkbox" disabled' in section
    assert f'id="sel-line-{a.pk}"' not in html
    assert list(CartLine.objects.order_by("pk").values_list("selected", flat=True)) == [False, True]
    assert _grand_total(html) == "¥43.50"


@pytest.mark.parametrize("new_price, text, css", [
    ("49.90", "Price dropped by ¥10.00", "price-down"), ("64.90", "Price up by ¥5.00", "price-up"),
])
def test_the_price_change_marker_text_and_acknowledging_it(client, sku, new_price, text, css):
    # given
    _add(client, sku)
    line = CartLine.objects.get()
    Sku.objects.filter(pk=sku.pk).update(price=Decimal(new_price))
    # when
    before = client.get(reverse("storefront:cart")).content.decode()
    ack = client.post(reverse("storefront:cart_line_acknowledge", args=[line.pk]), **HX)
    # then
    assert f'<div class="price-change {css}">{text}' in before
    assert _grand_total(before) == f"¥{Decimal(new_price) + Decimal('10.00')}"
    assert ack.status_code == 200 and "price-change" not in ack.content.decode()


def test_the_price_change_marker_in_chinese(client, sku):
    # given
    _add(client, sku)
    Sku.objects.filter(pk=sku.pk).update(price=Decimal("49.90"))
    # when
    html = client.get(reverse("storefront:cart"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # then
    assert re.search(r'<div class="price-change price-down">([^<]+)', html).group(1).strip() == "降价 ¥10.00"


def test_the_stepper_sets_the_quantity_within_stock_and_the_cap(client, sku, settings):
    # given 10 in stock
    _add(client, sku, 9)
    line = CartLine.objects.get()
    url = reverse("storefront:cart_line_update", args=[line.pk])
    # when + is pressed, then + is pressed again past the stock
    plus = client.post(url, {"quantity": "9", "set": "10"}, **HX)
    over = client.post(url, {"quantity": "10", "set": "11"}, **HX)
    # then
    assert plus.status_code == 200
    assert re.search(r'name="set" value="" class="step" aria-label="Increase quantity" disabled', plus.content.decode())
    assert over.status_code == 409 and "Only 10 left in stock." in over.content.decode()
    assert CartLine.objects.get().quantity == 10


def test_the_stepper_minus_is_disabled_at_one_and_zero_is_refused(client, sku):
    # given
    _add(client, sku, 1)
    line = CartLine.objects.get()
    # when
    html = client.get(reverse("storefront:cart")).content.decode()
    zero = client.post(reverse("storefront:cart_line_update", args=[line.pk]), {"quantity": "1", "set": "0"}, **HX)
    # then
    assert 'aria-label="Decrease quantity" disabled' in html
    assert zero.status_code == 422
    assert CartLine.objects.get().quantity == 1


def test_move_to_favourites_from_the_page(client, shopper, sku):
    # given
    client.force_login(shopper)
    _add(client, sku)
    line = CartLine.objects.get()
    # when
    response = client.post(reverse("storefront:cart_line_favourite", args=[line.pk]))
    # then
    assert response.status_code == 302
    assert list(Favourite.objects.values_list("user_id", "product_id")) == [(shopper.pk, sku.product_id)]
    assert CartLine.objects.count() == 0


def test_a_guest_must_sign_in_to_move_to_favourites(client, sku):
    # given
    _add(client, sku)
    line = CartLine.objects.get()
    # when
    response = client.post(reverse("storefront:cart_line_favourite", args=[line.pk]))
    # then
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert (Favourite.objects.count(), CartLine.objects.count()) == (0, 1)


def test_a_foreign_line_is_404_on_every_line_action(client, other_shopper, sku):
    # given another shopper's line
    other = client.__class__()
    other.force_login(other_shopper)
    _add(other, sku)
    line = CartLine.objects.get()
    _add(client, sku)
    # when
    codes = [client.post(reverse(name, args=[line.pk]), {"quantity": "2"}).status_code
             for name in ("storefront:cart_line_update", "storefront:cart_line_acknowledge",
                          "storefront:cart_line_remove")]
    # then
    assert codes == [404, 404, 404]
    assert CartLine.objects.get(pk=line.pk).quantity == 1


def test_remove_selected_from_the_page(client, sku, other_sku):
    # given
    _add(client, sku)
    _add(client, other_sku)
    a, b = CartLine.objects.order_by("pk")
    CartLine.objects.filter(pk=b.pk).update(selected=False)
    # when
    response = client.post(reverse("storefront:cart_remove_selected"), **HX)
    # then
    assert response.status_code == 200
    assert list(CartLine.objects.values_list("pk", flat=True)) == [b.pk]


def test_checkout_from_the_cart_page_buys_only_the_selected_lines(client, shopper, address, sku, other_sku):
    # given
    client.force_login(shopper)
    _add(client, sku, 2)
    _add(client, other_sku, 1)
    a, b = CartLine.objects.order_by("pk")
    shops = [sku.product.shop_id, other_sku.product.shop_id]
    client.post(reverse("storefront:cart_select"), _select_form([a, b], [a], shops=shops))
    # when
    client.get(reverse("storefront:cart"))  # the flash messages are shown there
    page = client.get(reverse("storefront:checkout")).content.decode()
    response = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "t-1"})
    # then
    assert other_sku.product.title_en not in page and sku.product.title_en in page
    assert response.status_code == 302
    assert list(Order.objects.values_list("shop_id", "total")) == [(sku.product.shop_id, Decimal("129.80"))]
    assert list(CartLine.objects.values_list("pk", "selected")) == [(b.pk, False)]


def test_checkout_is_disabled_when_nothing_is_selected(client, shopper, sku):
    # given
    client.force_login(shopper)
    _add(client, sku)
    CartLine.objects.update(selected=False)
    # when
    html = client.get(reverse("storefront:cart")).content.decode()
    page = client.get(reverse("storefront:checkout"))
    # then
    assert 'aria-disabled="true">Check out' in html
    assert page.status_code == 302 and Order.objects.count() == 0
