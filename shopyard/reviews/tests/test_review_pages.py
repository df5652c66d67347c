"""Review pages: the product page's slot and the full list (filters, aggregate,
query budgets), writing a review and a follow-up, the 待评价 tab and the order
page, the shop page's ratings, the seller console and the operators' admin action."""

import pytest
from django.urls import reverse

from shopyard.reviews import services
from shopyard.reviews.models import Review, ReviewStatusChange
from tests import factories as f

from .helpers import not_an_image, photo

pytestmark = pytest.mark.django_db


def write(order, **overrides):
    line = order.lines.get()
    data = {"rating": 5, "logistics": 5, "service": 5, "text": "质量很好"}
    data.update(overrides)
    return services.create_review(actor=order.user, order_id=order.pk, line_id=line.pk, **data)


def many_reviews(sku, n, **overrides):
    """`n` reviews of `sku` by `n` buyers."""
    out = []
    for i in range(n):
        buyer = f.make_user(f"buyer{i}")
        order = f.make_completed_order(buyer, f.make_address(buyer), [(sku, 1)])
        out.append(write(order, rating=5 - i % 5, text=f"评价 {i}", **overrides))
    return out


# --- product page and the list --------------------------------------------------------------

def test_product_page_has_a_reviews_slot_that_works_without_javascript(client, product):
    page = client.get(f.product_url(product)).content.decode()
    url = reverse("storefront:product_reviews", args=[product.pk])
    assert f'hx-get="{url}?slot=1"' in page
    assert f'href="{url}"' in page


def test_slot_shows_the_aggregate_filters_and_first_reviews_in_fixed_queries(
        client, shop, media, django_assert_max_num_queries):
    sku = f.make_product(shop, stock=50).skus.get()
    many_reviews(sku, 5, photos=[photo()])
    url = reverse("storefront:product_reviews", args=[sku.product_id])
    client.get(f"{url}?slot=1")
    # the product's visibility, its rating row, the reviews with authors, their photos
    with django_assert_max_num_queries(4):
        resp = client.get(f"{url}?slot=1")
    body = resp.content.decode()
    assert resp.context["summary"]["count"] == 5 and str(resp.context["summary"]["average"]) == "3.0"
    assert len(resp.context["reviews"]) == 3
    assert "40&#37; good" in body and "With photos (5)" in body and "Bad (2)" in body


def test_full_list_paginates_and_filters_in_fixed_queries(client, shop, media, django_assert_max_num_queries):
    sku = f.make_product(shop, stock=50).skus.get()
    many_reviews(sku, 12)
    url = reverse("storefront:product_reviews", args=[sku.product_id])
    client.get(url)
    with django_assert_max_num_queries(6):  # + the paginator's count
        first = client.get(url)
    assert len(first.context["reviews"]) == 10
    assert len(client.get(url, {"page": 2}).context["reviews"]) == 2
    bad = client.get(url, {"filter": "bad"})
    assert {r.rating for r in bad.context["reviews"]} == {1, 2} and len(bad.context["reviews"]) == 4
    assert [r.rating for r in client.get(url, {"filter": "3"}).context["reviews"]] == [3, 3]
    assert client.get(url, {"filter": "nonsense"}).context["current"] == "all"


def test_hidden_reviews_and_hidden_products_do_not_show(client, reviewable_order, sku, shop):
    review = write(reviewable_order, text="含广告内容")
    services.hide_review(actor=f.make_user("op", is_staff=True), review_id=review.pk, reason="广告")
    url = reverse("storefront:product_reviews", args=[sku.product_id])
    resp = client.get(url)
    assert "含广告内容" not in resp.content.decode() and resp.context["summary"]["count"] == 0
    sku.product.status = "draft"
    sku.product.save(update_fields=["status"])
    assert client.get(url).status_code == 404


def test_anonymous_reviews_show_a_masked_name(client, sku, reviewable_order):
    reviewable_order.user.nickname = "张伟"
    reviewable_order.user.save(update_fields=["nickname"])
    write(reviewable_order, anonymous=True)
    body = client.get(reverse("storefront:product_reviews", args=[sku.product_id])).content.decode()
    assert "张**" in body and "张伟" not in body


