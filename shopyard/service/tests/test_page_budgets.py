"""The customer-service pages a shopper opens often cost a fixed number of
queries, however many conversations, messages or questions there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shopyard.service import conversations, qa
from tests import factories as f

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def _thread(shopper, shop, product, n):
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk, product_id=product.pk)
    owner = shop.members.get().user
    for i in range(n):
        conversations.send_message(actor=shopper, conversation_id=conversation.pk, body=f"问{i}")
        conversations.send_message(actor=owner, shop=shop, conversation_id=conversation.pk, body=f"答{i}",
                                   product_id=product.pk)
    return conversation


def test_conversation_pages_cost_fixed_queries(client, shopper, shop, other_shop, product,
                                               django_assert_max_num_queries):
    small = _thread(shopper, shop, product, 1)
    other_product = f.make_product(other_shop)
    big = _thread(shopper, other_shop, other_product, 8)
    client.force_login(shopper)
    client.get(reverse("service:conversations"))
    assert _queries(client, reverse("service:conversation", args=[small.pk])) == _queries(
        client, reverse("service:conversation", args=[big.pk]))
    # session and user (with the session's tracking row), the conversation, the read receipt (lock, last
    # message id), the messages with their cards and the product cards' images, the shopper's orders with
    # the shop; the list: its count, the page with unread counts and last messages; the polled partial
    with django_assert_max_num_queries(13):
        client.get(reverse("service:conversation", args=[big.pk]))
    with django_assert_max_num_queries(7):
        client.get(reverse("service:conversations"))
    with django_assert_max_num_queries(10):
        client.get(reverse("service:conversation_messages", args=[big.pk]))


def test_product_questions_page_costs_fixed_queries(client, shopper, seller, shop, product,
                                                    django_assert_max_num_queries):
    for i in range(5):
        question = qa.ask_question(actor=shopper, product_id=product.pk, text=f"问题{i}")
        qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text=f"回答{i}")
    url = reverse("service:product_questions", args=[product.pk])
    client.get(url)
    with django_assert_max_num_queries(4):
        client.get(url)
