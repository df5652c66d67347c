"""Product Q&A (问大家) writes: a shopper asks on a product page, the shop's
members answer (and buyers of the product may answer too, as on Taobao), and
operators hide abusive questions or answers with a reason.

A question shows on the product page once it has a visible answer; the
counters on Question (`answer_count`, `answered_at`, `top_answer`) are
recomputed here after every answer or hiding, under the question's lock, so
the page reads its block in one query."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.queries import visible_products
from shopyard.core.errors import Conflict, NotFound, PermissionDenied
from shopyard.core.events import emit
from shopyard.orders.models import OrderLine
from shopyard.orders.state import SOLD

from .inputs import clean_reason, clean_text, require_operator
from .limits import limited
from .models import QUESTION_MAX, TEXT_MAX, Answer, Question


@limited
def ask_question(*, actor, product_id, text) -> Question:
    text = clean_text(text, "text", max_length=QUESTION_MAX)
    with transaction.atomic():
        product = visible_products().filter(pk=product_id).first()
        if product is None:
            raise NotFound(_("Product not found."))
        question = Question.objects.create(product=product, shop_id=product.shop_id, author=actor, text=text)
        emit("question.asked", question_id=question.pk, product_id=product.pk, shop_id=product.shop_id,
             user_id=actor.pk)
    return question


def has_bought(user, product_id) -> bool:
    """The user paid for the product at least once (an order that was a sale)."""
    return OrderLine.objects.filter(order__user=user, order__status__in=SOLD, sku__product_id=product_id).exists()


@limited
def answer_question(*, actor, question_id, text, shop=None) -> Answer:
    """With `shop` (the caller's, from the console or shop_for_seller) the
    shop answers its own product's question; without it the actor answers as
    a buyer and must have bought the product. A hidden question, one of
    another shop or of an invisible product is a 404."""
    text = clean_text(text, "text", max_length=TEXT_MAX)
    with transaction.atomic():
        scope = Question.objects.select_for_update().filter(pk=question_id, hidden_at__isnull=True)
        if shop is not None:
            question = scope.filter(shop=shop).first()
        else:
            question = scope.filter(product__in=visible_products()).first()
        if question is None:
            raise NotFound(_("Question not found."))
        if shop is None and not has_bought(actor, question.product_id):
            raise PermissionDenied(_("Only the shop and shoppers who bought this product can answer."))
        role = Answer.Role.SHOP if shop is not None else Answer.Role.BUYER
        answer = Answer.objects.create(question=question, author=actor, role=role, text=text)
        refresh_counters(question)
        emit("question.answered", question_id=question.pk, answer_id=answer.pk, product_id=question.product_id,
             shop_id=question.shop_id, user_id=question.author_id, role=role)
    return answer


def refresh_counters(question) -> None:
    """Recompute what the product page reads from the visible answers: how
    many, the latest time, and the one shown first (the shop's first answer,
    else the first)."""
    visible = list(question.answers.filter(hidden_at__isnull=True).order_by("id"))
    question.answer_count = len(visible)
    question.answered_at = max((a.created_at for a in visible), default=None)
    question.top_answer = next((a for a in visible if a.role == Answer.Role.SHOP), visible[0] if visible else None)
    question.save(update_fields=["answer_count", "answered_at", "top_answer"])


def hide_question(*, actor, question_id, reason) -> Question:
    require_operator(actor)
    reason = clean_reason(reason)
    with transaction.atomic():
        question = Question.objects.select_for_update().filter(pk=question_id).first()
        if question is None:
            raise NotFound(_("Question not found."))
        if question.hidden_at is not None:
            raise Conflict(_("This question is already hidden."))
        question.hidden_at, question.hidden_reason, question.hidden_by = timezone.now(), reason, actor
        question.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
        emit("question.moderated", question_id=question.pk, product_id=question.product_id, shop_id=question.shop_id,
             reason=reason)
    return question


def hide_answer(*, actor, answer_id, reason) -> Answer:
    require_operator(actor)
    reason = clean_reason(reason)
    with transaction.atomic():
        answer = Answer.objects.filter(pk=answer_id).first()
        if answer is None:
            raise NotFound(_("Answer not found."))
        question = Question.objects.select_for_update().get(pk=answer.question_id)
        answer = Answer.objects.get(pk=answer.pk)
        if answer.hidden_at is not None:
            raise Conflict(_("This answer is already hidden."))
        answer.hidden_at, answer.hidden_reason, answer.hidden_by = timezone.now(), reason, actor
        answer.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
        refresh_counters(question)
        emit("answer.moderated", answer_id=answer.pk, question_id=question.pk, product_id=question.product_id,
             shop_id=question.shop_id, reason=reason)
    return answer
