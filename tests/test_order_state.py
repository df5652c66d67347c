"""The order state machine: one table-driven walk over every (status, action)
pair, stock release on cancellation, and the history of a full life cycle."""

import itertools

import pytest
from django.utils import timezone

from shopyard.checkout.services import place_order
from shopyard.core.errors import InvalidTransition, NotFound, ValidationFailed
from shopyard.core.models import OutboxEvent
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders import services as orders
from shopyard.orders.models import Order, OrderStatusChange
from shopyard.orders.state import EVENTS, STAMPS, TRANSITIONS, Action, Status
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment
from shopyard.payments.services import handle_notification
from shopyard.shipping.models import Shipment

STAMP_FIELDS = ("paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at")


def _place(user, address, sku, quantity=1):
    placed = place_order(
        actor=user, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": quantity}]
    )
    return Order.objects.get(pk=placed.order_ids[0])


def _stock(sku):
    return StockLevel.objects.get(sku=sku).quantity


def _order_state(order):
    row = Order.objects.values("status", *STAMP_FIELDS).get(pk=order.pk)
    history = list(
        OrderStatusChange.objects.filter(order=order).values_list(
            "from_status", "to_status", "action"
        )
    )
    return row, history


def test_transition_table_only_names_known_states_and_actions():
    for (source, action), target in TRANSITIONS.items():
        assert source in Status.values
        assert action in Action.values
        assert target in Status.values
    # every state but the terminal ones can be left, every state can be reached
    assert {s for s, _a in TRANSITIONS} == {Status.PENDING_PAYMENT, Status.PAID, Status.SHIPPED, Status.DELIVERED}
    assert set(TRANSITIONS.values()) | {Status.PENDING_PAYMENT} == set(Status.values)


ALL_PAIRS = list(itertools.product(Status.values, Action.values))