# --- writing ---------------------------------------------------------------------------------

def test_buyer_writes_a_review_with_photos_from_the_order_page(client, reviewable_order, media):
    order, line = reviewable_order, reviewable_order.lines.get()
    client.force_login(order.user)
    detail = client.get(reverse("storefront:order_detail", args=[order.pk])).content.decode()
    url = reverse("storefront:review_line", args=[order.pk, line.pk])
    assert url in detail
    assert client.get(url).status_code == 200

    resp = client.post(url, {"rating": "4", "logistics": "5", "service": "3", "text": "不错", "anonymous": "on",
                             "photos": [photo(), photo("b.png")]})
    assert resp.status_code == 302
    review = Review.objects.get()
    assert (review.rating, review.logistics, review.service, review.anonymous, review.photo_count) == (4, 5, 3, True, 2)
    detail = client.get(reverse("storefront:order_detail", args=[order.pk])).content.decode()
    assert reverse("storefront:review_follow_up", args=[review.pk]) in detail and url not in detail


@pytest.mark.parametrize("data, field, message", [
    ({"rating": "6"}, "rating", "Choose from 1 to 5 stars."),
    ({"logistics": "２"}, "logistics", "Choose from 1 to 5 stars."),
    ({"text": "长" * 501}, "text", "Use at most 500 characters."),
])
def test_review_form_refuses_bad_input_and_writes_nothing(client, reviewable_order, data, field, message):
    client.force_login(reviewable_order.user)
    url = reverse("storefront:review_line", args=[reviewable_order.pk, reviewable_order.lines.get().pk])
    resp = client.post(url, {"rating": "5", "logistics": "5", "service": "5", **data})
    assert resp.status_code == 422
    assert message in resp.content.decode()
    assert Review.objects.count() == 0


def test_review_form_refuses_a_non_image(client, reviewable_order):
    client.force_login(reviewable_order.user)
    url = reverse("storefront:review_line", args=[reviewable_order.pk, reviewable_order.lines.get().pk])
    resp = client.post(url, {"rating": "5", "logistics": "5", "service": "5", "photos": [not_an_image()]})
    assert resp.status_code == 422 and "Upload a valid JPEG, PNG, WebP or GIF image." in resp.content.decode()
    assert Review.objects.count() == 0


def test_review_form_of_someone_elses_order_is_404_and_of_an_unfinished_order_409(
        client, reviewable_order, other_shopper, shopper, address, sku):
    url = reverse("storefront:review_line", args=[reviewable_order.pk, reviewable_order.lines.get().pk])
    client.force_login(other_shopper)
    assert client.get(url).status_code == 404
    assert client.post(url, {"rating": "5", "logistics": "5", "service": "5"}).status_code == 404
    paid = f.make_paid_order(shopper, address, [(sku, 1)])
    client.force_login(shopper)
    resp = client.post(reverse("storefront:review_line", args=[paid.pk, paid.lines.get().pk]),
                       {"rating": "5", "logistics": "5", "service": "5"})
    assert resp.status_code == 409 and "Only completed orders can be reviewed." in resp.content.decode()
    assert Review.objects.count() == 0


def test_follow_up_page_adds_it_once(client, reviewable_order):
    review = write(reviewable_order)
    client.force_login(reviewable_order.user)
    url = reverse("storefront:review_follow_up", args=[review.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"text": "一个月后依然好用"}).status_code == 302
    again = client.post(url, {"text": "再追评"})
    assert again.status_code == 409
    assert Review.objects.get().follow_up == "一个月后依然好用"
    client.force_login(f.make_user("someone"))
    assert client.get(url).status_code == 404


def test_my_reviews_shows_a_hidden_review_with_its_reason(client, reviewable_order):
    review = write(reviewable_order)
    services.hide_review(actor=f.make_user("op", is_staff=True), review_id=review.pk, reason="含不当言论")
    client.force_login(reviewable_order.user)
    body = client.get(reverse("storefront:my_reviews")).content.decode()
    assert "Hidden by the platform: 含不当言论" in body


