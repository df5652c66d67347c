"""Parcels: an order ships in several parcels of chosen lines and quantities; the
first parcel ships the order; nothing ever ships more than was ordered; carriers
come from a list and tracking numbers must be in the carrier's format."""

import pytest
from django.urls import reverse

from shopyard.core.errors import Conflict, ValidationFailed
from shopyard.core.models import OutboxEvent
from shopyard.orders import services as orders
from shopyard.orders.models import Order, OrderStatusChange
from shopyard.shipping import services
from shopyard.shipping.models import Shipment, ShipmentLine
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_line_order(shopper, address, shop, sku):
    """A paid order: 3 of `sku` and 1 of a second product, the second a gift."""
    second = f.make_product(shop, price="19.90", stock=5).skus.get()
    order = f.make_paid_order(shopper, address, [(sku, 3), (second, 1)])
    main, gift = order.lines.order_by("id")
    gift.is_gift = True
    gift.save(update_fields=["is_gift"])
    return order, main, gift


def _parcel(api, token, order, lines, carrier="sf", number="SF123456789012"):
    body = {"carrier": carrier, "tracking_number": number}
    if lines is not None:
        body["lines"] = [{"line_id": line.pk, "quantity": qty} for line, qty in lines]
    return api.post(f"/seller/orders/{order.pk}/parcels", body, token=token)


def _nothing_written(order, status="paid"):
    assert not Shipment.objects.filter(order=order).exists()
    assert not ShipmentLine.objects.exists()
    assert Order.objects.get(pk=order.pk).status == status
    assert not OutboxEvent.objects.filter(name__in=["shipment.shipped", "order.shipped"]).exists()


def test_an_order_ships_in_two_parcels_and_the_first_one_ships_it(api, seller_token, two_line_order):
    order, main, gift = two_line_order

    first = _parcel(api, seller_token, order, [(main, 2)])

    assert first.status_code == 201, first.content
    assert first.json()["lines"] == [{"line_id": main.pk, "quantity": 2}]
    assert first.json()["status"] == "in_transit"
    order.refresh_from_db()
    assert order.status == "shipped" and order.shipped_at is not None
    # the rest, with the gift, in a second parcel of another carrier
    second = _parcel(api, seller_token, order, [(main, 1), (gift, 1)], carrier="zto", number="73100000000001")
    assert second.status_code == 201, second.content
    assert Order.objects.get(pk=order.pk).status == "shipped"
    # one "ship" in the history (the first parcel), two shipment.shipped events
    assert list(OrderStatusChange.objects.filter(order=order, action="ship").values_list("note", flat=True)) == [
        "SF Express SF123456789012"]
    assert OutboxEvent.objects.filter(name="shipment.shipped", payload__order_id=order.pk).count() == 2
    listed = api.get(f"/seller/orders/{order.pk}/parcels", token=seller_token).json()
    assert [(p["carrier"], p["tracking_number"], p["lines"]) for p in listed] == [
        ("sf", "SF123456789012", [{"line_id": main.pk, "quantity": 2}]),
        ("zto", "73100000000001", [{"line_id": main.pk, "quantity": 1}, {"line_id": gift.pk, "quantity": 1}]),
    ]
    # nothing is left: a third parcel is refused
    third = _parcel(api, seller_token, order, [(main, 1)], number="SF123456789013")
    assert third.status_code == 422
    assert third.json()["fields"]["lines"] == [f"Line {main.pk} has 0 left to ship; 1 is too many."]
    assert Shipment.objects.filter(order=order).count() == 2


def test_a_parcel_without_lines_takes_everything_left(api, seller_token, two_line_order):
    order, main, gift = two_line_order
    assert _parcel(api, seller_token, order, [(main, 1)]).status_code == 201

    rest = _parcel(api, seller_token, order, None, number="SF123456789013")

    assert rest.status_code == 201
    assert rest.json()["lines"] == [{"line_id": main.pk, "quantity": 2}, {"line_id": gift.pk, "quantity": 1}]
    with pytest.raises(Conflict) as nothing:
        services.ship_parcel(actor=None, order=order, carrier="sf", tracking_number="SF123456789014")
    assert nothing.value.code == "nothing_to_ship"