@pytest.mark.parametrize("status, action", ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_every_status_action_pair_follows_the_table(status, action, shopper, seller, address, sku):
    # given an order in `status` (the 1 unit it bought is off the shelf)
    order = _place(shopper, address, sku)
    Order.objects.filter(pk=order.pk).update(status=status)
    stock_before = _stock(sku)
    movements_before = StockMovement.objects.count()
    history_before = OrderStatusChange.objects.filter(order=order).count()
    state_before = _order_state(order)
    target = TRANSITIONS.get((status, action))

    if target is not None:
        # when an allowed action is applied
        before = timezone.now()
        result = orders.transition(order, action, actor=seller, note="table walk")
        # then the order moved to the target state, stamped and recorded
        order.refresh_from_db()
        assert result.status == target == order.status
        stamp = STAMPS.get(target)
        if stamp:
            assert getattr(order, stamp) >= before
        change = OrderStatusChange.objects.filter(order=order).order_by("-id").first()
        assert OrderStatusChange.objects.filter(order=order).count() == history_before + 1
        assert (change.from_status, change.to_status, change.action) == (status, target, action)
        assert change.actor == seller
        assert change.actor_label == seller.username
        assert change.note == "table walk"
        assert OutboxEvent.objects.filter(
            name=EVENTS[target], payload__order_id=order.pk, payload__action=action
        ).exists()
        if target == Status.CANCELLED:
            assert _stock(sku) == stock_before + 1
            assert StockMovement.objects.filter(order=order, reason="release").get().delta == 1
        else:
            assert _stock(sku) == stock_before
    else:
        # when a forbidden action is applied, it is refused as a 409 ...
        with pytest.raises(InvalidTransition) as exc:
            orders.transition(order, action, actor=seller)
        assert exc.value.status == 409
        assert exc.value.code == "invalid_transition"
        # the message names the status and the action by their (translated) labels
        assert str(Status(status).label) in str(exc.value.message)
        assert str(Action(action).label) in str(exc.value.message)
        assert "status" in exc.value.fields
        # ... and nothing changed
        assert _order_state(order) == state_before
        assert _stock(sku) == stock_before
        assert StockMovement.objects.count() == movements_before
        assert not OutboxEvent.objects.filter(name__startswith="order.").exclude(name="order.placed").exists()


def test_buyer_cancel_releases_stock_and_cancels_the_payment(
    shopper, address, sku, django_capture_on_commit_callbacks
):
    # given an unpaid order for 3 units (10 in stock)
    order = _place(shopper, address, sku, quantity=3)
    payment = Payment.objects.get(orders=order)
    assert _stock(sku) == 7
    # when the buyer cancels it (payments close the payment when order.cancelled reaches them)
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel_by_buyer(actor=shopper, order_id=order.pk, reason="changed my mind")
    # then the units are back on the shelf, the ledger shows it, the payment is closed
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Status.CANCELLED and order.cancelled_at is not None
    assert _stock(sku) == 10
    assert list(
        StockMovement.objects.filter(order=order).order_by("id").values_list("reason", "delta")
    ) == [
        ("order", -3),
        ("release", 3),
    ]
    assert payment.status == Payment.Status.CANCELLED
    last = OrderStatusChange.objects.filter(order=order).last()
    assert (last.action, last.actor, last.note) == ("cancel", shopper, "changed my mind")


def test_cancelling_twice_is_refused_and_releases_stock_only_once(shopper, address, sku):
    order = _place(shopper, address, sku, quantity=2)
    orders.cancel_by_buyer(actor=shopper, order_id=order.pk)
    assert _stock(sku) == 10
    with pytest.raises(InvalidTransition):
        orders.cancel_by_buyer(actor=shopper, order_id=order.pk)
    assert _stock(sku) == 10
    assert StockMovement.objects.filter(order=order, reason="release").count() == 1


def test_another_users_order_cannot_be_cancelled_or_confirmed(shopper, other_shopper, address, sku):
    order = _place(shopper, address, sku)
    before = _order_state(order)
    with pytest.raises(NotFound):
        orders.cancel_by_buyer(actor=other_shopper, order_id=order.pk)
    with pytest.raises(NotFound):
        orders.confirm_receipt(actor=other_shopper, order_id=order.pk)
    assert _order_state(order) == before
    assert _stock(sku) == 9


def _pay(order):
    payment = Payment.objects.get(orders=order)
    body, headers = simulated.build_notification(payment=payment, status="success")
    assert handle_notification(gateway="simulated", body=body, headers=headers) == "applied"


def test_full_life_cycle_history_lists_every_state_with_time_and_actor(
    shopper, seller, shop, address, sku
):
    # given an order placed by the shopper
    started = timezone.now()
    order = _place(shopper, address, sku)
    # when it is paid (gateway), shipped (seller) and confirmed (shopper)
    _pay(order)
    orders.ship(
        actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF1234567890123"
    )
    orders.confirm_receipt(actor=shopper, order_id=order.pk)
    # then the history lists every state in order, with times and actors
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    history = list(OrderStatusChange.objects.filter(order=order).order_by("id"))
    assert [(h.from_status, h.to_status, h.action, h.actor, h.actor_label) for h in history] == [
        ("", "pending_payment", "place", shopper, shopper.username),
        ("pending_payment", "paid", "pay", None, "system"),
        ("paid", "shipped", "ship", seller, seller.username),
        ("shipped", "completed", "confirm_receipt", shopper, shopper.username),
    ]
    times = [h.created_at for h in history]
    assert times == sorted(times) and times[0] >= started
    assert started <= order.placed_at <= order.paid_at <= order.shipped_at <= order.completed_at
    assert order.cancelled_at is None
    assert history[2].note == "SF Express SF1234567890123"
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number, shipment.shipped_by) == (
        "sf",
        "SF1234567890123",
        seller,
    )


def test_shipping_an_unpaid_order_is_refused_without_a_shipment(
    seller, shop, shopper, address, sku
):
    order = _place(shopper, address, sku)
    before = _order_state(order)
    with pytest.raises(InvalidTransition) as exc:
        orders.ship(
            actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF1234567890123"
        )
    assert exc.value.status == 409
    assert _order_state(order) == before
    assert not Shipment.objects.exists()


def test_shipping_with_bad_carrier_data_changes_nothing(seller, shop, shopper, address, sku):
    order = _place(shopper, address, sku)
    _pay(order)
    before = _order_state(order)
    with pytest.raises(ValidationFailed) as exc:
        orders.ship(
            actor=seller, shop=shop, order_id=order.pk, carrier="pigeon", tracking_number="x"
        )
    assert set(exc.value.fields) == {"carrier", "tracking_number"}
    assert _order_state(order) == before
    assert not Shipment.objects.exists()


def test_another_shop_cannot_ship_the_order(seller, shop, other_shop, shopper, address, sku):
    order = _place(shopper, address, sku)
    _pay(order)
    before = _order_state(order)
    with pytest.raises(NotFound):
        orders.ship(
            actor=seller,
            shop=other_shop,
            order_id=order.pk,
            carrier="sf",
            tracking_number="SF1234567890123",
        )
    assert _order_state(order) == before
    assert not Shipment.objects.exists()


def test_cancel_after_payment_is_refused(shopper, address, sku):
    order = _place(shopper, address, sku)
    _pay(order)
    before = _order_state(order)
    with pytest.raises(InvalidTransition):
        orders.cancel_by_buyer(actor=shopper, order_id=order.pk)
    assert _order_state(order) == before
    assert _stock(sku) == 9
