"""Reviews through the services: who may write what, once, and the aggregates they keep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shopyard.core.models import OutboxEvent
from shopyard.orders.state import Status as OrderStatus
from shopyard.reviews import queries, services
from shopyard.reviews.models import (
    ProductRating,
    Review,
    ReviewPhoto,
    ReviewStatusChange,
    ShopRating,
)
from shopyard.reviews.state import TRANSITIONS, Action, Status
from tests import factories as f

from .helpers import not_an_image, photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(reviewable_order):
    return reviewable_order


@pytest.fixture
def operator(db):
    return f.make_user("moderator", is_staff=True)


def review(order, user=None, **overrides):
    line = order.lines.get()
    data = {"rating": 5, "logistics": 4, "service": 5, "text": "很好用，推荐"}
    data.update(overrides)
    return services.create_review(actor=user or order.user, order_id=order.pk, line_id=line.pk, **data)


# --- state machine ---------------------------------------------------------------------

@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_state_and_action_pair_follows_the_table(order, operator, status, action):
    # given a review in `status`
    r = review(order)
    Review.objects.filter(pk=r.pk).update(status=status)
    call = services.hide_review if action == Action.HIDE else services.show_review
    target = TRANSITIONS.get((status, action))
    if target is None:
        # then a pair the table does not hold is refused and nothing changes
        with pytest.raises(InvalidTransition):
            call(actor=operator, review_id=r.pk, reason="检查")
        assert Review.objects.get(pk=r.pk).status == status
        assert not ReviewStatusChange.objects.exists()
    else:
        moved = call(actor=operator, review_id=r.pk, reason="检查")
        assert (moved.status, Review.objects.get(pk=r.pk).status) == (target, target)
        change = ReviewStatusChange.objects.get()
        assert (change.from_status, change.to_status, change.action, change.reason) == (status, target, action, "检查")


# --- writing a review ------------------------------------------------------------------

def test_buyer_reviews_a_completed_line_with_photos_and_the_aggregates_follow(order, shop, sku):
    r = review(order, rating=4, logistics=3, service=5, photos=[photo(), photo("b.png")], anonymous=True)

    assert (r.rating, r.logistics, r.service, r.text, r.anonymous, r.photo_count) == (4, 3, 5, "很好用，推荐", True, 2)
    assert (r.product_id, r.shop_id, r.order_id, r.line_id) == (sku.product_id, shop.pk, order.pk, order.lines.get().pk)
    assert ReviewPhoto.objects.filter(review=r, part="review").count() == 2
    assert all(p.thumbnail.name.endswith(".jpg") for p in r.photos.all())
    summary = queries.product_summary(sku.product_id)
    assert (summary["count"], str(summary["average"]), summary["good_share"]) == (1, "4.0", 100)
    assert [s["count"] for s in summary["stars"]] == [0, 1, 0, 0, 0]
    shop_rating = queries.shop_summary(shop.pk)
    assert (shop_rating["count"], str(shop_rating["product"]), str(shop_rating["logistics"]),
            str(shop_rating["service"])) == (1, "4.0", "3.0", "5.0")
    assert queries.author_label(r) == "s**"


def test_averages_over_several_reviews(shopper, other_shopper, address, sku, shop, media):
    first = f.make_completed_order(shopper, address, [(sku, 1)])
    second = f.make_completed_order(other_shopper, f.make_address(other_shopper), [(sku, 1)])
    review(first, rating=5, logistics=5, service=4)
    review(second, rating=2, logistics=4, service=4)

    summary = queries.product_summary(sku.product_id)
    assert (summary["count"], str(summary["average"]), summary["good_share"]) == (2, "3.5", 50)
    counts = {item["name"]: item["count"] for item in summary["filters"]}
    assert (counts["good"], counts["medium"], counts["bad"], counts["5"], counts["2"]) == (1, 0, 1, 1, 1)
    assert str(queries.shop_summary(shop.pk)["logistics"]) == "4.5"


def test_review_on_an_order_not_completed_is_refused(shopper, address, sku):
    paid = f.make_paid_order(shopper, address, [(sku, 1)])
    with pytest.raises(Conflict) as exc:
        review(paid)
    assert exc.value.fields == {"order": ["Not completed yet."]}
    assert Review.objects.count() == 0 and ProductRating.objects.count() == 0


def test_review_on_someone_elses_order_is_not_found(order, other_shopper):
    with pytest.raises(NotFound):
        review(order, user=other_shopper)
    assert Review.objects.count() == 0


def test_a_line_is_reviewed_once(order):
    review(order)
    with pytest.raises(Conflict) as exc:
        review(order, rating=1)
    assert exc.value.fields == {"line_id": ["Already reviewed."]}
    assert list(Review.objects.values_list("rating", flat=True)) == [5]


@pytest.mark.parametrize("field", ["rating", "logistics", "service"])
@pytest.mark.parametrize("value", [0, 6, -1, 4.5, "五", "", None, True, "3.0"])
def test_scores_outside_one_to_five_or_not_whole_are_refused(order, field, value):
    with pytest.raises(ValidationFailed) as exc:
        review(order, **{field: value})
    assert exc.value.fields == {field: ["Choose from 1 to 5 stars."]}
    assert Review.objects.count() == 0


def test_too_long_text_is_refused(order):
    with pytest.raises(ValidationFailed) as exc:
        review(order, text="好" * (services.MAX_TEXT + 1))
    assert exc.value.fields == {"text": [f"Use at most {services.MAX_TEXT} characters."]}
    assert Review.objects.count() == 0


def test_non_image_and_oversized_photos_and_too_many_are_refused_writing_nothing(order, settings, media):
    with pytest.raises(ValidationFailed) as exc:
        review(order, photos=[photo(), not_an_image()])
    assert exc.value.fields == {"photos": ["Upload a valid JPEG, PNG, WebP or GIF image."]}
    settings.MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationFailed) as exc:
        review(order, photos=[photo(size=(400, 400))])
    assert exc.value.fields == {"photos": ["The image is larger than 1 KB."]}
    settings.MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    with pytest.raises(ValidationFailed) as exc:
        review(order, photos=[photo() for _ in range(services.MAX_PHOTOS + 1)])
    assert exc.value.fields == {"photos": [f"Add at most {services.MAX_PHOTOS} photos."]}
    assert (Review.objects.count(), ReviewPhoto.objects.count()) == (0, 0)
    assert not (media / "reviews").exists()


def test_the_review_window_closes(order, settings):
    late = order.completed_at + timedelta(days=settings.REVIEW_WINDOW_DAYS, seconds=1)
    with pytest.raises(Conflict):
        review(order, now=late)
    assert queries.awaiting_review_count(order.user, now=late) == 0
    assert queries.awaiting_review_count(order.user) == 1


def test_gift_lines_are_not_reviewed(order):
    order.lines.update(is_gift=True)
    with pytest.raises(Conflict):
        review(order)
    assert queries.awaiting_review_count(order.user) == 0


# --- follow-up -------------------------------------------------------------------------

def test_one_follow_up_is_appended_and_a_second_is_refused(order, media):
    r = review(order)
    followed = services.add_follow_up(actor=order.user, review_id=r.pk, text="用了一个月，依然很好", photos=[photo()])
    assert (followed.text, followed.follow_up, followed.photo_count) == ("很好用，推荐", "用了一个月，依然很好", 1)
    assert ReviewPhoto.objects.filter(review=r, part="follow_up").count() == 1
    assert queries.product_summary(r.product_id)["filters"][2] == {"name": "follow_up", "label": "Followed up",
                                                                  "count": 1}

    with pytest.raises(Conflict) as exc:
        services.add_follow_up(actor=order.user, review_id=r.pk, text="再追一次")
    assert exc.value.fields == {"follow_up": ["Already followed up."]}
    assert Review.objects.get(pk=r.pk).follow_up == "用了一个月，依然很好"


def test_follow_up_of_someone_elses_review_is_not_found_and_empty_text_refused(order, other_shopper):
    r = review(order)
    with pytest.raises(NotFound):
        services.add_follow_up(actor=other_shopper, review_id=r.pk, text="追评")
    with pytest.raises(ValidationFailed) as exc:
        services.add_follow_up(actor=order.user, review_id=r.pk, text="   ")
    assert exc.value.fields == {"follow_up": ["Write something."]}
    assert Review.objects.get(pk=r.pk).followed_up_at is None


def test_follow_up_window_closes(order, settings):
    r = review(order)
    late = order.completed_at + timedelta(days=settings.FOLLOW_UP_WINDOW_DAYS, seconds=1)
    with pytest.raises(Conflict):
        services.add_follow_up(actor=order.user, review_id=r.pk, text="追评", now=late)
    assert Review.objects.get(pk=r.pk).followed_up_at is None


# --- seller replies --------------------------------------------------------------------

def test_seller_replies_once_to_the_review_and_once_to_the_follow_up(order, shop, seller):
    r = review(order)
    with pytest.raises(Conflict):  # nothing to reply to yet
        services.reply_to_follow_up(actor=seller, shop=shop, review_id=r.pk, text="谢谢")
    services.reply(actor=seller, shop=shop, review_id=r.pk, text="感谢您的支持！")
    with pytest.raises(Conflict) as exc:
        services.reply(actor=seller, shop=shop, review_id=r.pk, text="再回复")
    assert exc.value.fields == {"reply": ["Already replied."]}

    services.add_follow_up(actor=order.user, review_id=r.pk, text="追评")
    services.reply_to_follow_up(actor=seller, shop=shop, review_id=r.pk, text="期待再次光临")
    with pytest.raises(Conflict):
        services.reply_to_follow_up(actor=seller, shop=shop, review_id=r.pk, text="又一次")
    r.refresh_from_db()
    assert (r.reply, r.follow_up_reply) == ("感谢您的支持！", "期待再次光临")


def test_seller_replying_to_another_shops_review_is_not_found(order, other_shop):
    r = review(order)
    owner = other_shop.members.get().user
    with pytest.raises(NotFound):
        services.reply(actor=owner, shop=other_shop, review_id=r.pk, text="不是我们的")
    assert Review.objects.get(pk=r.pk).replied_at is None


def test_reply_text_is_required_and_limited(order, shop, seller):
    r = review(order)
    for text, message in (("", "Write something."), ("谢" * 501, "Use at most 500 characters.")):
        with pytest.raises(ValidationFailed) as exc:
            services.reply(actor=seller, shop=shop, review_id=r.pk, text=text)
        assert exc.value.fields == {"reply": [message]}
    assert Review.objects.get(pk=r.pk).replied_at is None


# --- moderation ------------------------------------------------------------------------

def test_hidden_reviews_leave_the_product_and_the_aggregates_but_the_author_sees_them(order, operator, shop):
    r = review(order)
    services.hide_review(actor=operator, review_id=r.pk, reason="含广告 / advertising")

    assert list(queries.public_reviews(r.product_id)) == []
    assert queries.product_summary(r.product_id)["count"] == 0
    assert ShopRating.objects.get(shop=shop).count == 0
    mine = list(queries.my_reviews(order.user))
    assert [(m.pk, m.is_hidden, m.hidden_reason) for m in mine] == [(r.pk, True, "含广告 / advertising")]

    services.show_review(actor=operator, review_id=r.pk, reason="复核通过")
    assert [x.pk for x in queries.public_reviews(r.product_id)] == [r.pk]
    assert (queries.product_summary(r.product_id)["count"], Review.objects.get(pk=r.pk).hidden_reason) == (1, "")


def test_only_operators_hide_and_a_reason_is_required(order, seller, operator):
    r = review(order)
    with pytest.raises(PermissionDenied):
        services.hide_review(actor=seller, review_id=r.pk, reason="不喜欢")
    with pytest.raises(PermissionDenied):
        services.hide_review(actor=order.user, review_id=r.pk, reason="不喜欢")
    with pytest.raises(ValidationFailed) as exc:
        services.hide_review(actor=operator, review_id=r.pk, reason=" ")
    assert exc.value.fields == {"reason": ["Write something."]}
    assert Review.objects.get(pk=r.pk).status == Status.VISIBLE
    assert not ReviewStatusChange.objects.exists()


def test_events_are_emitted(order, operator, shop, seller):
    names = ("review.created", "review_follow_up.written", "review.replied", "review.hidden", "review.shown")
    r = review(order)
    services.add_follow_up(actor=order.user, review_id=r.pk, text="追评")
    services.reply(actor=seller, shop=shop, review_id=r.pk, text="谢谢")
    services.hide_review(actor=operator, review_id=r.pk, reason="测试")
    services.show_review(actor=operator, review_id=r.pk, reason="测试")
    seen = OutboxEvent.objects.filter(name__startswith="review").order_by("pk").values_list("name", flat=True)
    assert list(seen) == list(names)


# --- the order centre ------------------------------------------------------------------

def test_awaiting_review_lists_completed_orders_with_unreviewed_lines(shopper, address, sku, other_sku, media):
    f.make_paid_order(shopper, address, [(sku, 1)])  # paid only: not to review
    done = f.make_completed_order(shopper, address, [(sku, 1)])
    assert done.status == OrderStatus.COMPLETED
    assert queries.awaiting_review_count(shopper) == 1
    assert [line.order_id for line in queries.reviewable_lines(shopper)] == [done.pk]

    review(done)
    assert queries.awaiting_review_count(shopper) == 0
    assert list(queries.reviewable_lines(shopper)) == []
    states = queries.line_states(done, now=timezone.now())
    [state] = states.values()
    assert (state["can_review"], state["can_follow_up"], state["review"].rating) == (False, True, 5)
