"""Cart selection, unbuyable lines, price-change markers, stepper limits, favourites
and remove-selected, through the API and the services checkout reads."""

from decimal import Decimal

import pytest

from shopyard.cart.models import CartLine
from shopyard.cart.queries import cart_view
from shopyard.cart.services import add_line, get_cart, line_items
from shopyard.catalog.models import Favourite, Product, Sku
from shopyard.checkout.pricing import price_lines
from shopyard.checkout.services import place_order
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from tests import factories as f

pytestmark = pytest.mark.django_db


def _cart_with(user, *skus, quantity=1):
    cart = get_cart(user=user, create=True)
    lines = [add_line(cart=cart, sku_id=s.pk, quantity=quantity) for s in skus]
    return cart, lines


def _line(api, token, line_id):
    body = api.get("/cart", token=token).json()
    return next(x for g in body["groups"] for x in g["lines"] if x["id"] == line_id)


def test_new_lines_are_selected_and_carry_the_price_when_added(shopper, sku):
    # when
    _cart, (line,) = _cart_with(shopper, sku, quantity=2)
    # then
    line.refresh_from_db()
    assert (line.selected, line.added_price) == (True, Decimal("59.9000"))


def test_totals_after_unticking_a_line_equal_price_lines_of_the_selected_lines(api, shopper, shopper_token, sku,
                                                                                other_sku):
    # given two shops' lines in the cart
    _cart, (a, b) = _cart_with(shopper, sku, other_sku, quantity=2)
    # when the second line is unticked
    response = api.patch(f"/cart/lines/{b.pk}", {"selected": False}, token=shopper_token)
    # then the totals are the amount calculator's for the first line alone
    assert response.status_code == 200
    body = response.json()
    expected = price_lines([(Sku.objects.select_related("product__shop").get(pk=sku.pk), 2, None)])
    assert body["total"] == str(expected.total.amount) == "129.80"
    assert body["count"] == 2
    groups = {g["shop_id"]: g for g in body["groups"]}
    assert groups[other_sku.product.shop_id]["total"] is None
    assert groups[other_sku.product.shop_id]["lines"][0]["selected"] is False
    assert groups[sku.product.shop_id]["total"] == "129.80"
    assert body["all_selected"] is False
    assert CartLine.objects.get(pk=b.pk).selected is False


def test_select_all_shop_and_lines_through_the_api(api, shopper, shopper_token, sku, other_sku):
    # given
    _cart, (a, b) = _cart_with(shopper, sku, other_sku)
    # when everything is unticked, then one shop ticked, then one line by id
    r1 = api.post("/cart/select", {"all": True, "selected": False}, token=shopper_token)
    r2 = api.post("/cart/select", {"shop_id": other_sku.product.shop_id, "selected": True}, token=shopper_token)
    r3 = api.post("/cart/select", {"line_ids": [a.pk], "selected": True}, token=shopper_token)
    # then
    assert [r.status_code for r in (r1, r2, r3)] == [200, 200, 200]
    assert r1.json()["total"] is None and r1.json()["count"] == 0
    assert r2.json()["total"] == "43.50"  # 35.50 + 8.00 shipping
    assert r3.json()["all_selected"] is True


def test_select_rejects_foreign_lines_and_ambiguous_scope_and_writes_nothing(api, shopper, shopper_token,
                                                                              other_shopper, sku, other_sku):
    # given a line of another shopper
    _cart, (mine,) = _cart_with(shopper, sku)
    _other, (theirs,) = _cart_with(other_shopper, other_sku)
    # when
    foreign = api.post("/cart/select", {"line_ids": [mine.pk, theirs.pk], "selected": False}, token=shopper_token)
    patch = api.patch(f"/cart/lines/{theirs.pk}", {"selected": False}, token=shopper_token)
    both = api.post("/cart/select", {"all": True, "shop_id": sku.product.shop_id, "selected": False},
                    token=shopper_token)
    neither = api.patch(f"/cart/lines/{mine.pk}", {}, token=shopper_token)
    not_bool = api.patch(f"/cart/lines/{mine.pk}", {"selected": "yes"}, token=shopper_token)
    # then
    assert foreign.status_code == 404
    assert foreign.json()["fields"] == {"line_ids": ["Not in your cart."]}
    assert patch.status_code == 404
    assert both.status_code == 422 and list(both.json()["fields"]) == ["all"]
    assert neither.status_code == 422 and list(neither.json()["fields"]) == ["quantity"]
    assert not_bool.status_code == 422
    assert list(CartLine.objects.order_by("pk").values_list("selected", flat=True)) == [True, True]


