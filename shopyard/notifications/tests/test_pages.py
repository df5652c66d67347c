"""Pages: the unread count in every storefront header (one query, signed-in
only), the message centre, preferences, the seller console's messages and
webhooks, and the operator's webhook admin."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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


def _message_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, [q["sql"] for q in ctx.captured_queries if "notifications_message" in q["sql"]]


@pytest.fixture
def paid(shopper, address, sku):
    order = pay(place(shopper, address, sku))
    events.dispatch_pending()
    return order


def test_every_storefront_page_shows_the_unread_count_with_one_query(client, shopper, paid, product):
    client.force_login(shopper)
    for url in (reverse("storefront:home"), f.product_url(product),
                reverse("storefront:orders")):
        response, queries = _message_queries(client, url)
        assert response.status_code == 200
        assert len(queries) == 1
        assert '<span class="badge" id="unread-count"' in response.content.decode()
        assert 'aria-label="2 unread messages">2</span>' in response.content.decode()


def test_anonymous_pages_never_count_messages(client, paid):
    response, queries = _message_queries(client, reverse("storefront:home"))
    assert response.status_code == 200 and queries == []
    assert "unread-count" not in response.content.decode()


def test_message_centre_lists_marks_read_and_marks_all_read(client, shopper, other_shopper, paid):
    client.force_login(shopper)
    page = client.get(reverse("notifications:messages")).content.decode()
    assert f"Payment received for order {paid.number}" not in page  # the shopper's language is the default
    assert f"订单 {paid.number} 已付款" in page and page.count("message-unread") == 2
    newest = Message.objects.filter(user=shopper).order_by("-id").first()
    # "View" marks read and opens the order
    answer = client.post(reverse("notifications:mark_read", args=[newest.pk]), {"open": "1"})
    assert answer.status_code == 302 and answer["Location"] == f"/orders/{paid.pk}/"
    newest.refresh_from_db()
    assert newest.read_at is not None
    unread = client.get(reverse("notifications:messages") + "?unread=1").content.decode()
    assert unread.count("message-unread") == 1
    client.post(reverse("notifications:mark_all_read"))
    assert not Message.objects.filter(user=shopper, read_at__isnull=True).exists()
    # someone else's message is 404 and stays as it was
    client.force_login(other_shopper)
    assert client.post(reverse("notifications:mark_read", args=[newest.pk])).status_code == 404


def test_preferences_page_saves_choices_and_refuses_a_bad_language(client, shopper):
    client.force_login(shopper)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'name="kind-order_shipped" value="sms"' in page
    data = {f"kind-{k}": ["inbox"] for k in ("order_placed", "order_paid", "order_shipped", "order_delivered",
                                               "order_completed", "order_cancelled", "refund_succeeded",
                                               "order_to_ship")}
    bad = client.post(reverse("notifications:preferences"), {**data, "language": "xx"})
    assert bad.status_code == 400 and "Choose one of the site" in bad.content.decode()
    assert not Preference.objects.exists() and not Profile.objects.exists()
    good = client.post(reverse("notifications:preferences"), {**data, "language": "en"})
    assert good.status_code == 302
    assert set(Preference.objects.filter(user=shopper, enabled=False).values_list("kind", "channel")) >= {
        ("order_shipped", "sms"), ("order_paid", "email")}
    assert Profile.objects.get(user=shopper).language == "en"


def test_console_shows_the_shops_messages(seller_client, seller, shop, paid):
    page = seller_client.get(reverse("console:messages")).content.decode()
    assert f"新订单待发货：{paid.number}" in page  # rendered in the seller's language when sent
    assert 'id="console-unread">1<' in page
    seller_client.post(reverse("console:messages_read"))
    assert not Message.objects.filter(user=seller, read_at__isnull=True).exists()


def test_console_registers_a_webhook_shows_the_secret_once_and_replays(seller_client, seller, shop, settings,
                                                                       shopper, address, sku):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    bad = seller_client.post(reverse("console:webhooks"), {"url": "http://127.0.0.1/x", "event_types": ["order.paid"]})
    assert bad.status_code == 400 and not WebhookEndpoint.objects.exists()
    created = seller_client.post(reverse("console:webhooks"), {
        "url": "https://erp.example.com/hooks", "event_types": ["order.placed"], "description": "ERP"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.shop == shop
    assert endpoint.secret in created.content.decode()
    assert endpoint.secret not in seller_client.get(reverse("console:webhooks")).content.decode()
    # a delivery that failed for good is replayed from the log page
    place(shopper, address, sku)
    events.dispatch_pending()
    delivery = WebhookDelivery.objects.get()
    delivery.status, delivery.attempts, delivery.last_status_code = "failed", 10, 500
    delivery.save()
    log = seller_client.get(reverse("console:webhook_detail", args=[endpoint.pk])).content.decode()
    assert "order.placed" in log and "Replay" in log
    seller_client.post(reverse("console:webhook_replay", args=[delivery.pk]))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_console_refuses_another_shops_webhooks(seller_client, other_shop):
    theirs, _secret = webhooks.register_endpoint(actor=f.make_user(), shop=other_shop,
                                                 url="https://other.example.com/h", event_types=["order.paid"])
    assert seller_client.get(reverse("console:webhook_detail", args=[theirs.pk])).status_code == 404
    assert seller_client.post(reverse("console:webhook_delete", args=[theirs.pk])).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()


def test_operator_registers_a_platform_webhook_in_the_admin(client, settings):
    operator = f.make_user("root", is_staff=True, is_superuser=True)
    client.force_login(operator)
    answer = client.post(reverse("admin:notifications_webhookendpoint_add"), {
        "url": "https://bi.example.com/events", "event_types": ["order.paid", "refund.succeeded"],
        "description": "BI", "is_active": "on"}, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.shop is None and endpoint.event_types == ["order.paid", "refund.succeeded"]
    assert endpoint.secret in answer.content.decode()
    bad = client.post(reverse("admin:notifications_webhookendpoint_add"), {
        "url": "ftp://x.example.com", "event_types": ["order.paid"], "is_active": "on"})
    assert bad.status_code == 200 and WebhookEndpoint.objects.count() == 1
