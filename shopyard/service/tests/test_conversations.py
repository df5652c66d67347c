"""Conversations: one thread per (shopper, shop), with text, images, product and
order cards, read receipts and unread counts; the shop's queue, assignment,
closing, canned replies, and first-response and resolution times."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from shopyard.core.errors import InvalidTransition, NotFound, ValidationFailed
from shopyard.service import conversations
from shopyard.service.models import CannedReply, Conversation, ConversationMessage
from shopyard.service.queries import (
    canned_replies,
    conversation_messages,
    shop_conversations,
    shop_queue_counts,
    shopper_conversations,
    shopper_unread_total,
)
from shopyard.service.state import CONVERSATION_TRANSITIONS, ConversationAction, ConversationStatus
from tests import factories as f

pytestmark = pytest.mark.django_db


def _png(size=(20, 20)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "PNG")
    return SimpleUploadedFile("photo.png", out.getvalue(), content_type="image/png")


def _world():
    return (sorted(Conversation.objects.values_list("id", "status", "assignee", "shopper_read_id", "shop_read_id")),
            sorted(ConversationMessage.objects.values_list("id", "body", "image", "product", "order")))


def test_contacting_a_shop_from_a_product_opens_one_thread_with_the_product_card(client, shopper, shop, product):
    client.force_login(shopper)
    url = reverse("service:contact") + f"?shop={shop.pk}&product={product.pk}"
    first = client.post(url, {"shop": shop.pk, "product": product.pk})
    again = client.post(url, {"shop": shop.pk, "product": product.pk})
    conversation = Conversation.objects.get()
    assert first["Location"] == again["Location"] == reverse("service:conversation", args=[conversation.pk])
    # one card, not one per click
    assert list(conversation.messages.values_list("side", "product", "order")) == [("shopper", product.pk, None)]
    page = client.get(first["Location"]).content.decode()
    assert f'data-product-card="{product.pk}"' in page


def test_the_product_page_offers_contact_the_shop(client, product):
    html = client.get(f.product_url(product)).content.decode()
    assert "data-contact-shop" in html and f'name="product" value="{product.pk}"' in html


def test_cards_must_be_the_shoppers_own_order_and_a_visible_product_of_that_shop(
        shopper, other_shopper, shop, other_shop, sku, other_sku, address):
    mine = f.make_paid_order(shopper, address, [(sku, 1)])
    theirs = f.make_paid_order(other_shopper, f.make_address(other_shopper), [(sku, 1)])
    elsewhere = f.make_paid_order(shopper, address, [(other_sku, 1)])
    draft = f.make_product(shop, publish=False)
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    before = _world()
    for kwargs in ({"order_id": theirs.pk}, {"order_id": elsewhere.pk}, {"product_id": draft.pk},
                   {"product_id": other_sku.product_id}, {"product_id": 999999}):
        with pytest.raises(NotFound):
            conversations.send_message(actor=shopper, conversation_id=conversation.pk, **kwargs)
    with pytest.raises(NotFound):
        conversations.open_conversation(actor=shopper, shop_id=shop.pk, order_id=theirs.pk)
    assert _world() == before
    message = conversations.send_message(actor=shopper, conversation_id=conversation.pk, order_id=mine.pk,
                                         product_id=sku.product_id, body="这单什么时候发？")
    assert (message.order_id, message.product_id) == (mine.pk, sku.product_id)


@pytest.mark.parametrize("kwargs, errors", [
    ({"body": "   "}, {"body": ["Write a message, or attach a picture or a card."]}),
    ({"body": "x" * 1001}, {"body": ["Use at most 1000 characters."]}),
    ({"image": SimpleUploadedFile("a.png", b"not an image", content_type="image/png")},
     {"image": ["Upload a valid JPEG, PNG, WebP or GIF image."]}),
])
def test_bad_messages_are_refused_and_write_nothing(shopper, shop, media, kwargs, errors):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    before = _world()
    with pytest.raises(ValidationFailed) as err:
        conversations.send_message(actor=shopper, conversation_id=conversation.pk, **kwargs)
    assert err.value.fields == errors
    assert _world() == before


def test_oversized_images_are_refused(shopper, shop, media, settings):
    settings.SERVICE_IMAGE_MAX_BYTES = 100
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    with pytest.raises(ValidationFailed) as err:
        conversations.send_message(actor=shopper, conversation_id=conversation.pk, image=_png((200, 200)))
    assert err.value.fields == {"image": ["The image is larger than 1 KB."]}
    assert ConversationMessage.objects.count() == 0


def test_images_are_stored_and_shown(client, shopper, shop, media):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    message = conversations.send_message(actor=shopper, conversation_id=conversation.pk, image=_png())
    assert message.image.name.startswith(f"service/{conversation.pk}/") and message.image.name.endswith(".png")
    client.force_login(shopper)
    assert message.image.url in client.get(reverse("service:conversation", args=[conversation.pk])).content.decode()


def test_read_receipts_and_unread_counts_on_both_sides(shopper, seller, shop):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="在吗")
    conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="想问尺码")
    assert shop_queue_counts(shop, seller)["unread"] == 2
    assert [c.unread for c in shop_conversations(shop, view="all")] == [2]
    # the shop reads, then answers twice
    last = conversations.mark_read(actor=seller, shop=shop, conversation_id=conversation.pk)
    assert last == ConversationMessage.objects.order_by("-id").first().pk
    assert shop_queue_counts(shop, seller)["unread"] == 0
    conversations.send_message(actor=seller, shop=shop, conversation_id=conversation.pk, body="在的")
    conversations.send_message(actor=seller, shop=shop, conversation_id=conversation.pk, body="M 码合适")
    assert [c.unread for c in shopper_conversations(shopper)] == [2]
    assert shopper_unread_total(shopper) == 2
    conversations.mark_read(actor=shopper, conversation_id=conversation.pk)
    assert shopper_unread_total(shopper) == 0
    # the read pointer never moves back
    Conversation.objects.filter(pk=conversation.pk).update(shopper_read_id=10**9)
    assert conversations.mark_read(actor=shopper, conversation_id=conversation.pk) == 10**9


def test_queue_assign_close_and_response_times(shopper, other_shopper, seller, shop):
    staff = f.make_user("agent")
    shop.members.create(user=staff, role="cs_agent")
    a = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    b = conversations.open_conversation(actor=other_shopper, shop_id=shop.pk)
    conversations.send_message(actor=shopper, conversation_id=a.pk, body="你好")
    Conversation.objects.filter(pk=a.pk).update(opened_at=timezone.now() - timedelta(minutes=3))
    assert {c.pk for c in shop_conversations(shop, view="unassigned")} == {a.pk, b.pk}
    conversations.assign(actor=seller, shop=shop, conversation_id=b.pk, assignee_id=staff.pk)
    with pytest.raises(ValidationFailed):
        conversations.assign(actor=seller, shop=shop, conversation_id=b.pk, assignee_id=other_shopper.pk)
    assert [c.pk for c in shop_conversations(shop, view="mine", user=staff)] == [b.pk]
    # the first reply records the first-response time and takes the conversation
    conversations.send_message(actor=seller, shop=shop, conversation_id=a.pk, body="您好")
    a.refresh_from_db()
    assert (a.assignee_id, 180 <= a.first_response_seconds < 240) == (seller.pk, True)
    conversations.send_message(actor=seller, shop=shop, conversation_id=a.pk, body="还有别的吗")
    a.refresh_from_db()
    assert 180 <= a.first_response_seconds < 240  # only the first reply counts
    closed = conversations.close(actor=seller, shop=shop, conversation_id=a.pk)
    assert (closed.status, closed.resolution_seconds >= 180) == ("closed", True)
    assert shop_queue_counts(shop, seller) == {"unassigned": 0, "mine": 0, "open": 1, "all": 2, "unread": 0}
    with pytest.raises(InvalidTransition):
        conversations.close(actor=seller, shop=shop, conversation_id=a.pk)
    # the shopper writing again reopens it, with fresh clocks
    conversations.send_message(actor=shopper, conversation_id=a.pk, body="又有问题")
    a.refresh_from_db()
    assert (a.status, a.first_response_at, a.closed_at) == ("open", None, None)
    assert list(a.history.values_list("action", flat=True)) == ["reopen", "close", "reopen"]


def test_canned_replies_crud_per_shop(seller, shop, other_shop):
    reply = conversations.create_canned_reply(actor=seller, shop=shop, title="问候", body="您好，在的")
    conversations.update_canned_reply(actor=seller, shop=shop, reply_id=reply.pk, title="问候", body="您好！")
    assert [(r.title, r.body) for r in canned_replies(shop)] == [("问候", "您好！")]
    with pytest.raises(ValidationFailed):
        conversations.create_canned_reply(actor=seller, shop=shop, title="", body="x")
    other_seller = other_shop.members.get().user
    with pytest.raises(NotFound):
        conversations.update_canned_reply(actor=other_seller, shop=other_shop, reply_id=reply.pk, title="t", body="b")
    with pytest.raises(NotFound):
        conversations.delete_canned_reply(actor=other_seller, shop=other_shop, reply_id=reply.pk)
    conversations.delete_canned_reply(actor=seller, shop=shop, reply_id=reply.pk)
    assert CannedReply.objects.count() == 0


def test_scoping_foreign_conversations_are_404(client, shopper, other_shopper, shop, other_shop):
    mine = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    theirs = conversations.open_conversation(actor=other_shopper, shop_id=other_shop.pk)
    other_seller = other_shop.members.get().user
    before = _world()
    for call in (lambda: conversations.send_message(actor=shopper, conversation_id=theirs.pk, body="hi"),
                 lambda: conversations.send_message(actor=other_seller, shop=other_shop, conversation_id=mine.pk,
                                                    body="hi"),
                 lambda: conversations.mark_read(actor=shopper, conversation_id=theirs.pk),
                 lambda: conversations.close(actor=other_seller, shop=other_shop, conversation_id=mine.pk)):
        with pytest.raises(NotFound):
            call()
    assert _world() == before
    assert [c.pk for c in shopper_conversations(shopper)] == [mine.pk]
    assert [c.pk for c in shop_conversations(other_shop, view="all")] == [theirs.pk]
    client.force_login(shopper)
    assert client.get(reverse("service:conversation", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("service:conversation_messages", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("service:conversation_send", args=[theirs.pk]), {"body": "x"}).status_code == 404
    assert client.post(reverse("service:contact") + "?shop=999999", {"shop": 999999}).status_code == 404


def test_hidden_messages_disappear_for_both_sides(shopper, seller, shop, home_operator):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    bad = conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="辱骂内容")
    conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="正常内容")
    conversations.hide_message(actor=home_operator, message_id=bad.pk, reason="辱骂")
    assert [m.body for m in conversation_messages(conversation)] == ["正常内容"]


def test_shopper_pages_list_conversations_with_unread_badges_and_poll(client, shopper, seller, shop):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    conversations.send_message(actor=seller, shop=shop, conversation_id=conversation.pk, body="欢迎光临")
    client.force_login(shopper)
    listing = client.get(reverse("service:conversations")).content.decode()
    assert '<span class="badge" data-unread>1</span>' in listing
    poll = client.get(reverse("service:conversation_messages", args=[conversation.pk])).content.decode()
    assert "欢迎光临" in poll
    assert shopper_unread_total(shopper) == 0  # reading the thread is the read receipt
    sent = client.post(reverse("service:conversation_send", args=[conversation.pk]), {"body": "谢谢"})
    assert sent.status_code == 302
    assert conversation.messages.order_by("-id").first().body == "谢谢"


def test_shop_and_order_pages_offer_contact_with_the_order_card(client, shopper, shop, sku, address):
    order = f.make_paid_order(shopper, address, [(sku, 1)])
    assert "data-contact-shop" in client.get(reverse("storefront:shop", args=[shop.slug])).content.decode()
    client.force_login(shopper)
    html = client.get(reverse("storefront:order_detail", args=[order.pk])).content.decode()
    assert f'name="order" value="{order.pk}"' in html
    resp = client.post(reverse("service:contact"), {"shop": shop.pk, "order": order.pk})
    conversation = Conversation.objects.get()
    assert resp["Location"] == reverse("service:conversation", args=[conversation.pk])
    assert list(conversation.messages.values_list("order", flat=True)) == [order.pk]
    page = client.get(resp["Location"]).content.decode()
    assert f'data-order-card="{order.pk}"' in page


CONVERSATION_PAIRS = [(s, a) for s in ConversationStatus.values for a in ConversationAction.values]


@pytest.mark.parametrize("status, action", CONVERSATION_PAIRS, ids=[f"{s}-{a}" for s, a in CONVERSATION_PAIRS])
def test_every_conversation_status_action_pair_follows_the_table(status, action, shopper, seller, shop):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    Conversation.objects.filter(pk=conversation.pk).update(status=status)
    conversation.refresh_from_db()
    history = conversation.history.count()
    target = CONVERSATION_TRANSITIONS.get((status, action))
    if target is not None:
        assert conversations.transition(conversation, action, actor=seller).status == target
        assert conversation.history.count() == history + 1
    else:
        with pytest.raises(InvalidTransition):
            conversations.transition(conversation, action, actor=seller)
        assert conversation.history.count() == history
    conversation.refresh_from_db()
    assert conversation.status == (target or status)


def test_operator_hides_a_message_from_the_moderation_page(client, shopper, shop, home_operator):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    bad = conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="广告加微信")
    client.force_login(home_operator)
    page = client.get(reverse("service:operator_moderation")).content.decode()
    assert f'data-message="{bad.pk}"' in page
    client.post(reverse("service:operator_hide", args=["message"]), {"id": bad.pk, "reason": "广告"})
    bad.refresh_from_db()
    assert (bad.hidden_reason, bad.hidden_at is not None) == ("广告", True)
    assert client.post(reverse("service:operator_hide", args=["message"]), {"id": "x", "reason": "r"}).status_code == 404
    assert client.post(reverse("service:operator_hide", args=["nonsense"]), {"id": bad.pk}).status_code == 404


def test_an_anonymous_visitor_logs_in_then_confirms_contacting_the_shop(client, shopper, shop, product):
    url = reverse("service:contact") + f"?shop={shop.pk}&product={product.pk}"
    resp = client.post(url, {"shop": shop.pk, "product": product.pk})
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    assert Conversation.objects.count() == 0
    client.force_login(shopper)
    page = client.get(url)
    assert page.status_code == 200 and 'data-contact-shop' in page.content.decode()
    assert Conversation.objects.count() == 0  # looking writes nothing
    client.post(url, {"shop": shop.pk, "product": product.pk})
    assert list(Conversation.objects.get().messages.values_list("product", flat=True)) == [product.pk]


@pytest.mark.django_db(transaction=True)
def test_racing_contacts_open_one_conversation(shopper, shop):
    import threading

    from django.db import connection

    barrier = threading.Barrier(3)
    results = [None] * 3

    def run(i):
        try:
            barrier.wait(timeout=60)
            results[i] = conversations.open_conversation(actor=shopper, shop_id=shop.pk).pk
        except Exception as exc:  # kept for the assert message
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert Conversation.objects.count() == 1
    assert results == [Conversation.objects.get().pk] * 3, results
