"""Behaviour events: buffered on the request and written with one INSERT after
the response, anonymous by a first-party cookie and claimed at login; purchases
and favourites arrive as events; a failure to record never breaks a page."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shopyard.analytics import services
from shopyard.analytics.middleware import VISITOR_COOKIE, BehaviourMiddleware
from shopyard.analytics.models import BehaviourEvent
from shopyard.catalog.services import add_favourite
from tests import factories as f

pytestmark = pytest.mark.django_db


def close(response):
    """What a WSGI server does once it has sent the response (as the test client
    does, keeping the test's database connection open)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _events():
    return sorted(BehaviourEvent.objects.values_list("kind", "product_id", "query", "user_id"))


def test_several_events_of_one_request_are_one_insert_after_the_response(product):
    def view(request):
        services.record(request, "view", product_id=product.pk)
        services.record(request, "search", query="耳机")
        services.record(request, "cart", product_id=product.pk)
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as during:
        response = BehaviourMiddleware(view)(request)
    # nothing is written while the page is answered
    assert during.captured_queries == []
    assert BehaviourEvent.objects.count() == 0
    with CaptureQueriesContext(connection) as after:
        close(response)  # the server is done sending
    # one write: the INSERT run for the three rows (executemany, "3 times: INSERT ...")
    [write] = [q["sql"] for q in after.captured_queries]
    assert write.startswith("3 times: INSERT INTO") and "analytics_behaviourevent" in write
    visitor = response.cookies[VISITOR_COOKIE].value
    assert list(BehaviourEvent.objects.order_by("id").values_list("kind", "product_id", "query", "visitor")) == [
        ("view", product.pk, "", visitor), ("search", None, "耳机", visitor), ("cart", product.pk, "", visitor)]


def test_a_request_that_records_nothing_costs_nothing_and_sets_no_cookie():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as ctx:
        response = BehaviourMiddleware(lambda r: HttpResponse("ok"))(request)
        close(response)
    assert ctx.captured_queries == [] and VISITOR_COOKIE not in response.cookies


def test_an_anonymous_visitor_keeps_one_id_across_pages(product):
    client = Client()
    first = client.get(f.product_url(product))
    visitor = first.cookies[VISITOR_COOKIE].value
    second = client.get(f.product_url(product))
    assert VISITOR_COOKIE not in second.cookies  # the cookie stays as it is
    assert list(BehaviourEvent.objects.values_list("kind", "product_id", "visitor", "user_id")) == [
        ("view", product.pk, visitor, None), ("view", product.pk, visitor, None)]


def test_a_page_that_fails_records_nothing(shop):
    draft = f.make_product(shop, publish=False)
    assert Client().get(f.product_url(draft)).status_code == 404
    assert BehaviourEvent.objects.count() == 0


def test_a_failure_to_record_never_breaks_the_page(product, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "write_events", broken)
    response = Client().get(f.product_url(product))
    assert response.status_code == 200 and product.title_en in response.content.decode()
    assert BehaviourEvent.objects.count() == 0


def test_record_refuses_garbage_quietly(product):
    request = RequestFactory().get("/")
    services.record(request, "teleport", product_id=product.pk)  # unknown kind
    services.record(request, "view", product_id="1 OR 1=1")  # not an id: kept without a product
    for _n in range(services.MAX_PER_REQUEST + 10):
        services.record(request, "search", query="x" * 500)
    pending = services.pending(request)
    assert len(pending) == services.MAX_PER_REQUEST
    assert pending[0][:2] == ("view", None) and len(pending[1][2]) == 100


def test_login_claims_the_visitors_anonymous_events(client, shopper, shop):
    a, b = f.make_product(shop), f.make_product(shop)
    client.get(f.product_url(a))
    client.get(f.product_url(b))
    stranger = Client()
    stranger.get(f.product_url(a))  # another browser's visit stays anonymous
    response = client.post(reverse("accounts:login"), {"username": "shopper", "password": f.PASSWORD})
    assert response.status_code == 302
    assert sorted(BehaviourEvent.objects.filter(user=shopper).values_list("product_id", flat=True)) == sorted([a.pk, b.pk])
    assert BehaviourEvent.objects.filter(user__isnull=True).count() == 1
    # and what the shopper does next is theirs directly
    client.get(f.product_url(b))
    assert BehaviourEvent.objects.filter(user=shopper).count() == 3


def test_a_wrong_password_claims_nothing(client, shopper, product):
    client.get(f.product_url(product))
    client.post(reverse("accounts:login"), {"username": "shopper", "password": "wrong"})
    assert BehaviourEvent.objects.filter(user__isnull=False).count() == 0


def test_an_order_placed_records_one_purchase_per_product(shopper, address, shop, django_capture_on_commit_callbacks):
    a, b = f.make_product(shop).skus.get(), f.make_product(shop).skus.get()
    with django_capture_on_commit_callbacks(execute=True):
        f.make_paid_order(shopper, address, [(a, 2), (b, 1)])
    assert _events() == sorted([("purchase", a.product_id, "", shopper.pk), ("purchase", b.product_id, "", shopper.pk)])


def test_a_new_favourite_is_recorded_once(shopper, product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        add_favourite(actor=shopper, product_id=product.pk)
        add_favourite(actor=shopper, product_id=product.pk)  # already a favourite: no new event
    assert _events() == [("favourite", product.pk, "", shopper.pk)]


def test_search_page_and_api_record_the_words(client, api, product):
    client.get(reverse("storefront:search") + "?q=耳机")
    api.get("/search?q=phone")
    api.get("/search?q=phone&page=2")  # paging on is the same search
    assert sorted(BehaviourEvent.objects.values_list("kind", "query")) == [("search", "phone"), ("search", "耳机")]


def test_adding_to_the_cart_is_recorded_on_the_page_and_the_api(client, api, shopper, shopper_token, sku):
    client.post(reverse("storefront:cart_add"), {"sku_id": sku.pk, "quantity": 1})
    api.post("/cart/lines", {"sku_id": sku.pk, "quantity": 1}, token=shopper_token)
    rows = sorted(BehaviourEvent.objects.values_list("kind", "product_id", "user_id"), key=str)
    assert rows == sorted([("cart", sku.product_id, None), ("cart", sku.product_id, shopper.pk)], key=str)


def test_a_refused_cart_add_records_nothing(api, shopper_token, sku):
    before = BehaviourEvent.objects.count()
    assert api.post("/cart/lines", {"sku_id": sku.pk, "quantity": 10**6}, token=shopper_token).status_code in (409, 422)
    assert BehaviourEvent.objects.count() == before == 0
