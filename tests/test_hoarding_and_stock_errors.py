"""Stock hoarding caps (open unpaid orders per account, units of one SKU per
order and per cart line) and one error for one condition: out of stock is
409 `out_of_stock` in the cart and at checkout, on pages and in the API."""

import pytest
from django.urls import reverse

from shopyard.cart import services as cart_services
from shopyard.cart.models import CartLine
from shopyard.checkout.services import place_order
from shopyard.core.errors import Conflict, OutOfStock, ValidationFailed
from shopyard.core.models import IdempotencyRecord
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order, OrderLine
from shopyard.orders.services import cancel_by_buyer
from shopyard.payments.models import Payment

from . import factories as f


@pytest.fixture
def big_sku(shop):
    return f.make_product(shop, price="5.00", stock=500).skus.get()


def _world():
    return (Order.objects.count(), OrderLine.objects.count(), Payment.objects.count(),
            IdempotencyRecord.objects.count(), StockMovement.objects.count(),
            list(StockLevel.objects.order_by("sku_id").values_list("quantity", flat=True)),
            list(CartLine.objects.order_by("id").values_list("sku_id", "quantity")))


def _buy(user, address, sku, qty=1, key=None):
    return place_order(actor=user, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": qty}],
                       idempotency_key=key)


# --- open unpaid orders per account ------------------------------------------------


def test_the_unpaid_order_cap_refuses_the_next_checkout_and_writes_nothing(shopper, address, big_sku, settings):
    settings.MAX_UNPAID_ORDERS = 3
    for _ in range(3):
        _buy(shopper, address, big_sku)
    before = _world()

    with pytest.raises(Conflict) as exc:
        _buy(shopper, address, big_sku, key="over-the-cap")

    assert (exc.value.status, exc.value.code) == (409, "too_many_unpaid_orders")
    assert list(exc.value.fields) == ["orders"]
    assert "3" in exc.value.fields["orders"][0]
    assert _world() == before


def test_paying_or_cancelling_frees_a_place_and_other_accounts_are_not_counted(
    shopper, other_shopper, address, big_sku, settings
):
    settings.MAX_UNPAID_ORDERS = 1
    first = _buy(shopper, address, big_sku)
    _buy(other_shopper, f.make_address(other_shopper), big_sku)  # someone else's unpaid order
    cancel_by_buyer(actor=shopper, order_id=first.order_ids[0])
    assert _buy(shopper, address, big_sku).order_ids


def test_a_multi_shop_checkout_counts_each_order(shopper, address, big_sku, other_shop, settings):
    settings.MAX_UNPAID_ORDERS = 1
    other = f.make_product(other_shop, price="3.00", stock=5).skus.get()
    before = _world()
    with pytest.raises(Conflict):
        place_order(actor=shopper, address_id=address.pk,
                    lines=[{"sku_id": big_sku.pk, "quantity": 1}, {"sku_id": other.pk, "quantity": 1}])
    assert _world() == before


def test_the_api_answers_409_naming_the_field(api, shopper, shopper_token, address, big_sku, settings):
    settings.MAX_UNPAID_ORDERS = 1
    _buy(shopper, address, big_sku)
    before = _world()
    response = api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": big_sku.pk, "quantity": 1}]},
                        token=shopper_token)
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_unpaid_orders"
    assert list(response.json()["fields"]) == ["orders"]
    assert _world() == before


# --- units of one SKU per order --------------------------------------------------------


def test_units_of_one_sku_per_order_are_capped_and_nothing_is_written(shopper, address, big_sku, settings):
    settings.MAX_UNITS_PER_SKU = 50
    assert _buy(shopper, address, big_sku, 50).order_ids
    before = _world()

    with pytest.raises(ValidationFailed) as exc:
        _buy(shopper, address, big_sku, 51)
    assert exc.value.status == 422
    assert exc.value.fields == {"lines[0].quantity": ["At most 50 units of one item per order."]}

    with pytest.raises(ValidationFailed) as exc:  # split over two lines, merged
        place_order(actor=shopper, address_id=address.pk,
                    lines=[{"sku_id": big_sku.pk, "quantity": 30}, {"sku_id": big_sku.pk, "quantity": 21}])
    assert list(exc.value.fields) == ["lines[1].quantity"]
    assert _world() == before


def test_the_default_caps(settings):
    from shopyard.checkout.limits import max_units_per_sku, max_unpaid_orders

    assert (settings.MAX_UNITS_PER_SKU, settings.MAX_UNPAID_ORDERS) == (50, 10)
    settings.MAX_UNITS_PER_SKU = 5000  # never above what the quantity parser accepts
    assert (max_units_per_sku(), max_unpaid_orders()) == (settings.MAX_LINE_QUANTITY, 10)


def test_the_api_refuses_too_many_units_with_a_field_message(api, shopper_token, address, big_sku):
    before = _world()
    response = api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": big_sku.pk, "quantity": 51}]},
                        token=shopper_token)
    assert response.status_code == 422
    assert response.json()["fields"] == {"lines[0].quantity": ["At most 50 units of one item per order."]}
    assert _world() == before