@pytest.mark.parametrize("make_unbuyable, reason", [
    (lambda s: StockLevel.objects.filter(sku=s).update(quantity=0), "Sold out"),
    (lambda s: Product.objects.filter(pk=s.product_id).update(status=Product.Status.DRAFT), "No longer on sale"),
    (lambda s: type(s.product.shop).objects.filter(pk=s.product.shop_id).update(status="suspended"), "Shop closed"),
    (lambda s: Sku.objects.filter(pk=s.pk).update(is_active=False), "This option is no longer sold"),
])
def test_an_unbuyable_line_is_shown_apart_with_its_reason_and_cannot_be_selected(api, shopper, shopper_token, sku,
                                                                                  other_sku, make_unbuyable, reason):
    # given a selected line that became unbuyable, and one that is fine
    _cart, (gone, ok) = _cart_with(shopper, sku, other_sku)
    CartLine.objects.filter(pk=gone.pk).update(selected=False)
    make_unbuyable(sku)
    # when the shopper tries to tick it, alone or in a list, and ticks everything
    one = api.patch(f"/cart/lines/{gone.pk}", {"selected": True}, token=shopper_token)
    listed = api.post("/cart/select", {"line_ids": [gone.pk, ok.pk], "selected": True}, token=shopper_token)
    everything = api.post("/cart/select", {"all": True, "selected": True}, token=shopper_token)
    # then
    assert one.status_code == 422
    assert one.json()["fields"] == {"selected": ["This item can no longer be bought."]}
    assert listed.status_code == 422
    assert everything.status_code == 200
    body = everything.json()
    assert body["unavailable"] == [{
        "id": gone.pk, "sku_id": sku.pk, "product_id": sku.product_id, "title": sku.product.title,
        "title_en": sku.product.title_en, "quantity": 1, "reason": reason,
    }]
    assert [x["id"] for g in body["groups"] for x in g["lines"]] == [ok.pk]
    assert CartLine.objects.get(pk=gone.pk).selected is False


def test_a_selected_line_that_became_unbuyable_is_not_bought(shopper, address, sku, other_sku):
    # given both lines selected, then the first sells out
    _cart, (gone, ok) = _cart_with(shopper, sku, other_sku)
    StockLevel.objects.filter(sku=sku).update(quantity=0)
    # when
    assert line_items(user=shopper) == [{"sku_id": other_sku.pk, "quantity": 1}]
    placed = place_order(actor=shopper, address_id=address.pk)
    # then only the buyable line is ordered; the sold-out one stays in the cart
    assert [o.shop_id for o in Order.objects.filter(pk__in=placed.order_ids)] == [other_sku.product.shop_id]
    assert list(CartLine.objects.values_list("pk", flat=True)) == [gone.pk]


def test_checkout_from_the_cart_buys_only_selected_lines_and_leaves_the_rest(shopper, address, sku, other_sku):
    # given
    _cart, (a, b) = _cart_with(shopper, sku, other_sku, quantity=2)
    CartLine.objects.filter(pk=b.pk).update(selected=False)
    # when
    placed = place_order(actor=shopper, address_id=address.pk)
    # then
    orders = list(Order.objects.filter(pk__in=placed.order_ids))
    assert [(o.shop_id, o.total) for o in orders] == [(sku.product.shop_id, Decimal("129.80"))]
    assert list(CartLine.objects.values_list("pk", "quantity", "selected")) == [(b.pk, 2, False)]


@pytest.mark.parametrize("new_price, change", [("49.90", "-10.00"), ("64.90", "5.00")])
def test_a_price_change_since_added_is_shown_and_the_line_stays_buyable(api, shopper, shopper_token, sku,
                                                                        new_price, change):
    # given
    _cart, (line,) = _cart_with(shopper, sku)
    Sku.objects.filter(pk=sku.pk).update(price=Decimal(new_price))
    # when
    shown = _line(api, shopper_token, line.pk)
    ack = api.post(f"/cart/lines/{line.pk}/acknowledge-price", token=shopper_token)
    # then: shown, buyable at the current price, and cleared once acknowledged
    assert (shown["price_change"], shown["unit_price"], shown["selected"]) == (change, new_price, True)
    assert ack.status_code == 200
    assert _line(api, shopper_token, line.pk)["price_change"] is None
    assert CartLine.objects.get(pk=line.pk).added_price == Decimal(new_price)


def test_adding_the_sku_again_clears_the_price_marker(shopper, sku):
    # given
    cart, (line,) = _cart_with(shopper, sku)
    Sku.objects.filter(pk=sku.pk).update(price=Decimal("49.90"))
    assert cart_view(cart).shops[0].lines[0].price_change.amount == Decimal("-10.00")
    # when
    add_line(cart=cart, sku_id=sku.pk, quantity=1)
    # then
    assert cart_view(cart).shops[0].lines[0].price_change is None


