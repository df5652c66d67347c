"""The reviews API: public list and aggregate, buyer, seller and operator endpoints, and bad input."""

import pytest

from shopyard.reviews.models import Review
from tests import factories as f

from .helpers import not_an_image, photo

pytestmark = pytest.mark.django_db


def post_review(client, reviewable_order, token, **fields):
    line = reviewable_order.lines.get()
    data = {"rating": "5", "logistics": "4", "service": "5", "text": "Great, works well"}
    data.update(fields)
    return client.post(f"/api/v1/orders/{reviewable_order.pk}/lines/{line.pk}/review", data=data, **f.auth(token))


def test_buyer_reviews_with_photos_and_everyone_reads_it_with_the_aggregate(client, api, reviewable_order, shopper_token, sku):
    resp = post_review(client, reviewable_order, shopper_token, photos=[photo(), photo("b.png")], anonymous="true")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["rating"], body["author"], body["anonymous"], len(body["photos"]), body["status"]) == (
        5, "s**", True, 2, "visible")

    page = api.get(f"/products/{sku.product_id}/reviews?filter=photos").json()
    assert page["summary"]["count"] == 1 and page["summary"]["average"] == "5.0"
    assert [r["id"] for r in page["results"]] == [body["id"]]
    assert "status" not in page["results"][0]
    assert api.get(f"/products/{sku.product_id}/reviews?filter=bad").json()["results"] == []
    assert api.get("/reviews/reviewable", token=shopper_token).json() == []
    assert [r["id"] for r in api.get("/reviews/mine", token=shopper_token).json()["results"]] == [body["id"]]


def test_reviewable_lines_are_listed(api, reviewable_order, shopper_token):
    [line] = api.get("/reviews/reviewable", token=shopper_token).json()
    assert (line["order_id"], line["line_id"]) == (reviewable_order.pk, reviewable_order.lines.get().pk)


@pytest.mark.parametrize("fields, field", [
    ({"rating": "0"}, "rating"), ({"rating": "6"}, "rating"), ({"logistics": "4.5"}, "logistics"),
    ({"service": "好"}, "service"), ({"text": "x" * 501}, "text"),
])
def test_bad_scores_and_text_are_422_with_the_field(client, reviewable_order, shopper_token, fields, field):
    resp = post_review(client, reviewable_order, shopper_token, **fields)
    assert resp.status_code == 422
    assert list(resp.json()["fields"]) == [field]
    assert Review.objects.count() == 0


def test_non_image_photo_is_422(client, reviewable_order, shopper_token):
    resp = post_review(client, reviewable_order, shopper_token, photos=[not_an_image()])
    assert (resp.status_code, resp.json()["fields"]) == (422, {"photos": ["Upload a valid JPEG, PNG, WebP or GIF image."]})
    assert Review.objects.count() == 0


def test_someone_elses_order_is_404_and_a_second_review_409(client, reviewable_order, shopper_token, other_shopper):
    assert post_review(client, reviewable_order, f.token_for(other_shopper)).status_code == 404
    assert post_review(client, reviewable_order, shopper_token).status_code == 201
    resp = post_review(client, reviewable_order, shopper_token)
    assert (resp.status_code, resp.json()["code"]) == (409, "conflict")
    assert Review.objects.count() == 1


def test_order_not_completed_is_409(client, shopper, address, sku, shopper_token):
    paid = f.make_paid_order(shopper, address, [(sku, 1)])
    assert post_review(client, paid, shopper_token).status_code == 409
    assert Review.objects.count() == 0


def test_follow_up_once(client, reviewable_order, shopper_token):
    review_id = post_review(client, reviewable_order, shopper_token).json()["id"]
    url = f"/api/v1/reviews/{review_id}/follow-up"
    resp = client.post(url, data={"text": "Still great after a month", "photos": [photo()]}, **f.auth(shopper_token))
    assert (resp.status_code, resp.json()["follow_up"], len(resp.json()["photos"])) == (
        200, "Still great after a month", 1)
    second = client.post(url, data={"text": "again"}, **f.auth(shopper_token))
    assert second.status_code == 409
    assert Review.objects.get().follow_up == "Still great after a month"


def test_seller_lists_and_replies_once_and_another_shop_gets_404(client, api, reviewable_order, shopper_token, seller_token,
                                                                 other_shop):
    review_id = post_review(client, reviewable_order, shopper_token).json()["id"]
    listed = api.get("/seller/reviews?filter=unreplied", token=seller_token).json()
    assert [r["id"] for r in listed["results"]] == [review_id]

    resp = api.post(f"/seller/reviews/{review_id}/reply", {"text": "Thank you!"}, token=seller_token)
    assert (resp.status_code, resp.json()["reply"]) == (200, "Thank you!")
    assert api.post(f"/seller/reviews/{review_id}/reply", {"text": "Again"}, token=seller_token).status_code == 409
    assert api.post(f"/seller/reviews/{review_id}/follow-up-reply", {"text": "x"}, token=seller_token).status_code == 409
    assert api.get("/seller/reviews?filter=unreplied", token=seller_token).json()["results"] == []

    other = f.token_for(other_shop.members.get().user)
    assert api.post(f"/seller/reviews/{review_id}/reply", {"text": "Not ours"}, token=other).status_code == 404
    assert Review.objects.get().reply == "Thank you!"


def test_operator_hides_and_shows_and_nobody_else_can(client, api, reviewable_order, shopper_token, seller_token, sku):
    review_id = post_review(client, reviewable_order, shopper_token).json()["id"]
    for token in (shopper_token, seller_token):
        resp = api.post(f"/operator/reviews/{review_id}/hide", {"reason": "spam"}, token=token)
        assert resp.status_code == 403
    assert Review.objects.get().status == "visible"

    operator = f.token_for(f.make_user("op", is_staff=True))
    hidden = api.post(f"/operator/reviews/{review_id}/hide", {"reason": "spam"}, token=operator)
    assert (hidden.status_code, hidden.json()["status"], hidden.json()["hidden_reason"]) == (200, "hidden", "spam")
    assert api.post(f"/operator/reviews/{review_id}/hide", {"reason": "spam"}, token=operator).status_code == 409
    page = api.get(f"/products/{sku.product_id}/reviews").json()
    assert (page["summary"]["count"], page["results"]) == (0, [])
    mine = api.get("/reviews/mine", token=shopper_token).json()["results"]
    assert [(r["id"], r["status"]) for r in mine] == [(review_id, "hidden")]
    assert api.get("/operator/reviews?status=hidden", token=operator).json()["meta"]["count"] == 1
    shown = api.post(f"/operator/reviews/{review_id}/show", {"reason": "ok"}, token=operator)
    assert shown.json()["status"] == "visible"


def test_hidden_product_reviews_are_404_and_shop_rating_reads(api, shop):
    assert api.get("/products/99999/reviews").status_code == 404
    assert api.get(f"/shops/{shop.pk}/rating").json() == {"count": 0, "product": None, "logistics": None,
                                                          "service": None, "good_share": 0}
