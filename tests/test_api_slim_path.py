"""Anonymous product reads through the slim handler (catalog/slim_path.py): a
request without a cookie or a token gets exactly the answer the whole Django
stack gives (status, body, the headers a client or a shared cache acts on),
for a fresh body, a kept one, a 304, errors and redirects, in both languages;
and a request that carries a cookie or a bearer token never takes the slim
path, so a personal answer is never made there.

Requests are made the way gunicorn makes them (a WSGI environ), once to the
deployed front (wsgi.py's `slim_path.wrap(...)`) and once to Django's own
handler with the whole MIDDLEWARE."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler

from shopyard.catalog import slim_path
from tests import factories as f
from tests.slim_fronts import deployed_slim_handlers, served


@pytest.fixture
def fronts(db, settings):
    """(the deployed front with its slim handler, the whole stack, the requests the slim
    handler answered), with bodies kept as in production."""
    settings.API_CACHE_SECONDS = 300
    front = slim_path.wrap(WSGIHandler(), slim=slim_path.CatalogueReadHandler())
    with served(front) as reached:
        yield front, WSGIHandler(), reached


class Answer:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.body = int(status.split()[0]), dict(headers), body


def _get(app, path, query="", method="GET", **headers):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(), **headers,
    }
    answers = []
    response = app(environ, lambda status, hdrs, exc_info=None: answers.append((status, hdrs)))
    content = b"".join(response)
    response.close()
    return Answer(*answers[0], content)


# what a client or a shared cache acts on (each request sends its id: the answer echoes it; an id is 8+ characters)
HEADERS = ("Content-Type", "Content-Language", "Vary", "ETag", "Cache-Control", "Location", "Deprecation",
           "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy",
           "X-Request-ID")


def _same(front, whole):
    assert front.status_code == whole.status_code, (front.body, whole.body)
    assert front.body == whole.body
    assert {h: front.headers.get(h) for h in HEADERS} == {h: whole.headers.get(h) for h in HEADERS}


@pytest.fixture
def sized(shop):
    """A product with a size attribute and three SKUs, one of them out of stock."""
    return f.make_product(shop, skus=[("19.90", 3), ("21.00", 0), ("25.50", 7)])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_product_is_answered_the_same_way(fronts, sized, product, language):
    front, whole, reached = fronts
    for pk in (sized.pk, product.pk):
        path = f"/api/v1/products/{pk}"
        for rid in ("fresh", "kept"):  # the first answer builds the body, the second serves the kept one
            headers = {"HTTP_ACCEPT_LANGUAGE": language, "HTTP_X_REQUEST_ID": f"request-{rid}-{pk}"}
            mine, theirs = _get(front, path, **headers), _get(whole, path, **headers)
            assert mine.status_code == 200
            _same(mine, theirs)
        if pk == sized.pk:
            assert [s["in_stock"] for s in json.loads(mine.body)["skus"]] == [True, False, True]
        # a conditional request with the tag: a bodiless 304 on both
        tag = mine.headers["ETag"]
        mine = _get(front, path, HTTP_IF_NONE_MATCH=tag, HTTP_ACCEPT_LANGUAGE=language, HTTP_X_REQUEST_ID="request-c")
        theirs = _get(whole, path, HTTP_IF_NONE_MATCH=tag, HTTP_ACCEPT_LANGUAGE=language, HTTP_X_REQUEST_ID="request-c")
        assert mine.status_code == 304 and mine.body == b""
        _same(mine, theirs)
    assert reached == [f"/api/v1/products/{pk}" for pk in (sized.pk, product.pk) for _ in range(3)]


@pytest.mark.parametrize("query", ["", "sort=price_asc&page=1&page_size=2", "sort=sales&page=2&page_size=1",
                                   "category=999999", "sort=cheapest", "page=0", "q=%E8%8C%B6", "page_size=101"])
def test_a_listing_is_answered_the_same_way(fronts, sized, product, query):
    front, whole, reached = fronts
    for language in ("en", "zh-hans"):
        headers = {"HTTP_ACCEPT_LANGUAGE": language, "HTTP_X_REQUEST_ID": f"request-list-{language}"}
        _same(_get(front, "/api/v1/products", query, **headers), _get(whole, "/api/v1/products", query, **headers))
    assert reached == ["/api/v1/products"] * 2


@pytest.mark.parametrize("path", ["/api/v1/products/999999999", "/api/v1/products/0",
                                  "/api/v1/products/123456789012345"])
def test_an_unknown_product_is_answered_the_same_way(fronts, path):
    front, whole, reached = fronts
    mine, theirs = _get(front, path, HTTP_X_REQUEST_ID="request-nf"), _get(whole, path, HTTP_X_REQUEST_ID="request-nf")
    assert mine.status_code >= 400
    _same(mine, theirs)
    assert reached == [path]


def test_an_unpublished_product_is_not_shown_on_the_slim_path(fronts, shop):
    front, whole, reached = fronts
    draft = f.make_product(shop, publish=False)
    mine = _get(front, f"/api/v1/products/{draft.pk}", HTTP_X_REQUEST_ID="request-d")
    assert mine.status_code == 404
    _same(mine, _get(whole, f"/api/v1/products/{draft.pk}", HTTP_X_REQUEST_ID="request-d"))
    assert reached


def test_a_request_id_is_made_for_a_request_without_one(fronts, product):
    front, _whole, _reached = fronts
    ids = {_get(front, f"/api/v1/products/{product.pk}").headers.get("X-Request-ID") for _ in range(2)}
    assert len(ids) == 2 and None not in ids


@pytest.mark.parametrize("credentials", [
    {"HTTP_COOKIE": "sessionid=abc"},
    {"HTTP_COOKIE": "sy_vid=0123456789abcdef0123456789abcdef"},
    {"HTTP_AUTHORIZATION": "Bearer not-a-token"},
])
def test_a_request_with_a_cookie_or_a_token_goes_through_the_whole_stack(fronts, product, credentials):
    front, whole, reached = fronts
    path = f"/api/v1/products/{product.pk}"
    mine, theirs = _get(front, path, **credentials), _get(whole, path, **credentials)
    assert mine.status_code == theirs.status_code == 200
    assert mine.headers["Cache-Control"] == theirs.headers["Cache-Control"]
    assert reached == []
    if "sessionid" in credentials.get("HTTP_COOKIE", "sessionid"):  # credentials: a personal answer
        assert mine.headers["Cache-Control"] == "private, no-cache" and "ETag" not in mine.headers


def test_a_signed_in_caller_gets_the_whole_stack(fronts, product, shopper_token):
    front, _whole, reached = fronts
    mine = _get(front, f"/api/v1/products/{product.pk}", HTTP_AUTHORIZATION=f"Bearer {shopper_token}")
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "private, no-cache"
    assert reached == []


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/v1/products"), ("GET", "/api/v1/products/"),
                                              ("GET", "/api/v1/products/1/reviews"), ("GET", "/api/v1/categories")])
def test_other_methods_and_paths_go_through_the_whole_stack(fronts, product, method, path):
    front, whole, reached = fronts
    assert _get(front, path, method=method).status_code == _get(whole, path, method=method).status_code
    assert reached == []


def test_the_deployed_application_has_the_slim_path():
    assert any(isinstance(s, slim_path.CatalogueReadHandler) for s in deployed_slim_handlers())
