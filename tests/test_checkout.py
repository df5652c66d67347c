"""Checkout: one order per shop and one payment for them all, prices and fees
computed by the server from the catalogue, bad input refused with field errors
and no partial writes."""

from decimal import Decimal

import pytest

from shopyard.cart import services as cart_services
from shopyard.cart.models import CartLine
from shopyard.catalog import services as catalog
from shopyard.catalog.models import Sku
from shopyard.checkout.services import place_order
from shopyard.core.errors import NotFound, OutOfStock, ValidationFailed
from shopyard.core.models import IdempotencyRecord, OutboxEvent
from shopyard.inventory import services as inventory
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order, OrderLine, OrderStatusChange
from shopyard.payments.models import Payment

from . import factories as f


def _cart(user):
    return cart_services.get_cart(user=user, create=True)


def _world():
    """Everything a checkout could write, to prove a refused one wrote nothing."""
    return {
        "orders": list(Order.objects.values_list("id", "status")),
        "order_lines": OrderLine.objects.count(),
        "history": OrderStatusChange.objects.count(),
        "payments": list(Payment.objects.values_list("id", "status")),
        "stock": dict(StockLevel.objects.values_list("sku_id", "quantity")),
        "movements": StockMovement.objects.count(),
        "cart": sorted(CartLine.objects.values_list("cart_id", "sku_id", "quantity")),
        "idempotency": IdempotencyRecord.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def test_cart_of_two_shops_becomes_two_orders_and_one_payment(
    shopper, address, shop, other_shop, sku, other_sku
):
    # given a cart with 2 × 59.90 from shop A (fee 10) and 1 × 35.50 from shop B (fee 8)
    cart = _cart(shopper)
    cart_services.add_line(cart=cart, sku_id=sku.pk, quantity=2)
    cart_services.add_line(cart=cart, sku_id=other_sku.pk, quantity=1)

    # when the shopper checks out the cart
    placed = place_order(actor=shopper, address_id=address.pk, note="  请周末送货 ")

    # then there is one order per shop...
    assert len(placed.order_ids) == 2 and not placed.replayed
    by_shop = {o.shop_id: o for o in Order.objects.filter(pk__in=placed.order_ids)}
    a, b = by_shop[shop.pk], by_shop[other_shop.pk]
    assert (a.subtotal, a.shipping_fee, a.total) == (
        Decimal("119.80"),
        Decimal("10.00"),
        Decimal("129.80"),
    )
    assert (b.subtotal, b.shipping_fee, b.total) == (
        Decimal("35.50"),
        Decimal("8.00"),
        Decimal("43.50"),
    )
    for order in (a, b):
        assert order.user == shopper
        assert order.status == "pending_payment"
        assert order.currency == "CNY"
        assert str(order.checkout_id) == placed.checkout_id
        assert order.note == "请周末送货"
        assert order.shipping_address == address.snapshot()
        assert list(order.history.values_list("from_status", "to_status", "action", "actor")) == [
            ("", "pending_payment", "place", shopper.pk)
        ]
    assert list(a.lines.values_list("sku_id", "quantity", "unit_price", "line_total")) == [
        (sku.pk, 2, Decimal("59.90"), Decimal("119.80"))
    ]
    assert list(b.lines.values_list("sku_id", "quantity", "unit_price", "line_total")) == [
        (other_sku.pk, 1, Decimal("35.50"), Decimal("35.50"))
    ]
    line = a.lines.get()
    assert (line.product_title, line.sku_code) == (sku.product.title, sku.code)
    # ...one payment covering both, for the sum of their totals
    payment = Payment.objects.get(pk=placed.payment_id)
    assert payment.amount == Decimal("173.30") == a.total + b.total
    assert (payment.status, payment.currency, payment.user) == ("pending", "CNY", shopper)
    assert set(payment.orders.values_list("pk", flat=True)) == set(placed.order_ids)
    # stock was taken, the cart emptied, an event written
    assert StockLevel.objects.get(sku=sku).quantity == 8
    assert StockLevel.objects.get(sku=other_sku).quantity == 4
    assert not CartLine.objects.filter(cart=cart).exists()
    event = OutboxEvent.objects.get(name="checkout.placed")
    assert event.payload == {
        "checkout_id": placed.checkout_id,
        "order_ids": placed.order_ids,
        "user_id": shopper.pk,
    }


def test_price_charged_is_the_catalogue_price_at_checkout(
    shopper, seller, shop, address, sku, product
):
    # given the shopper added the SKU at 59.90
    cart_services.add_line(cart=_cart(shopper), sku_id=sku.pk, quantity=1)
    # when the seller changes the price to 49.90 before checkout
    catalog.update_product(
        actor=seller,
        shop=shop,
        product_id=product.pk,
        data={
            "category_id": product.category_id,
            "title": product.title,
            "skus": [{"code": sku.code, "price": "49.90", "stock": 10, "options": []}],
        },
    )
    placed = place_order(actor=shopper, address_id=address.pk)
    # then the new price is what's charged
    order = Order.objects.get(pk=placed.order_ids[0])
    assert order.lines.get().unit_price == Decimal("49.90")
    assert order.total == Decimal("59.90")  # 49.90 + 10.00 shipping
    assert Payment.objects.get(pk=placed.payment_id).amount == Decimal("59.90")


def test_prices_and_totals_sent_by_the_client_are_ignored(shopper, address, sku):
    placed = place_order(
        actor=shopper,
        address_id=address.pk,
        lines=[
            {
                "sku_id": sku.pk,
                "quantity": 1,
                "price": "0.01",
                "unit_price": "0.01",
                "total": "0.01",
            },
        ],
    )
    order = Order.objects.get(pk=placed.order_ids[0])
    assert (order.lines.get().unit_price, order.total) == (Decimal("59.90"), Decimal("69.90"))


@pytest.mark.parametrize(
    "price, quantity, fee",
    [
        ("59.90", 4, "0.00"),  # 239.60 >= 199: free
        ("199.00", 1, "0.00"),  # exactly the threshold: free
        ("198.99", 1, "10.00"),  # one fen below: the shop's fee
        ("66.33", 3, "10.00"),  # 198.99 over three units: the shop's fee
    ],
)
def test_shipping_fee_per_shop_and_free_shipping_threshold(
    shopper, address, shop, price, quantity, fee
):
    # given a shop charging 10.00, free from 199.00
    sku = f.make_product(shop, price=price, stock=10).skus.get()
    # when the shopper buys `quantity` units
    placed = place_order(
        actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": quantity}]
    )
    # then the fee follows the threshold and the total includes it
    order = Order.objects.get(pk=placed.order_ids[0])
    subtotal = Decimal(price) * quantity
    assert order.subtotal == subtotal
    assert order.shipping_fee == Decimal(fee)
    assert order.total == subtotal + Decimal(fee)


def test_each_shop_charges_its_own_fee(shopper, address, shop, other_shop):
    # given 200.00 from shop A (free over 199) and 200.00 from shop B (no free threshold, fee 8)
    a = f.make_product(shop, price="200.00").skus.get()
    b = f.make_product(other_shop, price="200.00").skus.get()
    placed = place_order(
        actor=shopper,
        address_id=address.pk,
        lines=[
            {"sku_id": a.pk, "quantity": 1},
            {"sku_id": b.pk, "quantity": 1},
        ],
    )
    fees = dict(
        Order.objects.filter(pk__in=placed.order_ids).values_list("shop_id", "shipping_fee")
    )
    assert fees == {shop.pk: Decimal("0"), other_shop.pk: Decimal("8.00")}
    assert Payment.objects.get(pk=placed.payment_id).amount == Decimal("408.00")


def test_line_totals_are_rounded_half_up_to_two_places(shopper, address, shop):
    # given a unit price with four decimal places (as a future discount may produce)
    sku = f.make_product(shop, price="1.00").skus.get()
    Sku.objects.filter(pk=sku.pk).update(price=Decimal("0.3350"))
    # when 3 are ordered
    placed = place_order(
        actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 3}]
    )
    # then the unit price is kept exact and the line total is 1.005 rounded half-up
    order = Order.objects.get(pk=placed.order_ids[0])
    line = order.lines.get()
    assert line.unit_price == Decimal("0.3350")
    assert line.line_total == Decimal("1.01")
    assert order.subtotal == Decimal("1.01")
    assert order.total == Decimal("11.01")
    assert Payment.objects.get(pk=placed.payment_id).amount == Decimal("11.01")


