"""Events reach the message centre, e-mail and SMS of the right people, in
their language, as they chose, and never twice."""

import pytest
from django.core import mail

from shopyard.core import events
from shopyard.core.models import OutboxEvent
from shopyard.notifications import services
from shopyard.notifications.models import Message, Outgoing
from shopyard.notifications.sms import MemoryProvider
from shopyard.orders import services as orders
from shopyard.shops.models import ShopMember
from tests import factories as f

from .helpers import pay, place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.SMS_PROVIDER = "shopyard.notifications.sms.MemoryProvider"
    MemoryProvider.outbox.clear()
    yield MemoryProvider.outbox
    MemoryProvider.outbox.clear()


@pytest.fixture
def reachable(shopper, seller):
    shopper.email, shopper.phone = "shopper@example.com", "13800138000"
    shopper.save()
    seller.email = "seller@example.com"
    seller.save()
    return shopper


def _deliver():
    events.dispatch_pending()
    services.send_pending()


def test_paid_order_tells_the_shopper_and_the_shop_members_each_in_their_language(
    reachable, seller, shop, address, sku, api, shopper_token
):
    # given the shopper reads English, the seller the site default (Chinese)
    services.set_preferences(actor=reachable, choices={}, language="en")
    staff = f.make_user("staff", email="staff@example.com")
    ShopMember.objects.create(shop=shop, user=staff, role=ShopMember.Role.MANAGER)
    order = place(reachable, address, sku)
    # when the order is paid and the events are delivered
    pay(order)
    _deliver()
    # then the shopper has "placed" and "paid" in English in the message centre ...
    mine = list(Message.objects.filter(user=reachable).order_by("id").values_list("kind", "language", "title"))
    assert mine == [("order_placed", "en", f"Order {order.number} placed"),
                    ("order_paid", "en", f"Payment received for order {order.number}")]
    # ... the seller "to ship" in Chinese, filed under the shop
    assert set(Message.objects.filter(kind="order_to_ship").values_list("user_id", flat=True)) == {seller.pk, staff.pk}
    theirs = Message.objects.get(user=seller)
    assert (theirs.kind, theirs.language, theirs.shop_id) == ("order_to_ship", "zh-hans", shop.pk)
    assert theirs.title == f"新订单待发货：{order.number}"
    assert theirs.link == f"/console/orders/{order.pk}/"
    # and the e-mails went to both, with the amount in the body
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert sent == [("seller@example.com", f"新订单待发货：{order.number}"),
                    ("shopper@example.com", f"Order {order.number} placed"),
                    ("shopper@example.com", f"Payment received for order {order.number}"),
                    ("staff@example.com", f"新订单待发货：{order.number}")]
    assert sent[1:3] == [("shopper@example.com", f"Order {order.number} placed"),
                    ("shopper@example.com", f"Payment received for order {order.number}")]
    assert f"{order.total:.2f} CNY" in next(m.body for m in mail.outbox if "Payment" in m.subject)


def test_shipped_order_texts_the_shopper_and_no_text_goes_to_a_user_without_a_phone(
    reachable, seller, shop, address, sku, sms_outbox, settings
):
    order = pay(place(reachable, address, sku))
    orders.ship(actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF123456789012")
    _deliver()
    assert sms_outbox == [{"phone": "13800138000", "text": f"订单 {order.number} 已发货 您的订单 {order.number} "
                                                           f"已发货，正在配送途中。\n{settings.BASE_URL}/orders/{order.pk}/"}]


def test_a_redelivered_event_never_notifies_twice(reachable, address, sku):
    # given an order placed and its event delivered
    order = place(reachable, address, sku)
    _deliver()
    event = OutboxEvent.objects.get(name="order.placed", payload__order_id=order.pk)
    # when the handler gets the same event again (at-least-once delivery)
    services.on_event(event.payload, event=event)
    services.on_event(event.payload, event=event)
    _deliver()
    # then one message and one e-mail
    assert Message.objects.filter(user=reachable).count() == 1
    assert Outgoing.objects.filter(user=reachable).count() == 1
    assert len(mail.outbox) == 1


def test_choices_are_honoured_per_kind_and_channel(reachable, address, sku):
    # given the shopper wants no e-mail when an order is placed, and no message centre entry either
    services.set_preferences(actor=reachable, choices={"order_placed": []})
    # when orders are placed and paid
    order = pay(place(reachable, address, sku))
    _deliver()
    # then only the "paid" notification arrives (default: message centre and e-mail)
    assert list(Message.objects.filter(user=reachable).values_list("kind", flat=True)) == ["order_paid"]
    assert [m.subject for m in mail.outbox if m.to == [reachable.email]] == [f"订单 {order.number} 已付款"]


def test_a_failing_sms_provider_holds_no_email_back_and_is_retried(reachable, seller, shop, address, sku, settings):
    settings.SMS_PROVIDER = "shopyard.notifications.tests.test_channels.DownProvider"
    order = pay(place(reachable, address, sku))
    orders.ship(actor=seller, shop=shop, order_id=order.pk, carrier="sf", tracking_number="SF123456789012")
    _deliver()
    text = Outgoing.objects.get(channel="sms")
    assert (text.status, text.attempts) == ("pending", 1)
    assert "provider unreachable" in text.last_error
    assert sorted(Outgoing.objects.filter(channel="email", status="sent").values_list("kind", flat=True)) == [
        "order_paid", "order_placed", "order_shipped", "order_to_ship"]
    # when the provider is back and the retry is due
    settings.SMS_PROVIDER = "shopyard.notifications.sms.MemoryProvider"
    services.send_pending(now=text.next_attempt_at)
    text.refresh_from_db()
    assert (text.status, text.attempts) == ("sent", 2)
    assert len(MemoryProvider.outbox) == 1


class DownProvider:
    def send(self, *, phone, text):
        from shopyard.notifications.sms import SmsError

        raise SmsError("provider unreachable")


def test_refund_succeeded_tells_the_shopper_the_amount(reachable, address, sku, seller, shop):
    order = pay(place(reachable, address, sku))
    # when the shop closes the paid order, payments refund it (on order.cancelled)
    orders.close_paid(order=order, note="group did not fill")
    _deliver()
    from shopyard.payments.models import Refund
    from shopyard.payments.refunds import perform_refund

    perform_refund(refund_id=Refund.objects.get(order=order).pk)
    _deliver()
    refund = Message.objects.get(user=reachable, kind="refund_succeeded")
    assert refund.title == f"退款 {order.total:.2f} CNY 已完成"


def test_texts_are_plain_text_and_pages_escape_them(client, reachable):
    # a value with markup characters is kept as written in the text (e-mail, SMS) ...
    services.notify(user=reachable, kind="order_placed",
                    context={"order_number": "<A&B>", "total": "1.00", "currency": "CNY"}, event_id=None)
    message = Message.objects.get(user=reachable)
    assert message.title == "订单 <A&B> 已提交"
    # ... and escaped where a page shows it
    client.force_login(reachable)
    page = client.get("/messages/").content.decode()
    assert "订单 &lt;A&amp;B&gt; 已提交" in page and "<A&B>" not in page
