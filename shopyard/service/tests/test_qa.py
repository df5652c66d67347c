"""Product Q&A (问大家): shoppers ask on a product page, the shop's members (and
buyers of the product) answer, answered questions show on the product page
newest first with their count, operators hide abuse with a reason."""

import pytest
from django.test import Client
from django.urls import reverse

from shopyard.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopyard.service import qa
from shopyard.service.models import Answer, Question
from shopyard.service.queries import product_qa_block
from tests import factories as f

pytestmark = pytest.mark.django_db


def _world():
    return (sorted(Question.objects.values_list("id", "text", "answer_count", "hidden_at")),
            sorted(Answer.objects.values_list("id", "text", "hidden_at")))


def test_answered_questions_show_on_the_product_page_newest_first_with_count(client, shopper, seller, shop,
                                                                               product):
    # given three questions, two of them answered by the shop
    first = qa.ask_question(actor=shopper, product_id=product.pk, text="尺码偏大吗？")
    second = qa.ask_question(actor=shopper, product_id=product.pk, text="Does it come with a charger?")
    qa.ask_question(actor=shopper, product_id=product.pk, text="还没人回答的问题")
    qa.answer_question(actor=seller, shop=shop, question_id=first.pk, text="正常尺码")
    qa.answer_question(actor=seller, shop=shop, question_id=second.pk, text="Yes, a 20 W charger.")

    # when anyone opens the product page
    html = client.get(f.product_url(product)).content.decode()

    # then the two answered ones show, newest first, with the shop's answer and the count
    assert 'data-qa-count>(2)</small>' in html
    assert html.index("Does it come with a charger?") < html.index("尺码偏大吗？")
    assert "Yes, a 20 W charger." in html and "正常尺码" in html
    assert "还没人回答的问题" not in html
    count, rows = product_qa_block(product.pk)
    assert (count, [q.pk for q in rows]) == (2, [second.pk, first.pk])


def test_product_page_qa_block_costs_one_query_whatever_the_number_of_questions(shopper, seller, shop, product,
                                                                                 django_assert_num_queries):
    for i in range(6):
        question = qa.ask_question(actor=shopper, product_id=product.pk, text=f"问题{i}")
        qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text=f"回答{i}")
    with django_assert_num_queries(1):
        count, rows = product_qa_block(product.pk)
        assert [q.top_answer.text for q in rows] == ["回答5", "回答4", "回答3"]
    assert count == 6


def test_full_question_page_lists_every_answer_and_paginates(client, shopper, seller, shop, product):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="能机洗吗？")
    qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="可以，冷水")
    page = client.get(reverse("service:product_questions", args=[product.pk]))
    assert page.status_code == 200
    assert "能机洗吗？" in page.content.decode() and "可以，冷水" in page.content.decode()


def test_shopper_asks_through_the_page_and_bad_text_is_refused(client, shopper, product):
    client.force_login(shopper)
    url = reverse("service:ask", args=[product.pk])
    resp = client.post(url, {"text": "  有现货吗？ "})
    assert resp.status_code == 302
    assert list(Question.objects.values_list("text", "author", "shop")) == [("有现货吗？", shopper.pk, product.shop_id)]
    # empty and too long: nothing more written, the page says why
    empty = client.post(url, {"text": "   "})
    assert empty.status_code == 422 and "This field is required." in empty.content.decode()
    long = client.post(url, {"text": "问" * 201})
    html = long.content.decode()
    assert long.status_code == 422 and "Use at most 200 characters." in html
    assert f">{'问' * 201}</textarea>" in html  # what was typed is kept in the form
    assert Question.objects.count() == 1


def test_asking_needs_a_login_and_a_visible_product(client, shopper, shop):
    draft = f.make_product(shop, publish=False)
    assert client.post(reverse("service:ask", args=[draft.pk]), {"text": "?"}).status_code == 302  # to login
    client.force_login(shopper)
    assert client.post(reverse("service:ask", args=[draft.pk]), {"text": "hi"}).status_code == 404
    assert client.post(reverse("service:ask", args=[999999]), {"text": "hi"}).status_code == 404
    with pytest.raises(NotFound):
        qa.ask_question(actor=shopper, product_id=draft.pk, text="hi")
    assert Question.objects.count() == 0


@pytest.mark.parametrize("text,message", [("", "This field is required."), ("x" * 201, "Use at most 200 characters."),
                                          (None, "This field is required."), (12, "Enter text.")])