def test_more_than_was_ordered_is_refused_and_nothing_is_written(api, seller_token, two_line_order):
    order, main, gift = two_line_order

    # 4 of a 3-unit line, and the same line twice adding up to 4
    over = _parcel(api, seller_token, order, [(main, 4)])
    twice = _parcel(api, seller_token, order, [(main, 2), (main, 2)])

    for response in (over, twice):
        assert response.status_code == 422
        assert response.json()["fields"] == {"lines": [f"Line {main.pk} has 3 left to ship; 4 is too many."]}
    _nothing_written(order)


def test_a_line_of_another_order_is_refused(api, seller_token, two_line_order, shopper, address, sku):
    order, main, _gift = two_line_order
    other = f.make_paid_order(shopper, address, [(sku, 1)]).lines.get()

    response = _parcel(api, seller_token, order, [(main, 1), (other, 1)])

    assert response.status_code == 422
    assert response.json()["fields"] == {"lines": [f"Line {other.pk} is not a line of this order."]}
    assert not Shipment.objects.exists()


@pytest.mark.parametrize("lines", [[], [{"line_id": "x", "quantity": 1}], [{"line_id": 1, "quantity": 0}]],
                         ids=["empty", "bad-id", "zero"])
def test_malformed_parcel_lines_are_refused(two_line_order, seller, lines):
    order, _main, _gift = two_line_order

    with pytest.raises(ValidationFailed) as refused:
        services.ship_parcel(actor=seller, order=order, carrier="sf", tracking_number="SF123456789012", lines=lines)

    assert set(refused.value.fields) == {"lines"}
    _nothing_written(order)


def test_another_shops_order_is_not_found(api, two_line_order, other_shop):
    order, main, _gift = two_line_order
    token = f.token_for(other_shop.members.get().user)

    assert _parcel(api, token, order, [(main, 1)]).status_code == 404
    assert api.get(f"/seller/orders/{order.pk}/parcels", token=token).status_code == 404
    assert not Shipment.objects.exists()


def test_an_unpaid_order_cannot_send_a_parcel(api, seller_token, shopper, address, sku):
    from shopyard.checkout.services import place_order

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    order = Order.objects.get(pk=placed.order_ids[0])

    response = api.post(f"/seller/orders/{order.pk}/parcels", {"carrier": "sf", "tracking_number": "SF123456789012"},
                        token=seller_token)

    assert response.status_code == 409
    _nothing_written(order, status="pending_payment")


GOOD_NUMBERS = [("sf", "SF1234567890123"), ("sf", "SF123456789012"), ("zto", "731234567890"), ("yto", "YT1234567890123"),
                ("sto", "7730123456789"), ("yunda", "4312345678901"), ("jd", "JDVA12345678901"), ("ems", "EA123456789CN"),
                ("ems", "1100123456789"), ("deppon", "DPK123456789012"), ("jt", "JT1234567890123"), ("other", "ABC-123")]
BAD_NUMBERS = [
    ("sf", "SF12345", "An SF Express number is SF followed by 12 or 13 digits (or 12 digits)."),
    ("zto", "ZT2222222222", "A ZTO number is 12 to 14 digits."),
    ("yto", "1234567890123", "A YTO number is YT followed by 13 to 15 digits."),
    ("jd", "SF1234567890123", "A JD Logistics number is JD followed by 13 to 15 letters or digits."),
    ("ems", "EA123456789", "An EMS number is 13 digits, or two letters, 9 digits and two letters (e.g. EA123456789CN)."),
    ("jt", "JT12345", "A J&T number is JT followed by 13 digits."),
    ("sf", "no!", "Enter 6 to 40 letters, digits or dashes."),
]


