"""The API: messages (list, unread count, mark read), preferences, and the
seller's webhook endpoints, with bad input refused as 4xx and nothing written."""

import pytest

from shopyard.core import events
from shopyard.notifications import webhooks
from shopyard.notifications.models import (
    Message,
    Preference,
    Profile,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests import factories as f

from .helpers import pay, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_messages(shopper, address, sku):
    order = pay(place(shopper, address, sku))
    events.dispatch_pending()
    return order


def test_messages_list_count_and_mark_read(api, shopper_token, shopper, other_shopper, two_messages):
    listed = api.get("/messages", token=shopper_token).json()
    assert [m["kind"] for m in listed["results"]] == ["order_paid", "order_placed"]
    assert listed["unread"] == 2 and listed["results"][0]["read"] is False
    assert api.get("/messages/unread-count", token=shopper_token).json() == {"unread": 2}
    first = listed["results"][0]["id"]
    answer = api.post(f"/messages/{first}/read", token=shopper_token)
    assert answer.status_code == 200 and answer.json()["read"] is True
    assert api.get("/messages/unread-count", token=shopper_token).json() == {"unread": 1}
    assert [m["kind"] for m in api.get("/messages?unread=true", token=shopper_token).json()["results"]] == [
        "order_placed"]
    # another user's message id is 404, and it stays unread
    other_token = f.token_for(other_shopper)
    last = listed["results"][1]["id"]
    assert api.post(f"/messages/{last}/read", token=other_token).status_code == 404
    assert Message.objects.get(pk=last).read_at is None
    assert api.post("/messages/read-all", token=shopper_token).json() == {"marked": 1}
    assert api.get("/messages/unread-count", token=shopper_token).json() == {"unread": 0}
    assert api.get("/messages/unread-count").status_code == 401


def test_preferences_read_and_write(api, shopper_token, shopper):
    got = api.get("/notification-preferences", token=shopper_token).json()
    assert got["language"] == "zh-hans"
    assert got["choices"]["order_shipped"] == ["inbox", "email", "sms"]
    put = api.put("/notification-preferences", {"choices": {"order_shipped": ["inbox"]}, "language": "en"},
                  token=shopper_token)
    assert put.status_code == 200
    assert put.json()["choices"]["order_shipped"] == ["inbox"] and put.json()["language"] == "en"
    assert put.json()["choices"]["order_paid"] == ["inbox", "email"]  # untouched
    assert api.get("/notification-preferences", token=shopper_token).json() == put.json()


@pytest.mark.parametrize("body, field", [
    ({"choices": {"order_teleported": ["inbox"]}}, "choices"),
    ({"choices": {"order_paid": ["pigeon"]}}, "choices"),
    ({"choices": {"order_paid": "inbox"}}, "choices"),
    ({"language": "fr"}, "language"),
])
def test_bad_preferences_are_refused_and_nothing_changes(api, shopper_token, shopper, body, field):
    answer = api.put("/notification-preferences", body, token=shopper_token)
    assert answer.status_code in (400, 422)
    assert any(k.startswith(field) for k in answer.json()["fields"])
    assert not Preference.objects.exists() and not Profile.objects.exists()


def test_seller_registers_lists_and_deletes_webhooks_and_sees_the_secret_once(api, seller_token, shop):
    created = api.post("/seller/webhooks", {"url": "https://erp.example.com/hooks",
                                            "event_types": ["order.paid", "order.placed"]}, token=seller_token)
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["event_types"] == ["order.paid", "order.placed"]
    assert WebhookEndpoint.objects.get().secret == body["secret"]
    listed = api.get("/seller/webhooks", token=seller_token).json()
    assert [e["url"] for e in listed] == ["https://erp.example.com/hooks"]
    assert "secret" not in listed[0]
    assert api.get(f"/seller/webhooks/{body['id']}/deliveries", token=seller_token).json() == []
    assert api.delete(f"/seller/webhooks/{body['id']}", token=seller_token).status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://erp.example.com/x", "event_types": ["order.paid"]}, "url"),
    ({"url": "not a url", "event_types": ["order.paid"]}, "url"),
    ({"url": "https://erp.example.com/x", "event_types": ["order.teleported"]}, "event_types"),
    ({"url": "https://erp.example.com/x", "event_types": []}, "event_types"),
    ({"url": "http://192.168.1.10/x", "event_types": ["order.paid"]}, "url"),
    ({"url": "https://erp.example.com/" + "x" * 600, "event_types": ["order.paid"]}, "url"),
    ({"event_types": ["order.paid"]}, "url"),
])
def test_bad_webhook_endpoints_are_refused_and_nothing_is_written(api, seller_token, shop, settings, body, field):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    answer = api.post("/seller/webhooks", body, token=seller_token)
    assert answer.status_code in (400, 422)
    assert field in answer.json()["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_another_shops_endpoints_and_deliveries_are_404(api, seller_token, shop, other_shop, shopper, address,
                                                        other_sku):
    owner = f.make_user()
    theirs, _secret = webhooks.register_endpoint(actor=owner, shop=other_shop, url="https://other.example.com/h",
                                                 event_types=["order.placed"])
    place(shopper, address, other_sku)
    events.dispatch_pending()
    delivery = WebhookDelivery.objects.get(endpoint=theirs)
    assert api.delete(f"/seller/webhooks/{theirs.pk}", token=seller_token).status_code == 404
    assert api.get(f"/seller/webhooks/{theirs.pk}/deliveries", token=seller_token).status_code == 404
    assert api.post(f"/seller/webhook-deliveries/{delivery.pk}/replay", token=seller_token).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
    assert api.get("/seller/webhooks", token=seller_token).json() == []


def test_shoppers_cannot_register_webhooks(api, shopper_token):
    answer = api.post("/seller/webhooks", {"url": "https://erp.example.com/h", "event_types": ["order.paid"]},
                      token=shopper_token)
    assert answer.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_operators_manage_platform_webhooks_and_others_cannot(api, seller_token, shop, seller):
    operator = f.make_user("operator", is_staff=True)
    token = f.token_for(operator)
    body = {"url": "https://bi.example.com/events", "event_types": ["order.paid"]}
    # a seller (not staff) is refused and nothing is written
    assert api.post("/operator/webhooks", body, token=seller_token).status_code == 403
    assert api.get("/operator/webhooks", token=seller_token).status_code == 403
    assert not WebhookEndpoint.objects.exists()
    created = api.post("/operator/webhooks", body, token=token)
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.shop is None
    assert [e["id"] for e in api.get("/operator/webhooks", token=token).json()] == [endpoint.pk]
    # a shop's endpoint is not a platform endpoint: 404 here
    shops, _secret = webhooks.register_endpoint(actor=seller, shop=shop, url="https://erp.example.com/h",
                                                event_types=["order.paid"])
    assert api.delete(f"/operator/webhooks/{shops.pk}", token=token).status_code == 404
    assert api.get(f"/operator/webhooks/{endpoint.pk}/deliveries", token=token).json() == []
    assert api.delete(f"/operator/webhooks/{endpoint.pk}", token=token).status_code == 204
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [shops.pk]
