"""Tracking: events pushed through the signed webhook or polled from the simulated
carrier make each parcel's timeline on the shopper's and the seller's order pages;
every parcel delivered moves the order to delivered, which confirms receipt by
itself after SHOPYARD_AUTO_CONFIRM_DAYS; lost, returned or refused parcels show
and emit shipment.failed. Forged, stale, replayed or unknown pushes change nothing."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shopyard.core import periodic
from shopyard.core.models import OutboxEvent
from shopyard.orders import services as orders
from shopyard.orders.models import Order, OrderStatusChange
from shopyard.orders.state import BUYER_TABS
from shopyard.shipping import services
from shopyard.shipping.carriers import ADAPTERS, SimulatedCarrier
from shopyard.shipping.models import Shipment, TrackingEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_two_parcels(shopper, address, shop, sku, seller):
    """A paid order of 2 units sent in two parcels (SF and ZTO)."""
    order = f.make_paid_order(shopper, address, [(sku, 2)])
    line = order.lines.get()
    one = services.ship_parcel(actor=seller, order=order, carrier="sf", tracking_number="SF123456789012",
                               lines=[{"line_id": line.pk, "quantity": 1}])
    two = services.ship_parcel(actor=seller, order=order, carrier="zto", tracking_number="73100000000001",
                               lines=[{"line_id": line.pk, "quantity": 1}])
    return order, one, two


def _event(event_id, code, *, hours=0, location="上海", zh="", en=""):
    return {"id": event_id, "time": (timezone.now() + timedelta(hours=hours)).isoformat(), "code": code,
            "location": location, "description_zh": zh, "description_en": en}


def _console_page(seller, order):
    """The seller's console order page, in a browser of the seller's own."""
    browser = Client()
    browser.force_login(seller)
    return browser.get(reverse("console:order_detail", args=[order.pk])).content.decode()


def _state():
    return (list(TrackingEvent.objects.values_list("event_id", flat=True).order_by("pk")),
            list(Shipment.objects.values_list("status", "exception").order_by("pk")),
            list(Order.objects.values_list("status", flat=True)), OutboxEvent.objects.count())


def test_pushed_events_make_a_timeline_for_shopper_and_seller(client, api, shopper_token, seller,
                                                               in_two_parcels, shopper):
    order, one, _two = in_two_parcels

    pushed = f.push_tracking(client, [
        _event("e1", "accepted", location="深圳", zh="快件已揽收", en="Picked up by the courier"),
        _event("e2", "in_transit", hours=2, location="广州转运中心", zh="已到达转运中心", en="At the Guangzhou hub"),
    ], tracking_number="SF123456789012")

    assert pushed.status_code == 200, pushed.content
    assert pushed.json() == {"added": 2}
    detail = api.get(f"/orders/{order.pk}", token=shopper_token).json()
    first, second = detail["parcels"]
    assert [(e["code"], e["location"], e["description_en"], e["description_zh"]) for e in first["events"]] == [
        ("accepted", "深圳", "Picked up by the courier", "快件已揽收"),
        ("in_transit", "广州转运中心", "At the Guangzhou hub", "已到达转运中心")]
    assert second["events"] == [] and second["tracking_number"] == "73100000000001"
    assert detail["shipment"]["tracking_number"] == "SF123456789012"
    # the shopper's page (English, newest first) and the seller's console page show it
    client.force_login(shopper)
    page = client.get(reverse("storefront:order_detail", args=[order.pk])).content.decode()
    assert page.index("At the Guangzhou hub") < page.index("Picked up by the courier")
    assert "Parcel 2" in page and "No tracking updates yet." in page
    console = _console_page(seller, order)
    assert "At the Guangzhou hub" in console and "广州转运中心" in console
    # in Chinese, the Chinese description
    zh = client.get(reverse("storefront:order_detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已到达转运中心" in zh.content.decode()


def test_the_order_is_delivered_once_every_parcel_is(client, in_two_parcels):
    order, _one, _two = in_two_parcels

    f.push_tracking(client, [_event("d1", "delivered")], tracking_number="SF123456789012")
    assert Order.objects.get(pk=order.pk).status == "shipped"  # one of two parcels
    f.push_tracking(client, [_event("d2", "delivered")], tracking_number="73100000000001")

    order.refresh_from_db()
    assert order.status == "delivered" and order.delivered_at is not None
    change = OrderStatusChange.objects.filter(order=order).order_by("-pk").first()
    assert (change.from_status, change.to_status, change.action, change.actor_label) == (
        "shipped", "delivered", "deliver", "system")
    assert OutboxEvent.objects.filter(name="order.delivered", payload__order_id=order.pk).count() == 1
    assert set(Shipment.objects.values_list("status", flat=True)) == {"delivered"}


def test_parcels_delivered_while_units_are_unshipped_leave_the_order_shipped(client, seller, shopper, address, sku):
    order = f.make_paid_order(shopper, address, [(sku, 2)])
    services.ship_parcel(actor=seller, order=order, carrier="sf", tracking_number="SF123456789012",
                         lines=[{"line_id": order.lines.get().pk, "quantity": 1}])

    f.push_tracking(client, [_event("d1", "delivered")], tracking_number="SF123456789012")

    assert Order.objects.get(pk=order.pk).status == "shipped"


def test_a_delivered_order_is_to_receive_and_the_shopper_can_confirm_it(client, api, shopper_token, in_two_parcels):
    order, _one, _two = in_two_parcels
    for number in ("SF123456789012", "73100000000001"):
        f.push_tracking(client, [_event("d", "delivered")], tracking_number=number)

    assert "delivered" in BUYER_TABS["to_receive"]
    listing = api.get("/orders?tab=to_receive", token=shopper_token).json()
    assert [o["id"] for o in listing["results"]] == [order.pk] and listing["counts"]["to_receive"] == 1
    assert listing["results"][0]["actions"] == ["confirm_receipt"]
    confirmed = api.post(f"/orders/{order.pk}/confirm-receipt", token=shopper_token)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"
    # the job later finds nothing to do
    assert services.auto_confirm_delivered(now=timezone.now() + timedelta(days=30)) == 0


def test_a_delivered_order_confirms_itself_after_the_configured_days(settings, client, in_two_parcels):
    settings.AUTO_CONFIRM_DAYS = 10
    order, _one, _two = in_two_parcels
    for number in ("SF123456789012", "73100000000001"):
        f.push_tracking(client, [_event("d", "delivered")], tracking_number=number)
    delivered_at = Order.objects.get(pk=order.pk).delivered_at

    assert services.auto_confirm_delivered(now=delivered_at + timedelta(days=9, hours=23)) == 0
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert services.auto_confirm_delivered(now=delivered_at + timedelta(days=10)) == 1
    assert services.auto_confirm_delivered(now=delivered_at + timedelta(days=10)) == 0  # the job again: nothing

    order.refresh_from_db()
    assert order.status == "completed" and order.completed_at is not None
    changes = OrderStatusChange.objects.filter(order=order, to_status="completed")
    assert [(c.action, c.actor_label, c.note) for c in changes] == [
        ("auto_confirm", "system", "Confirmed automatically 10 days after delivery")]
    assert OutboxEvent.objects.filter(name="order.completed", payload__order_id=order.pk).count() == 1


def test_the_auto_confirm_days_setting_is_honoured(settings, client, in_two_parcels):
    settings.AUTO_CONFIRM_DAYS = 3
    order, _one, _two = in_two_parcels
    for number in ("SF123456789012", "73100000000001"):
        f.push_tracking(client, [_event("d", "delivered")], tracking_number=number)

    assert services.auto_confirm_delivered(now=timezone.now() + timedelta(days=3, minutes=1)) == 1
    assert Order.objects.get(pk=order.pk).status == "completed"


@pytest.mark.parametrize("code, label", [("lost", "Lost"), ("returned", "Returned to sender"),
                                         ("refused", "Refused by the recipient")])
def test_a_delivery_exception_shows_to_both_and_emits_the_after_sales_hook(client, seller, shopper,
                                                                           in_two_parcels, code, label):
    order, one, _two = in_two_parcels

    f.push_tracking(client, [_event("x1", code, zh="异常", en="The parcel could not be delivered")],
                    tracking_number="SF123456789012")

    one.refresh_from_db()
    assert (one.status, one.exception) == ("exception", code)
    event = OutboxEvent.objects.get(name="shipment.failed")
    assert event.payload["order_id"] == order.pk and event.payload["shipment_id"] == one.pk
    assert event.payload["exception"] == code and event.payload["tracking_number"] == "SF123456789012"
    assert Order.objects.get(pk=order.pk).status == "shipped"  # not delivered
    client.force_login(shopper)
    page = client.get(reverse("storefront:order_detail", args=[order.pk])).content.decode()
    assert f"Delivery problem: {label}." in page and "The parcel could not be delivered" in page
    console = _console_page(seller, order)
    assert f"Delivery problem: {label}." in console
    # a second exception event for the same parcel adds to the timeline, not another hook
    f.push_tracking(client, [_event("x2", code, hours=1)], tracking_number="SF123456789012")
    assert OutboxEvent.objects.filter(name="shipment.failed").count() == 1


def test_a_push_with_a_bad_signature_is_403_and_changes_nothing(client, in_two_parcels):
    before = _state()

    forged = f.push_tracking(client, [_event("e1", "delivered")], tracking_number="SF123456789012", secret="guess")
    unsigned = client.post("/api/v1/shipping/tracking/simulated", data=b'{"tracking_number": "SF123456789012"}',
                           content_type="application/json")

    assert (forged.status_code, forged.json()["code"]) == (403, "bad_signature")
    assert unsigned.status_code == 403
    assert _state() == before


def test_a_push_with_an_old_timestamp_is_403_and_changes_nothing(client, settings, in_two_parcels):
    before = _state()

    stale = f.push_tracking(client, [_event("e1", "delivered")], tracking_number="SF123456789012",
                            timestamp=time.time() - settings.CARRIER_WEBHOOK_TOLERANCE_SECONDS - 5)

    assert (stale.status_code, stale.json()["code"]) == (403, "stale_timestamp")
    assert _state() == before


def test_a_replayed_push_is_409_and_changes_nothing(client, in_two_parcels):
    events = [_event("e1", "accepted"), _event("e2", "in_transit", hours=1)]
    assert f.push_tracking(client, events, tracking_number="SF123456789012").status_code == 200
    before = _state()

    replay = f.push_tracking(client, events, tracking_number="SF123456789012")

    assert (replay.status_code, replay.json()["code"]) == (409, "replayed_push")
    assert _state() == before


def test_a_push_for_an_unknown_tracking_number_is_404_and_changes_nothing(client, in_two_parcels):
    before = _state()

    unknown = f.push_tracking(client, [_event("e1", "delivered")], tracking_number="SF999999999999")
    other_adapter = f.push_tracking(client, [_event("e1", "delivered")], tracking_number="SF123456789012",
                                    adapter="nobody")

    assert unknown.status_code == 404 and other_adapter.status_code == 404
    assert _state() == before


@pytest.mark.parametrize("events", [[{"id": "e1", "time": "yesterday", "code": "delivered"}],
                                    [{"id": "e1", "time": "2026-11-26T10:00:00+08:00", "code": "teleported"}], []],
                         ids=["bad-time", "bad-code", "no-events"])
def test_a_malformed_push_is_422_and_changes_nothing(client, in_two_parcels, events):
    before = _state()

    response = f.push_tracking(client, events, tracking_number="SF123456789012")

    assert response.status_code == 422
    assert _state() == before


def test_the_simulated_carrier_is_polled_by_the_periodic_job(in_two_parcels):
    order, one, two = in_two_parcels
    assert {"tracking_poll", "auto_confirm_delivered"} <= set(periodic.jobs())
    shipped_at = Shipment.objects.get(pk=one.pk).shipped_at

    # seven hours on: picked up and at the sorting centre, for each parcel; a second poll adds nothing
    assert services.poll_tracking(now=shipped_at + timedelta(hours=7)) == 4
    assert services.poll_tracking(now=shipped_at + timedelta(hours=7)) == 0
    assert list(one.events.values_list("code", flat=True)) == ["accepted", "in_transit"]
    assert Order.objects.get(pk=order.pk).status == "shipped"
    # a day and a half on: both delivered, so the order is
    assert services.poll_tracking(now=shipped_at + timedelta(hours=36)) == 4
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert services.poll_tracking(now=shipped_at + timedelta(hours=48)) == 0  # delivered parcels are not polled


def test_the_periodic_run_polls_then_confirms(settings, in_two_parcels):
    order, one, _two = in_two_parcels
    later = Shipment.objects.get(pk=one.pk).shipped_at + timedelta(hours=31)

    first = periodic.run_all(now=later)
    assert first["tracking_poll"] == 8 and first["auto_confirm_delivered"] == 0
    assert Order.objects.get(pk=order.pk).status == "delivered"
    ten_days = Order.objects.get(pk=order.pk).delivered_at + timedelta(days=settings.AUTO_CONFIRM_DAYS)
    assert periodic.run_all(now=ten_days)["auto_confirm_delivered"] == 1
    assert periodic.run_all(now=ten_days)["auto_confirm_delivered"] == 0
    assert Order.objects.get(pk=order.pk).status == "completed"


def test_each_new_parcel_is_subscribed_to_pushes_after_commit(django_capture_on_commit_callbacks, shopper, address,
                                                               sku, seller, shop):
    adapter = ADAPTERS["simulated"]
    assert isinstance(adapter, SimulatedCarrier)
    order = f.make_paid_order(shopper, address, [(sku, 1)])

    with django_capture_on_commit_callbacks(execute=True):
        orders.ship(actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF123456789099")

    assert "SF123456789099" in adapter.subscribed


def test_a_delivered_order_tells_the_shopper_in_the_message_centre(client, in_two_parcels,
                                                                   django_capture_on_commit_callbacks):
    # the carrier's last push makes the order delivered; the event reaches the shopper's messages
    from shopyard.notifications.models import Message

    order, _one, _two = in_two_parcels
    with django_capture_on_commit_callbacks(execute=True):
        f.push_tracking(client, [_event("d1", "delivered")], tracking_number="SF123456789012")
        f.push_tracking(client, [_event("d2", "delivered")], tracking_number="73100000000001")
    assert Message.objects.filter(user=order.user, kind="order_delivered").count() == 1
    assert order.number in Message.objects.get(user=order.user, kind="order_delivered").title