def test_the_cart_quantity_limit_follows_the_per_order_cap(api, shopper, shopper_token, big_sku, settings):
    settings.MAX_UNITS_PER_SKU = 20
    assert api.post("/cart/lines", {"sku_id": big_sku.pk, "quantity": 15}, token=shopper_token).status_code == 201
    before = _world()

    added = api.post("/cart/lines", {"sku_id": big_sku.pk, "quantity": 6}, token=shopper_token)
    line = CartLine.objects.get()
    patched = api.patch(f"/cart/lines/{line.pk}", {"quantity": 21}, token=shopper_token)

    for response in (added, patched):
        assert response.status_code == 422
        assert response.json()["fields"] == {"quantity": ["The quantity may be at most 20."]}
    assert _world() == before


def test_merging_a_guest_cart_stops_at_the_cap(shopper, big_sku, settings):
    settings.MAX_UNITS_PER_SKU = 20
    guest = cart_services.get_cart(session_key="guest-1", create=True)
    cart_services.add_line(cart=guest, sku_id=big_sku.pk, quantity=15)
    mine = cart_services.get_cart(user=shopper, create=True)
    cart_services.add_line(cart=mine, sku_id=big_sku.pk, quantity=15)
    cart_services.merge_guest_cart(session_key="guest-1", user=shopper)
    assert list(CartLine.objects.values_list("quantity", flat=True)) == [20]


# --- out of stock: one code, one status -------------------------------------------------


def test_out_of_stock_is_409_out_of_stock_in_the_cart_service(shopper, sku):
    cart = cart_services.get_cart(user=shopper, create=True)
    with pytest.raises(OutOfStock) as exc:
        cart_services.add_line(cart=cart, sku_id=sku.pk, quantity=11)
    assert (exc.value.status, exc.value.code) == (409, "out_of_stock")
    assert not CartLine.objects.exists()


def test_out_of_stock_is_the_same_409_in_cart_api_checkout_api_and_pages(
    api, client, shopper, shopper_token, address, sku
):
    add = api.post("/cart/lines", {"sku_id": sku.pk, "quantity": 11}, token=shopper_token)
    api.post("/cart/lines", {"sku_id": sku.pk, "quantity": 3}, token=shopper_token)
    line = CartLine.objects.get()
    patch = api.patch(f"/cart/lines/{line.pk}", {"quantity": 11}, token=shopper_token)
    StockLevel.objects.filter(sku=sku).update(quantity=2)
    before = _world()
    checkout = api.post("/orders", {"address_id": address.pk}, token=shopper_token)
    buy_now = api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 3}]},
                       token=shopper_token)

    client.force_login(shopper)
    page_add = client.post(reverse("storefront:cart_add"), {"sku_id": sku.pk, "quantity": "5"})
    page_set = client.post(reverse("storefront:cart_line_update", args=[line.pk]), {"quantity": "5"})
    page_checkout = client.post(reverse("storefront:checkout"), {"address_id": address.pk, "token": "oos"})

    for response in (add, patch, checkout, buy_now):
        assert (response.status_code, response.json()["code"]) == (409, "out_of_stock"), response.content
    assert [r.status_code for r in (page_add, page_set, page_checkout)] == [409, 409, 409]
    assert _world() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_keys", [False, True], ids=["no key", "a key each"])
def test_parallel_checkouts_of_one_account_cannot_pass_the_unpaid_cap_together(settings, with_keys):
    """With a key, the key's INSERT takes the account's row lock (one statement: the API's checkouts
    all carry one); without, a locking read does."""
    import threading

    from django.db import connection

    # given an account allowed 2 unpaid orders and 6 of its checkouts starting at once
    settings.MAX_UNPAID_ORDERS = 2
    seller = f.make_user("hoard-seller")
    sku = f.make_product(f.make_shop(owner=seller), price="5.00", stock=100).skus.get()
    buyer = f.make_user("hoarder")
    address = f.make_address(buyer)
    barrier = threading.Barrier(6)
    outcomes = [None] * 6

    def buy(i):
        try:
            barrier.wait(timeout=60)
            place_order(actor=buyer, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}],
                        idempotency_key=f"hoard-{i}" if with_keys else None)
            outcomes[i] = "ok"
        except Conflict as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # anything else is a bug
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    # then the user's row lock lets exactly two through
    assert not any(t.is_alive() for t in threads)
    assert sorted(outcomes) == ["ok", "ok"] + ["too_many_unpaid_orders"] * 4
    assert Order.objects.filter(user=buyer).count() == 2
    assert StockLevel.objects.get(sku=sku).quantity == 98


def test_the_quantity_inputs_offer_no_more_than_the_cap(client, shopper, big_sku, settings):
    settings.MAX_UNITS_PER_SKU = 20
    product_page = client.get(f"/p/{big_sku.product_id}/", follow=True).content.decode()
    assert 'name="quantity" value="1" min="1" max="20"' in product_page
    client.force_login(shopper)
    client.post(reverse("storefront:cart_add"), {"sku_id": big_sku.pk, "quantity": "3"})
    assert 'value="3" min="1" max="20"' in client.get(reverse("storefront:cart")).content.decode()
