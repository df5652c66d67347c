"""One user writes to customer service at most SERVICE_WRITES_PER_MINUTE times a
minute (questions, answers, chat and ticket messages together): the next write
is a 429 with nothing written, and a refused write does not use up the budget."""

import pytest

from shopyard.accounts.throttle import TryLater
from shopyard.core.errors import ValidationFailed
from shopyard.service import conversations, qa
from shopyard.service.models import ConversationMessage, Question
from tests import factories as f


@pytest.fixture
def three_a_minute(settings):
    """A budget of three; the cache (where the counts live) is emptied around every test by conftest."""
    settings.SERVICE_WRITES_PER_MINUTE = 3


def test_a_user_writing_too_fast_gets_a_429_and_nothing_is_written(db, three_a_minute, shopper, product, shop):
    for n in range(2):
        qa.ask_question(actor=shopper, product_id=product.pk, text=f"问题 {n}")
    conversation = conversations.open_conversation(actor=shopper, shop_id=shop.pk)
    conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="在吗？")
    questions, messages = Question.objects.count(), ConversationMessage.objects.count()
    # the fourth write within the minute, whatever its kind
    with pytest.raises(TryLater) as exc:
        qa.ask_question(actor=shopper, product_id=product.pk, text="再问一个")
    assert exc.value.status == 429 and exc.value.retry_after > 0
    with pytest.raises(TryLater):
        conversations.send_message(actor=shopper, conversation_id=conversation.pk, body="还在吗？")
    assert (Question.objects.count(), ConversationMessage.objects.count()) == (questions, messages)
    # another user has their own budget
    qa.ask_question(actor=f.make_user("another-shopper"), product_id=product.pk, text="我也想问")


def test_a_refused_write_gives_its_slot_back(db, three_a_minute, shopper, product):
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            qa.ask_question(actor=shopper, product_id=product.pk, text="")
    for n in range(3):
        qa.ask_question(actor=shopper, product_id=product.pk, text=f"问题 {n}")
    assert Question.objects.filter(author=shopper).count() == 3


def test_the_api_answers_429_with_retry_after(db, three_a_minute, api, shopper_token, product):
    for n in range(3):
        assert api.post(f"/products/{product.pk}/questions", {"text": f"问题 {n}"}, token=shopper_token).status_code == 201
    r = api.post(f"/products/{product.pk}/questions", {"text": "第四个"}, token=shopper_token)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