def test_same_sku_on_two_lines_is_merged(shopper, address, sku):
    placed = place_order(
        actor=shopper,
        address_id=address.pk,
        lines=[
            {"sku_id": sku.pk, "quantity": 1},
            {"sku_id": str(sku.pk), "quantity": "2"},
        ],
    )
    order = Order.objects.get(pk=placed.order_ids[0])
    assert list(order.lines.values_list("sku_id", "quantity")) == [(sku.pk, 3)]
    assert StockLevel.objects.get(sku=sku).quantity == 7


BAD_QUANTITIES = [
    0,
    -1,
    1.5,
    "abc",
    True,
    False,
    10**9,
    None,
    "1.5",
    "",
    " ",
    "-1",
    "²",
    "9" * 5000,
    [],
    {},
]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES, ids=[repr(q)[:12] for q in BAD_QUANTITIES])
def test_bad_quantities_are_refused_with_a_field_error_and_no_writes(
    shopper, address, sku, quantity
):
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(
            actor=shopper,
            address_id=address.pk,
            idempotency_key="k1",
            lines=[
                {"sku_id": sku.pk, "quantity": 1},
                {"sku_id": sku.pk + 1000, "quantity": quantity},
            ],
        )
    assert exc.value.status == 422
    assert list(exc.value.fields) == ["lines[1].quantity"]
    assert _world() == before


