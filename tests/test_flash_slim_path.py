"""The flash-sale buy endpoint's own dispatch (promotions/flash_gate.py): an
API client's attempt goes through the sold-out gate and the slim handler, and
gets exactly the answer the whole Django stack gives the same request, for
every outcome; and each of those requests is logged (one line, with its
request id) and counted in the same Prometheus series as any other.

Requests are made the way gunicorn makes them (a WSGI environ), once to the
deployed front (wsgi.py's `wrap(..., slim=FlashBuyHandler())`) and once to
Django's own handler with the whole MIDDLEWARE, on the database path and on
the Redis path."""

import io
import json
from datetime import timedelta

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shopyard.core.errors import Conflict
from shopyard.orders.models import Order
from shopyard.promotions import flash
from shopyard.promotions.flash_gate import FlashBuyHandler, wrap
from shopyard.promotions.models import FlashSale
from tests import factories as f
from tests.slim_fronts import (
    counted_alike,
    last_two_request_lines,
    post_headers,
    same_post_answer,
    served,
)


@pytest.fixture
def apps(db):
    """(the deployed front, the whole stack), called as a WSGI server calls them; the
    connection stays open between requests, as Django's test client keeps it."""
    front = wrap(WSGIHandler(), slim=FlashBuyHandler())
    with served(front):
        yield front, WSGIHandler()


class Answer:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.body = int(status.split()[0]), dict(headers), body

    def json(self):
        return json.loads(self.body)


def _call(app, item_id, body=None, token=None, raw=None, **headers):
    data = raw if raw is not None else json.dumps(body or {}).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": f"/api/v1/flash/items/{item_id}/buy", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(data), "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)), "HTTP_ACCEPT_LANGUAGE": "en",
        **headers,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    answers = []
    response = app(environ, lambda status, hdrs, exc_info=None: answers.append((status, hdrs)))
    content = b"".join(response)
    if hasattr(response, "close"):
        response.close()
    return Answer(*answers[0], content)


@pytest.fixture
def item(shop, sku):
    """4 units, at most 1 per buyer, live now."""
    return f.make_flash_sale(shop, [(sku, "19.90", 4, 1)]).items.get()


def _buyer(name):
    user = f.make_user(name)
    return user, f.token_for(user), f.make_address(user)


def test_a_unit_is_sold_the_same_way(flash_path, apps, item):
    front, whole = apps
    for app, name in ((front, "a"), (whole, "b")):
        user, token, address = _buyer(name)
        answer = _call(app, item.pk, {"address_id": address.pk, "quantity": 1}, token)
        assert answer.status_code == 201, answer.body
        assert sorted(answer.json()) == ["checkout_id", "orders", "payment"]
        assert answer.json()["orders"][0]["total"] == "29.90"
    assert Order.objects.count() == 2


def test_a_hold_is_answered_the_same_way(workers_make_orders, apps, item):
    front, whole = apps
    answers = []
    for app, name in ((front, "a"), (whole, "b")):
        user, token, address = _buyer(name)
        answers.append(_call(app, item.pk, {"address_id": address.pk, "quantity": 1}, token))
    assert [a.status_code for a in answers] == [202, 202]
    assert [(a.json()["status"], sorted(a.json())) for a in answers] == [
        ("pending", ["checkout", "error", "hold", "status"])] * 2
    assert post_headers(answers[0]) == post_headers(answers[1])


def _refusals(item, token, address, fresh_token, foreign_address):
    good = {"address_id": address.pk, "quantity": 1}
    return {
        "limit reached": (item.pk, good, token, None),
        "over the per-buyer limit": (item.pk, {**good, "quantity": 2}, token, None),
        "unknown item": (999999, good, token, None),
        "item id 0": (0, good, token, None),
        "no token": (item.pk, good, None, None),
        "bad token": (item.pk, good, "not-a-token", None),
        "bad JSON": (item.pk, None, token, b'{"address_id": '),
        "wrong types": (item.pk, {"address_id": str(address.pk), "quantity": "one"}, token, None),
        "missing address": (item.pk, {"quantity": 1}, token, None),
        "foreign address": (item.pk, {**good, "address_id": foreign_address.pk}, fresh_token, None),
        "NUL in the body": (item.pk, {**good, "note": "a\x00b"}, token, None),
    }