@pytest.mark.parametrize("carrier, number", GOOD_NUMBERS)
def test_each_carrier_accepts_its_own_format(two_line_order, seller, carrier, number):
    order, main, _gift = two_line_order

    parcel = services.ship_parcel(actor=seller, order=order, carrier=carrier, tracking_number=number,
                                  lines=[{"line_id": main.pk, "quantity": 1}])

    assert (parcel.carrier, parcel.tracking_number) == (carrier, number)


@pytest.mark.parametrize("carrier, number, message", BAD_NUMBERS, ids=[f"{c}-{n}" for c, n, _m in BAD_NUMBERS])
def test_a_tracking_number_in_the_wrong_format_is_refused_on_its_field(api, seller_token, two_line_order,
                                                                       carrier, number, message):
    order, main, _gift = two_line_order

    response = _parcel(api, seller_token, order, [(main, 1)], carrier=carrier, number=number)

    assert response.status_code == 422
    assert response.json()["fields"] == {"tracking_number": [message]}
    _nothing_written(order)


def test_an_unknown_carrier_is_refused(api, seller_token, two_line_order):
    order, main, _gift = two_line_order

    response = _parcel(api, seller_token, order, [(main, 1)], carrier="pigeon", number="SF123456789012")

    assert response.status_code == 422
    assert response.json()["fields"] == {"carrier": ["Choose a carrier from the list."]}
    _nothing_written(order)


def test_shipping_the_whole_order_is_one_parcel_with_every_line(two_line_order, seller, shop):
    order, main, gift = two_line_order

    shipped = orders.ship(actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF123456789012")

    assert shipped.status == "shipped"
    parcel = Shipment.objects.get(order=order)
    assert sorted(parcel.lines.values_list("line_id", "quantity")) == [(main.pk, 3), (gift.pk, 1)]
    # and the order cannot be shipped whole a second time
    with pytest.raises(Conflict):
        orders.ship(actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF123456789013")
    assert Shipment.objects.filter(order=order).count() == 1


def test_the_console_sends_a_parcel_of_chosen_quantities_then_the_rest(seller_client, two_line_order):
    order, main, gift = two_line_order
    url = reverse("console:order_ship", args=[order.pk])

    page = seller_client.get(reverse("console:order_detail", args=[order.pk]))
    assert f'name="qty-{main.pk}"' in page.content.decode()
    first = seller_client.post(url, {"carrier": "sf", "tracking_number": "SF123456789012", f"qty-{main.pk}": "2",
                                     f"qty-{gift.pk}": ""})
    assert first.status_code == 302
    assert Order.objects.get(pk=order.pk).status == "shipped"
    # the shipped order's page still offers a parcel for what is left
    page = seller_client.get(reverse("console:order_detail", args=[order.pk])).content.decode()
    assert "Send this parcel" in page and "1 left" in page
    over = seller_client.post(url, {"carrier": "sf", "tracking_number": "SF123456789013", f"qty-{main.pk}": "2",
                                    "parcel": "1"})
    assert over.status_code == 422
    assert over.context["ship_errors"] == {"lines": [f"Line {main.pk} has 1 left to ship; 2 is too many."]}
    rest = seller_client.post(url, {"carrier": "sf", "tracking_number": "SF123456789013", f"qty-{main.pk}": "1",
                                    f"qty-{gift.pk}": "1", "parcel": "1"})
    assert rest.status_code == 302
    assert [sorted(p.lines.values_list("line_id", "quantity")) for p in Shipment.objects.order_by("pk")] == [
        [(main.pk, 2)], [(main.pk, 1), (gift.pk, 1)]]
    page = seller_client.get(reverse("console:order_detail", args=[order.pk])).content.decode()
    assert "Send this parcel" not in page and "Parcel 2" in page


def test_a_held_order_sends_no_parcel(api, seller_token, two_line_order):
    order, main, _gift = two_line_order
    orders.hold(order=order, reason="group_buy")

    response = _parcel(api, seller_token, order, [(main, 1)])

    assert (response.status_code, response.json()["code"]) == (409, "order_on_hold")
    _nothing_written(order)