def test_merged_quantity_over_the_limit_is_refused(shopper, address, sku, settings):
    settings.MAX_UNITS_PER_SKU = 999  # the per-order cap at the parser's bound
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(
            actor=shopper,
            address_id=address.pk,
            lines=[{"sku_id": sku.pk, "quantity": 500}, {"sku_id": sku.pk, "quantity": 500}],
        )
    assert list(exc.value.fields) == ["lines[1].quantity"]
    assert "999" in exc.value.fields["lines[1].quantity"][0]
    assert _world() == before


@pytest.mark.parametrize("sku_id", ["abc", True, -5, 0, 1.0, None, "²", 2**63])
def test_malformed_sku_ids_are_refused(shopper, address, sku_id):
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku_id, "quantity": 1}])
    assert list(exc.value.fields) == ["lines[0].sku_id"]
    assert _world() == before


@pytest.mark.parametrize("lines", [[], "x", [1], [None], {"sku_id": 1, "quantity": 1}, [{}] * 101])
def test_malformed_line_lists_are_refused(shopper, address, lines):
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(actor=shopper, address_id=address.pk, lines=lines)
    assert set(exc.value.fields) <= {"lines", "lines[0]"} and exc.value.fields
    assert _world() == before


def _unpublish(seller, shop, sku):
    catalog.set_published(actor=seller, shop=shop, product_id=sku.product_id, published=False)


def _deactivate(seller, shop, sku):
    Sku.objects.filter(pk=sku.pk).update(is_active=False)


def _close_shop(seller, shop, sku):
    type(shop).objects.filter(pk=shop.pk).update(status="suspended")


@pytest.mark.parametrize(
    "make_unavailable",
    [None, _unpublish, _deactivate, _close_shop],
    ids=["unknown", "unpublished", "inactive", "shop-closed"],
)
def test_unavailable_skus_are_not_found_and_nothing_is_written(
    shopper, seller, shop, address, sku, other_sku, make_unavailable
):
    # given a good line from another shop and a second line that is not for sale
    if make_unavailable is None:
        bad_id = Sku.objects.order_by("-pk").first().pk + 100
    else:
        make_unavailable(seller, shop, sku)
        bad_id = sku.pk
    before = _world()
    # when the shopper orders both
    with pytest.raises(NotFound) as exc:
        place_order(
            actor=shopper,
            address_id=address.pk,
            idempotency_key="k2",
            lines=[{"sku_id": other_sku.pk, "quantity": 1}, {"sku_id": bad_id, "quantity": 1}],
        )
    # then a 404 names the line, and no order, payment, stock move or key was written
    assert exc.value.status == 404
    assert list(exc.value.fields) == ["lines[1].sku_id"]
    assert _world() == before