def test_every_refusal_is_the_same(flash_path, apps, item, shopper, shopper_token, address, other_shopper):
    front, whole = apps
    assert _call(front, item.pk, {"address_id": address.pk, "quantity": 1}, shopper_token).status_code == 201
    foreign = f.make_address(other_shopper)
    _user, fresh_token, _address = _buyer("fresh")
    seen = {}
    for case, (item_id, body, token, raw) in _refusals(item, shopper_token, address, fresh_token, foreign).items():
        mine = _call(front, item_id, body, token, raw=raw)
        theirs = _call(whole, item_id, body, token, raw=raw)
        same_post_answer(mine, theirs)
        seen[case] = (mine.status_code, mine.json()["code"])
    assert seen == {
        "limit reached": (409, "flash_limit_reached"), "over the per-buyer limit": (422, "validation_error"),
        "unknown item": (404, "not_found"), "item id 0": (422, "validation_error"),
        "no token": (401, "not_authenticated"), "bad token": (401, "not_authenticated"),
        "bad JSON": (400, "malformed_request"), "wrong types": (422, "validation_error"),
        "missing address": (422, "validation_error"), "foreign address": (404, "not_found"),
        "NUL in the body": (422, "validation_error"),
    }
    # nothing more was sold than the one unit
    assert Order.objects.count() == 1


def test_outside_the_sale_window_the_answers_are_the_same(flash_path, apps, shop, sku, shopper_token, address):
    front, whole = apps
    later = f.make_flash_sale(shop, [(sku, "19.90", 2, 1)], starts_in_minutes=60).items.get()
    over = f.make_flash_sale(shop, [(sku, "9.90", 2, 1)], name="早场").items.get()
    FlashSale.objects.filter(pk=over.sale_id).update(starts_at=timezone.now() - timedelta(hours=2),
                                                      ends_at=timezone.now() - timedelta(hours=1))
    flash.forget_live_items()
    body = {"address_id": address.pk, "quantity": 1}
    for target, code in ((later, "flash_not_started"), (over, "flash_ended")):
        mine, theirs = _call(front, target.pk, body, shopper_token), _call(whole, target.pk, body, shopper_token)
        same_post_answer(mine, theirs)
        assert (mine.status_code, mine.json()["code"]) == (409, code)
    assert Order.objects.count() == 0


def _sell_out(item):
    for n in range(4):
        user, token, address = _buyer(f"fast{n}")
        flash.reserve(actor=user, item_id=item.pk, quantity=1)
    with pytest.raises(Conflict):  # the database path learns "sold out" here
        flash.reserve(actor=f.make_user("late"), item_id=item.pk, quantity=1)


def test_sold_out_is_the_same_answer_without_a_query(flash_path, apps, item, shopper_token, address):
    front, whole = apps
    _sell_out(item)
    body = {"address_id": address.pk, "quantity": 1}
    for token in (shopper_token, None, "not-a-token"):
        with CaptureQueriesContext(connection) as queries:
            mine = _call(front, item.pk, body, token)
        assert len(queries) == 0
        theirs = _call(whole, item.pk, body, token)
        assert (mine.status_code, mine.json()) == (theirs.status_code, theirs.json())
        assert mine.json()["code"] == "sold_out"
        assert mine.headers["Content-Language"] == theirs.headers["Content-Language"] == "en"


@pytest.mark.parametrize("outcome", ["sold out", "limit reached", "no token"])
def test_each_request_is_logged_and_counted_as_the_whole_stack_does(flash_path, apps, item, shopper, shopper_token,
                                                                    address, request_lines, outcome):
    front, whole = apps
    body = {"address_id": address.pk, "quantity": 1}
    if outcome == "sold out":
        _sell_out(item)
    elif outcome == "limit reached":
        assert _call(front, item.pk, body, shopper_token).status_code == 201
    token = None if outcome == "no token" else shopper_token
    request_id = f"req-{outcome.replace(' ', '-')}-1"

    def call(app):
        answer = _call(app, item.pk, body, token, HTTP_X_REQUEST_ID=request_id)
        assert answer.headers["X-Request-ID"] == request_id
        return answer

    answer = counted_alike([lambda: call(front), lambda: call(whole)])
    mine, theirs = last_two_request_lines(request_lines)
    assert mine["request_id"] == theirs["request_id"] == f"req-{outcome.replace(' ', '-')}-1"
    for field in ("method", "path", "status", "level"):
        assert mine[field] == theirs[field], field
    assert mine["status"] == answer.status_code
    if outcome == "sold out":
        # the gate answers before any token is read: its line names no user (the whole
        # stack's names the caller when its token was checked before the stock was)
        assert mine["user_id"] is None
    else:
        assert mine["user_id"] == theirs["user_id"] == (None if token is None else shopper.pk)


def test_a_request_with_a_cookie_goes_through_the_whole_stack(flash_path, apps, item, shopper_token, address,
                                                              monkeypatch):
    front, _whole = apps
    reached = []
    slim = front.slim_app
    monkeypatch.setattr(slim, "get_response", lambda request: reached.append(request) or None)
    answer = _call(front, item.pk, {"address_id": address.pk, "quantity": 1}, shopper_token,
                   HTTP_COOKIE="sy_vid=0123456789abcdef0123456789abcdef")
    assert answer.status_code == 201 and reached == []
