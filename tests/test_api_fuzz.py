"""Schemathesis over the landed OpenAPI, in-process: as a shopper and as a
seller, no response may be a 5xx and every response must match its schema.

Besides what schemathesis generates from the schema, a hook mixes in the
shapes of input that once gave 500s: NUL characters in strings, ids beyond
64 bits and digits that are not ASCII ("²", "٣", "３"). The same shapes are
then sent, deterministically, to every operation with an id or a text field."""

import functools
import json

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from . import factories as f

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.fixture
def world(db):
    """A small shop world so that generated requests can hit real rows too."""
    seller = f.make_user("fuzz-seller")
    shop = f.make_shop("模糊店", owner=seller, shipping_fee="6.00")
    shopper = f.make_user("fuzz-shopper")
    address = f.make_address(shopper)
    products = [f.make_product(shop, price=f"{10 + i}.50", stock=50) for i in range(3)]
    from shopyard.checkout.services import place_order

    place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": products[0].skus.get().pk, "quantity": 1}])
    return {"shopper": f.token_for(shopper), "seller": f.token_for(seller)}


@pytest.fixture
def api_schema(world):
    """The WSGI app in this thread; like Django's test client, keep the test's
    connection open across requests (it holds the test transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from shopyard.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    # the API ignores query parameters it does not know, as REST APIs do; NULs in generated strings stay on
    loaded.config.generation.update(allow_extra_parameters=False, allow_x00=True)
    loaded.hook(flatmap_case)
    yield loaded
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# --- hostile shapes ------------------------------------------------------------

NUL_TEXTS = ["\x00", "abc\x00", "\x00def"]
HUGE_IDS = [2**63, 2**64, 10**30]
NON_ASCII_DIGITS = ["²", "٣", "３", "1²", "߃"]
SHAPES = [*NUL_TEXTS, *HUGE_IDS, *NON_ASCII_DIGITS]


def _poison_body(body, shape, index):
    """Replace one string (with text holding `shape` if it is a str) or one
    integer (with `shape`) of a JSON body, chosen by `index`."""
    slots = []

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            if isinstance(value, dict | list):
                walk(value)
            elif isinstance(value, str | int) and not isinstance(value, bool):
                slots.append((node, key))

    walk(body)
    if not slots:
        return False
    node, key = slots[index % len(slots)]
    node[key] = shape
    return True


def poison(case, shape, index):
    """The case with one path parameter, query parameter or body value replaced by `shape`."""
    targets = []
    if case.path_parameters:
        targets += [("path", name) for name in case.path_parameters]
    if case.query:
        targets += [("query", name) for name in case.query]
    if isinstance(case.body, dict | list):
        targets.append(("body", None))
    if not targets:
        return case
    where, name = targets[index % len(targets)]
    if where == "path":
        case.path_parameters[name] = shape
    elif where == "query":
        case.query[name] = shape
    else:
        _poison_body(case.body, shape, index)
    return case


def flatmap_case(context, case):
    """Half the valid generated cases carry one hostile shape somewhere (the
    invalid ones are left as generated, for the negative-data check)."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return st.just(case)
    return st.one_of(
        st.just(case),
        st.tuples(st.sampled_from(SHAPES), st.integers(0, 50)).map(lambda t: poison(case, *t)),
    )


schema = schemathesis.pytest.from_fixture("api_schema")

FUZZ = hsettings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@FUZZ
def test_api_as_shopper(case, world):
    case.call_and_validate(headers={"Authorization": f"Bearer {world['shopper']}"}, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_api_as_seller(case, world):
    case.call_and_validate(headers={"Authorization": f"Bearer {world['seller']}"}, checks=CHECKS)


# --- every operation, every hostile shape, deterministically ------------------

NUL_MESSAGE = "Remove the NUL character (\\0) from this field: it is not allowed in text."


@functools.cache
def _operations() -> tuple:
    return tuple(_walk_operations())


def _walk_operations():
    from shopyard.api import api

    spec = api.get_openapi_schema()
    components = spec.get("components", {}).get("schemas", {})

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        return node

    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            params = op.get("parameters", [])
            body = resolve(op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
            props = {name: resolve(p) for name, p in (body or {}).get("properties", {}).items()}
            yield path, method, params, props


def _url(path, params, override=None):
    override = override or {}
    for p in params:
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", str(override.get(p["name"], 1)))
    return path


def _call(client, method, url, token, body=None, query=""):
    from . import factories as f

    data = json.dumps(body) if body is not None else None
    kwargs = {"data": data, "content_type": "application/json"} if data is not None else {}
    if query:
        url = f"{url}?{query}"
    return getattr(client, method)(url, **kwargs, **f.auth(token))


def _kind(schema) -> str | None:
    """integer, number or string: what a parameter or property expects."""
    kinds = {schema.get("type")} | {a.get("type") for a in schema.get("anyOf", [])}
    for kind in ("integer", "number", "string"):
        if kind in kinds:
            return "number" if kind == "number" else kind
    return None


SHAPES_FOR = {"integer": [2**64, "²", "٣", "３"], "number": ["٣", "３"], "string": ["a\x00b"]}


def _cases():
    cases = []
    for path, method, params, props in _operations():
        values = [(p["in"], p["name"], _kind(p.get("schema", {}))) for p in params if p["in"] in ("path", "query")]
        values += [("body", name, _kind(prop)) for name, prop in props.items()]
        for where, name, kind in values:
            for shape in SHAPES_FOR.get(kind, []):
                cases.append(pytest.param(method, path, where, name, shape, id=f"{method} {path} {where}:{name}={shape!r}"))
    return cases


@pytest.fixture
def hostile_seller_token(db):
    from shopyard.accounts.models import User

    from . import factories as f

    seller = User.objects.create_user(username="hostile-seller", password=None)  # no hashing: 199 cases
    f.make_shop(owner=seller)
    return f.token_for(seller)


@pytest.mark.parametrize(("method", "path", "where", "name", "shape"), _cases())
def test_hostile_shapes_get_a_4xx_on_every_operation(client, hostile_seller_token, method, path, where, name, shape):
    # given every operation of the API, called as the seller (who is also a shopper)
    params = next(p for pth, m, p, _b in _operations() if (pth, m) == (path, method))
    url = _url(path, params, {name: shape} if where == "path" else None)
    body = {name: shape} if where == "body" else ({} if method in ("post", "put", "patch") else None)
    query = f"{name}={shape}" if where == "query" else ""
    # when one value carries a hostile shape
    response = _call(client, method, url, hostile_seller_token, body=body, query=query)
    # then the answer is a clear 4xx, never a 500; a NUL is named with its field
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if isinstance(shape, str) and "\x00" in shape and where in ("query", "body"):
        assert response.status_code == 422
        assert response.json()["fields"] == {name: [NUL_MESSAGE]}
