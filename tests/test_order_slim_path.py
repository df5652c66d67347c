"""API clients' order placements through the slim handler (checkout/slim_path.py):
a cookieless `POST /api/v1/orders` gets exactly the answer the whole Django
stack gives the same request (status, body, the headers a client acts on), for
a placed order, its idempotent replays and every refusal; each request is
logged and counted in the same series; a request with a cookie, another method
or path goes through the whole stack.

Requests are made the way gunicorn makes them (a WSGI environ), once to the
deployed front (wsgi.py's `order_path.wrap(...)`) and once to Django's own
handler with the whole MIDDLEWARE."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler

from shopyard.checkout import slim_path
from shopyard.inventory.models import StockLevel
from shopyard.orders.models import Order
from tests import factories as f
from tests import slim_fronts as fronts


@pytest.fixture
def apps(db):
    """(the deployed front, the whole stack, the requests the slim handler answered)."""
    front = slim_path.wrap(WSGIHandler(), slim=slim_path.OrderPlacementHandler())
    with fronts.served(front) as reached:
        yield front, WSGIHandler(), reached


def _post(app, body=None, token=None, key=None, raw=None, method="POST", path=slim_path.PATH, **headers):
    data = raw if raw is not None else json.dumps(body or {}).encode()
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(data), "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)), "HTTP_ACCEPT_LANGUAGE": "en", **headers,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if key:
        environ["HTTP_IDEMPOTENCY_KEY"] = key
    answers = []
    response = app(environ, lambda status, hdrs, exc_info=None: answers.append((status, hdrs)))
    content = b"".join(response)
    response.close()
    return fronts.Answer(*answers[0], content)


def test_an_order_and_its_replays_are_answered_the_same_way(apps, shopper_token, address, sku):
    front, whole, reached = apps
    body = {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 2}]}
    # when an API client places an order without a cookie
    placed = _post(front, body, shopper_token, key="slim-1")
    # then the slim handler answered it, with one order holding the units
    assert placed.status_code == 201 and reached == [slim_path.PATH]
    [order] = placed.json()["orders"]
    assert Order.objects.filter(pk=order["id"], user__username="shopper").count() == 1
    assert StockLevel.objects.get(sku=sku).quantity == 10 - 2
    # and a retry with the same key answers the first result on either path, without a second order
    again, again_whole = _post(front, body, shopper_token, key="slim-1"), _post(whole, body, shopper_token, key="slim-1")
    fronts.same_post_answer(again, again_whole)
    assert again.status_code == 200 and again.json() == placed.json()
    assert Order.objects.count() == 1
    # and an order placed by the whole stack looks like one placed by the slim path, ids aside
    other = _post(whole, body, shopper_token, key="slim-2")
    assert other.status_code == 201 and fronts.post_headers(other) == fronts.post_headers(placed)
    assert other.json().keys() == placed.json().keys()
    assert other.json()["payment"].keys() == placed.json()["payment"].keys()


def test_an_order_and_its_replay_are_answered_as_their_documented_schema_writes_them(
        apps, shopper_token, address, sku, other_sku):
    from ninja.responses import NinjaJSONEncoder

    from shopyard.checkout.api import CheckoutOut

    front, whole, _reached = apps
    # given a checkout of two shops' items (two orders, one payment), placed and then replayed
    body = {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 2}, {"sku_id": other_sku.pk,
                                                                                     "quantity": 1}]}
    answers = [_post(front, body, shopper_token, key="schema-1"), _post(front, body, shopper_token, key="schema-1"),
               _post(whole, body, shopper_token, key="schema-1")]
    assert [a.status_code for a in answers] == [201, 200, 200]
    for answer in answers:
        # then each body is exactly CheckoutOut's: nothing missing, nothing more, every value of its type,
        # as ninja writes a body it validated
        validated = CheckoutOut.model_validate(answer.json())
        assert json.loads(json.dumps(validated.model_dump(), cls=NinjaJSONEncoder)) == answer.json()
        assert len(answer.json()["orders"]) == 2 and all(o["lines"] for o in answer.json()["orders"])
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def _refusals(token, address, sku, foreign_address):
    good = {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}
    return {
        "no token": dict(body=good),
        "bad token": dict(body=good, token="not-a-token"),
        "not JSON": dict(raw=b"{nope", token=token),
        "no lines": dict(body={"address_id": address.pk, "lines": []}, token=token),
        "someone else's address": dict(body={**good, "address_id": foreign_address.pk}, token=token),
        "unknown SKU": dict(body={**good, "lines": [{"sku_id": 987654, "quantity": 1}]}, token=token),
        "more than in stock": dict(body={**good, "lines": [{"sku_id": sku.pk, "quantity": 11}]}, token=token),
        "key too long": dict(body=good, token=token, key="k" * 129),
    }


def test_every_refusal_is_the_same(apps, shopper_token, address, sku, other_shopper):
    front, whole, reached = apps
    for name, call in _refusals(shopper_token, address, sku, f.make_address(other_shopper)).items():
        mine, theirs = _post(front, **call), _post(whole, **call)
        assert mine.status_code >= 400, name
        fronts.same_post_answer(mine, theirs)
    assert len(reached) == 8
    assert Order.objects.count() == 0
    assert StockLevel.objects.get(sku=sku).quantity == 10


def test_a_key_reused_with_another_body_is_refused_the_same_way(apps, shopper_token, address, sku):
    front, whole, _reached = apps
    first = {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}
    assert _post(front, first, shopper_token, key="slim-3").status_code == 201
    other = {**first, "lines": [{"sku_id": sku.pk, "quantity": 3}]}
    mine, theirs = _post(front, other, shopper_token, key="slim-3"), _post(whole, other, shopper_token, key="slim-3")
    fronts.same_post_answer(mine, theirs)
    assert mine.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


@pytest.mark.parametrize("outcome", ["placed", "no token"])
def test_each_request_is_logged_and_counted_as_the_whole_stack_does(apps, shopper, shopper_token, address, sku,
                                                                    request_lines, outcome):
    front, whole, _reached = apps
    body = {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}
    token = None if outcome == "no token" else shopper_token
    request_id = f"req-{outcome.replace(' ', '-')}"

    def call(app, n):
        answer = _post(app, body, token, key=f"slim-log-{n}", HTTP_X_REQUEST_ID=request_id)
        assert answer.headers["X-Request-ID"] == request_id
        return answer

    fronts.counted_alike([lambda: call(front, 0), lambda: call(whole, 1)])
    mine, theirs = fronts.last_two_request_lines(request_lines)
    for field in ("request_id", "method", "path", "status", "level", "user_id"):
        assert mine[field] == theirs[field], field
    assert mine["user_id"] == (None if token is None else shopper.pk)


@pytest.mark.parametrize("how", [
    dict(HTTP_COOKIE="sy_vid=0123456789abcdef0123456789abcdef"),
    dict(method="GET"),
    dict(path="/api/v1/orders/"),
])
def test_a_cookie_another_method_or_path_goes_through_the_whole_stack(apps, shopper_token, address, sku, how):
    front, whole, reached = apps
    body = {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]}
    mine = _post(front, body, shopper_token, **how)
    assert reached == []
    if "HTTP_COOKIE" in how:
        assert mine.status_code == 201
    else:
        assert mine.status_code == _post(whole, body, shopper_token, **how).status_code


def test_the_deployed_application_has_the_slim_path():
    assert any(isinstance(s, slim_path.OrderPlacementHandler) for s in fronts.deployed_slim_handlers())