def test_another_users_address_is_not_found(shopper, other_shopper, address, sku):
    theirs = f.make_address(other_shopper)
    before = _world()
    with pytest.raises(NotFound) as exc:
        place_order(actor=shopper, address_id=theirs.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    assert exc.value.status == 404
    assert list(exc.value.fields) == ["address_id"]
    assert _world() == before


@pytest.mark.parametrize("address_id", ["abc", None, 0, -1, True])
def test_malformed_address_id_is_refused(shopper, sku, address_id):
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(actor=shopper, address_id=address_id, lines=[{"sku_id": sku.pk, "quantity": 1}])
    assert list(exc.value.fields) == ["address_id"]
    assert _world() == before


def test_empty_cart_is_refused(shopper, address):
    _cart(shopper)
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(actor=shopper, address_id=address.pk)
    assert list(exc.value.fields) == ["lines"]
    assert _world() == before


def test_no_cart_at_all_is_refused(shopper, address):
    with pytest.raises(ValidationFailed) as exc:
        place_order(actor=shopper, address_id=address.pk)
    assert list(exc.value.fields) == ["lines"]
    assert not Order.objects.exists()


def test_too_long_note_is_refused(shopper, address, sku):
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(
            actor=shopper,
            address_id=address.pk,
            note="备" * 201,
            lines=[{"sku_id": sku.pk, "quantity": 1}],
        )
    assert list(exc.value.fields) == ["note"]
    assert _world() == before


def test_items_in_two_currencies_are_refused(shopper, address, sku, other_shop):
    other_shop.currency = "USD"
    other_shop.save(update_fields=["currency"])
    usd = f.make_product(other_shop, price="5.00").skus.get()
    before = _world()
    with pytest.raises(ValidationFailed) as exc:
        place_order(
            actor=shopper,
            address_id=address.pk,
            lines=[{"sku_id": sku.pk, "quantity": 1}, {"sku_id": usd.pk, "quantity": 1}],
        )
    assert list(exc.value.fields) == ["lines"]
    assert _world() == before


def test_failed_checkout_with_one_line_out_of_stock_leaves_everything_unchanged(
    shopper, address, sku, other_sku
):
    # given a cart with two lines, then the second SKU sells out elsewhere
    cart = _cart(shopper)
    cart_services.add_line(cart=cart, sku_id=sku.pk, quantity=2)
    cart_services.add_line(cart=cart, sku_id=other_sku.pk, quantity=2)
    inventory.set_stock(sku=other_sku, quantity=1)
    before = _world()
    # when the shopper checks out
    with pytest.raises(OutOfStock) as exc:
        place_order(actor=shopper, address_id=address.pk, idempotency_key="retry-me")
    # then a clear 409 "out of stock" names the line...
    assert (exc.value.status, exc.value.code) == (409, "out_of_stock")
    assert list(exc.value.fields) == ["lines[1].quantity"]
    assert other_sku.code in exc.value.fields["lines[1].quantity"][0]
    # ...and stock, orders, payments, cart and idempotency keys are unchanged
    assert _world() == before
    assert StockLevel.objects.get(sku=sku).quantity == 10
    assert CartLine.objects.filter(cart=cart).count() == 2


def test_checkout_from_cart_only_removes_the_ordered_lines(shopper, address, sku, other_sku):
    # given a cart line, then checkout of the cart; a line added afterwards stays
    cart = _cart(shopper)
    cart_services.add_line(cart=cart, sku_id=sku.pk, quantity=1)
    place_order(actor=shopper, address_id=address.pk)
    cart_services.add_line(cart=cart, sku_id=other_sku.pk, quantity=1)
    # when the shopper buys something else with an explicit line list
    place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    # then the cart is untouched by a buy-now checkout
    assert list(CartLine.objects.filter(cart=cart).values_list("sku_id", "quantity")) == [
        (other_sku.pk, 1)
    ]


def test_out_of_stock_error_names_the_line_as_sent(shopper, address, sku, other_sku):
    # given the out-of-stock SKU is the first line sent but has the higher id
    assert other_sku.pk > sku.pk
    before = _world()
    with pytest.raises(OutOfStock) as exc:
        place_order(
            actor=shopper,
            address_id=address.pk,
            lines=[{"sku_id": other_sku.pk, "quantity": 6}, {"sku_id": sku.pk, "quantity": 1}],
        )
    assert list(exc.value.fields) == ["lines[0].quantity"]
    assert _world() == before