def test_question_text_is_checked(shopper, product, text, message):
    with pytest.raises(ValidationFailed) as err:
        qa.ask_question(actor=shopper, product_id=product.pk, text=text)
    assert err.value.fields == {"text": [message]}
    assert Question.objects.count() == 0


def test_another_shops_member_cannot_answer_and_nothing_changes(shopper, other_shop, product):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="质保多久？")
    other_seller = other_shop.members.get().user
    before = _world()
    with pytest.raises(NotFound):
        qa.answer_question(actor=other_seller, shop=other_shop, question_id=question.pk, text="两年")
    assert _world() == before


def test_only_buyers_of_the_product_answer_as_buyers(shopper, other_shopper, seller, shop, product, sku, address):
    question = qa.ask_question(actor=other_shopper, product_id=product.pk, text="耐用吗？")
    # a shopper who never bought it is refused
    with pytest.raises(PermissionDenied):
        qa.answer_question(actor=other_shopper, question_id=question.pk, text="不知道")
    assert Answer.objects.count() == 0
    # one who paid for it answers, marked as a buyer
    f.make_paid_order(shopper, address, [(sku, 1)])
    answer = qa.answer_question(actor=shopper, question_id=question.pk, text="用了半年还好")
    assert (answer.role, Question.objects.get().answer_count) == ("buyer", 1)
    # the shop's later answer is the one shown first
    shop_answer = qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="质保一年")
    assert Question.objects.get().top_answer_id == shop_answer.pk


def test_operator_hides_an_abusive_answer_and_question_with_a_reason(client, shopper, seller, shop, product,
                                                                     home_operator):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="好用吗")
    answer = qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="垃圾广告 spam")
    client.force_login(home_operator)
    # a reason is required
    resp = client.post(reverse("service:operator_hide", args=["answer"]), {"id": answer.pk, "reason": " "})
    assert resp.status_code == 422 and "This field is required." in resp.content.decode()
    assert Answer.objects.get().hidden_at is None
    resp = client.post(reverse("service:operator_hide", args=["answer"]), {"id": answer.pk, "reason": "广告"})
    assert resp.status_code == 302
    answer.refresh_from_db()
    question.refresh_from_db()
    assert (answer.hidden_reason, question.answer_count, question.top_answer_id) == ("广告", 0, None)
    assert product_qa_block(product.pk) == (0, [])
    # hiding twice is a conflict
    with pytest.raises(Conflict):
        qa.hide_answer(actor=home_operator, answer_id=answer.pk, reason="again")
    qa.hide_question(actor=home_operator, question_id=question.pk, reason="辱骂")
    assert Question.objects.get().hidden_reason == "辱骂"
    # a hidden question takes no more answers
    with pytest.raises(NotFound):
        qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="再答")


def test_only_operators_moderate(client, shopper, seller, shop, product):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="好用吗")
    with pytest.raises(PermissionDenied):
        qa.hide_question(actor=seller, question_id=question.pk, reason="x")
    client.force_login(seller)
    resp = client.post(reverse("service:operator_hide", args=["question"]), {"id": question.pk, "reason": "x"})
    assert resp.status_code == 302 and "/admin/login/" in resp["Location"]
    assert Question.objects.get().hidden_at is None
    assert client.get(reverse("service:operator_moderation")).status_code == 302


def test_moderation_page_lists_questions_and_answers(client, shopper, seller, shop, product, home_operator):
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="好用吗")
    qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="好用")
    client.force_login(home_operator)
    html = client.get(reverse("service:operator_moderation")).content.decode()
    assert "好用吗" in html and f'data-answer="{Answer.objects.get().pk}"' in html


def test_an_answer_or_a_hiding_shows_at_once_on_the_cached_product_page(shopper, seller, shop, product, settings,
                                                                         home_operator,
                                                                         django_capture_on_commit_callbacks):
    # given the anonymous page cache on, and the product page cached without Q&A
    settings.PAGE_CACHE_SECONDS = 60
    question = qa.ask_question(actor=shopper, product_id=product.pk, text="防水吗？")
    assert "防水吗？" not in Client().get(f.product_url(product)).content.decode()
    # when the shop answers, then the cached page shows the question at once
    with django_capture_on_commit_callbacks(execute=True):
        qa.answer_question(actor=seller, shop=shop, question_id=question.pk, text="IP68 防水")
    assert "IP68 防水" in Client().get(f.product_url(product)).content.decode()
    # and when an operator hides it, it goes at once
    with django_capture_on_commit_callbacks(execute=True):
        qa.hide_question(actor=home_operator, question_id=question.pk, reason="重复")
    assert "防水吗？" not in Client().get(f.product_url(product)).content.decode()
