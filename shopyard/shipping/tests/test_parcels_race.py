"""Two sellers' parcels race for the same units: real threads, real transactions,
on SQLite (IMMEDIATE transactions) and on PostgreSQL (the order row lock). However
they interleave, an order never ships more than was ordered."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum

from shopyard.core.errors import ValidationFailed
from shopyard.orders.models import Order, OrderStatusChange
from shopyard.shipping import services
from shopyard.shipping.models import Shipment, ShipmentLine
from tests import factories as f

ROUNDS = 5


def _race(order_id, line_id, actor, numbers):
    """One thread per tracking number, each sending a parcel of 2 units of the line."""
    barrier = threading.Barrier(len(numbers))
    outcomes = [None] * len(numbers)

    def send(i, number):
        try:
            barrier.wait(timeout=60)
            order = Order.objects.get(pk=order_id)
            services.ship_parcel(actor=actor, order=order, carrier="sf", tracking_number=number,
                                 lines=[{"line_id": line_id, "quantity": 2}])
            outcomes[i] = "ok"
        except ValidationFailed as exc:
            outcomes[i] = ("refused", tuple(exc.fields))
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, n)) for i, n in enumerate(numbers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a seller thread hung"
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("already_shipped", [0, 1], ids=["first-parcel", "later-parcels"])
def test_two_parcels_racing_never_ship_more_than_was_ordered(already_shipped):
    seller = f.make_user("parcel-race-seller")
    shop = f.make_shop(owner=seller, shipping_fee="0")
    sku = f.make_product(shop, price="10.00", stock=3 * ROUNDS).skus.get()  # enough for either case
    shopper = f.make_user("parcel-race-shopper")
    address = f.make_address(shopper)

    for round_no in range(ROUNDS):
        # given a paid order of 2 units left to ship (3 ordered, 1 maybe sent already: it is shipped)
        order = f.make_paid_order(shopper, address, [(sku, 2 + already_shipped)])
        line = order.lines.get()
        if already_shipped:
            services.ship_parcel(actor=seller, order=order, carrier="sf", tracking_number=f"SF2000000000{round_no}0",
                                 lines=[{"line_id": line.pk, "quantity": already_shipped}])

        # when two threads each send a parcel of 2 at the same instant
        outcomes = _race(order.pk, line.pk, seller, [f"SF1000000000{round_no}1", f"SF1000000000{round_no}2"])

        # then one parcel left and the other was refused on its lines: every unit shipped once
        assert Counter(map(str, outcomes)) == {"ok": 1, "('refused', ('lines',))": 1}, outcomes
        assert ShipmentLine.objects.filter(line=line).aggregate(n=Sum("quantity"))["n"] == line.quantity
        assert Shipment.objects.filter(order=order).count() == 1 + already_shipped
        assert Order.objects.get(pk=order.pk).status == "shipped"
        assert OrderStatusChange.objects.filter(order=order, action="ship").count() == 1