def test_quantity_is_bounded_by_stock_and_the_per_order_cap(api, shopper, shopper_token, sku, settings):
    # given 10 in stock
    _cart, (line,) = _cart_with(shopper, sku)
    # when
    over_stock = api.patch(f"/cart/lines/{line.pk}", {"quantity": 11}, token=shopper_token)
    zero = api.patch(f"/cart/lines/{line.pk}", {"quantity": 0}, token=shopper_token)
    both = api.patch(f"/cart/lines/{line.pk}", {"quantity": 11, "selected": False}, token=shopper_token)
    # then nothing is written
    assert over_stock.status_code == 409
    assert over_stock.json()["fields"] == {"quantity": ["Only 10 left in stock."]}
    assert zero.status_code == 422
    assert both.status_code == 409
    assert list(CartLine.objects.values_list("quantity", "selected")) == [(1, True)]


def test_move_to_favourites_adds_the_favourite_and_removes_the_line(api, shopper, shopper_token, other_shopper,
                                                                    sku, other_sku):
    # given
    _cart, (line,) = _cart_with(shopper, sku)
    _other, (theirs,) = _cart_with(other_shopper, other_sku)
    # when
    foreign = api.post(f"/cart/lines/{theirs.pk}/favourite", token=shopper_token)
    response = api.post(f"/cart/lines/{line.pk}/favourite", token=shopper_token)
    # then
    assert foreign.status_code == 404
    assert response.status_code == 200
    assert list(Favourite.objects.values_list("user_id", "product_id")) == [(shopper.pk, sku.product_id)]
    assert list(CartLine.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_remove_selected_removes_only_the_ticked_lines(api, shopper, shopper_token, sku, other_sku):
    # given
    _cart, (a, b) = _cart_with(shopper, sku, other_sku)
    CartLine.objects.filter(pk=a.pk).update(selected=False)
    # when
    response = api.post("/cart/remove-selected", token=shopper_token)
    # then
    assert response.status_code == 200
    assert list(CartLine.objects.values_list("pk", flat=True)) == [a.pk]


def test_selection_follows_a_guest_into_their_account(client, shopper, sku, other_sku):
    # given a guest with two lines, one unticked on the page
    client.post("/cart/add/", {"sku_id": sku.pk, "quantity": 1})
    client.post("/cart/add/", {"sku_id": other_sku.pk, "quantity": 1})
    a, b = CartLine.objects.order_by("pk")
    shops = [sku.product.shop_id, other_sku.product.shop_id]
    client.post("/cart/select/", {"shown": [a.pk, b.pk], "line": [a.pk], "all": "1", "all_was": "1",
                                  "shop": shops, "shop_was": shops})
    assert list(CartLine.objects.order_by("pk").values_list("selected", flat=True)) == [True, False]
    # and the shopper's own cart already holds the unticked SKU, ticked
    own, _lines = _cart_with(shopper, other_sku)
    # when the guest signs in
    response = client.post("/accounts/login/", {"username": "shopper", "password": f.PASSWORD})
    # then the guest's choice is kept in the account's cart
    assert response.status_code == 302
    assert sorted(CartLine.objects.filter(cart__user=shopper).values_list("sku_id", "quantity", "selected")) == \
        sorted([(sku.pk, 1, True), (other_sku.pk, 2, False)])
    assert line_items(user=shopper) == [{"sku_id": sku.pk, "quantity": 1}]


def test_checking_out_with_nothing_ticked_says_so_and_writes_nothing(client, api, shopper, shopper_token, address, sku):
    from django.urls import reverse

    from shopyard.cart.services import set_selected

    cart = get_cart(user=shopper, create=True)
    line = add_line(cart=cart, sku_id=sku.pk, quantity=1)
    set_selected(cart=cart, line_id=line.pk, selected=False)
    response = api.c.post("/api/v1/orders", {"address_id": address.pk}, content_type="application/json",
                          **f.auth(shopper_token))
    assert response.status_code == 422
    assert response.json()["fields"] == {"lines": ["Select at least one item to check out."]}
    client.force_login(shopper)
    page = client.get(reverse("storefront:checkout"), follow=True)
    assert "Select at least one item to check out." in page.content.decode()
    zh = client.get(reverse("storefront:checkout"), follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "请至少勾选一件商品再结算" in zh.content.decode()
    assert Order.objects.count() == 0
    assert CartLine.objects.get(pk=line.pk).quantity == 1