# --- order centre and shop page --------------------------------------------------------------

def test_to_review_tab_lists_completed_orders_until_reviewed(client, reviewable_order, shopper, address, sku):
    f.make_paid_order(shopper, address, [(sku, 1)])
    client.force_login(shopper)
    resp = client.get(reverse("storefront:orders"), {"tab": "to_review"})
    tabs = {tab: count for tab, _url, _label, count in resp.context["tabs"]}
    assert [o.pk for o in resp.context["orders"]] == [reviewable_order.pk]
    assert (tabs["to_review"], tabs["all"]) == (1, 2)
    assert [tab for tab, _url, _label, _count in resp.context["tabs"]] == [
        "all", "unpaid", "to_ship", "to_receive", "to_review", "completed", "cancelled", "aftersales"]

    write(reviewable_order)
    resp = client.get(reverse("storefront:orders"), {"tab": "to_review"})
    assert list(resp.context["orders"]) == []


def test_shop_page_shows_the_shop_ratings(client, reviewable_order, shop):
    write(reviewable_order, rating=5, logistics=4, service=3)
    body = client.get(reverse("storefront:shop", args=[shop.slug])).content.decode()
    assert 'id="shop-rating"' in body
    assert "Logistics <strong>4.0</strong>" in body and "Service <strong>3.0</strong>" in body


# --- seller console --------------------------------------------------------------------------

def test_console_lists_filters_and_replies_once(seller_client, reviewable_order, shop):
    review = write(reviewable_order, rating=2)
    listed = seller_client.get(reverse("console:reviews"), {"filter": "unreplied"})
    assert [r.pk for r in listed.context["reviews"]] == [review.pk]
    assert list(seller_client.get(reverse("console:reviews"), {"stars": "5"}).context["reviews"]) == []
    assert [r.pk for r in seller_client.get(reverse("console:reviews"), {"filter": "bad"}).context["reviews"]] == [
        review.pk]

    url = reverse("console:review_reply", args=[review.pk])
    assert seller_client.post(url, {"text": "非常抱歉，已为您安排换货"}).status_code == 302
    again = seller_client.post(url, {"text": "再次回复"}, follow=True)
    assert "Already replied." in again.content.decode()
    assert Review.objects.get().reply == "非常抱歉，已为您安排换货"
    assert list(seller_client.get(reverse("console:reviews"), {"filter": "unreplied"}).context["reviews"]) == []


def test_console_reply_to_another_shops_review_is_404(client, reviewable_order, other_shop):
    review = write(reviewable_order)
    client.force_login(other_shop.members.get().user)
    assert client.post(reverse("console:review_reply", args=[review.pk]), {"text": "不是我的"}).status_code == 404
    assert client.get(reverse("console:reviews")).context["reviews"] == []
    assert Review.objects.get().replied_at is None


# --- operators -------------------------------------------------------------------------------

def test_admin_hides_with_a_reason_through_the_service(client, reviewable_order):
    review = write(reviewable_order)
    client.force_login(f.make_user("root", is_staff=True, is_superuser=True))
    url = reverse("admin:reviews_review_changelist")
    ask = client.post(url, {"action": "hide_reviews", "_selected_action": [review.pk]})
    assert ask.status_code == 200 and "reason" in ask.content.decode()
    done = client.post(url, {"action": "hide_reviews", "_selected_action": [review.pk], "apply": "1",
                             "reason": "辱骂 / abusive"}, follow=True)
    assert done.status_code == 200
    review.refresh_from_db()
    assert (review.status, review.hidden_reason) == ("hidden", "辱骂 / abusive")
    assert ReviewStatusChange.objects.get().actor_label == "root"


def test_staff_without_the_admin_permission_cannot_hide(client, reviewable_order):
    review = write(reviewable_order)
    client.force_login(f.make_user("helper", is_staff=True))
    resp = client.post(reverse("admin:reviews_review_changelist"),
                       {"action": "hide_reviews", "_selected_action": [review.pk], "apply": "1", "reason": "x"})
    assert resp.status_code == 403
    assert Review.objects.get().status == "visible"
