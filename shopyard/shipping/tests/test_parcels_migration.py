"""Shipments written before parcels (one per order) become parcels holding every
line of their order, in full; a completed order's parcel counts as delivered."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from shopyard.orders.models import Order
from shopyard.shipping.models import Shipment
from tests import factories as f

BEFORE = [("shipping", "0002_freight_templates")]


@pytest.mark.django_db(transaction=True)
def test_existing_shipments_become_parcels_of_every_line(shopper, address, shop, sku):
    second = f.make_product(shop, price="19.90", stock=5).skus.get()
    shipped = f.make_paid_order(shopper, address, [(sku, 2), (second, 1)])
    completed = f.make_paid_order(shopper, address, [(sku, 1)])
    Order.objects.filter(pk=shipped.pk).update(status="shipped")
    Order.objects.filter(pk=completed.pk).update(status="completed")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("shipping", "Shipment")
    old.objects.create(order_id=shipped.pk, carrier="sf", tracking_number="SF1234567890")
    old.objects.create(order_id=completed.pk, carrier="zto", tracking_number="ZT2222222222")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # 0003_parcels and anything after it

    parcel = Shipment.objects.get(order_id=shipped.pk)
    assert sorted(parcel.lines.values_list("line__sku_id", "quantity")) == sorted([(sku.pk, 2), (second.pk, 1)])
    assert (parcel.status, parcel.tracking_number) == ("in_transit", "SF1234567890")
    done = Shipment.objects.get(order_id=completed.pk)
    assert done.status == "delivered" and list(done.lines.values_list("quantity", flat=True)) == [1]
