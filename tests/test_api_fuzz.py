"""Schemathesis over the landed OpenAPI, in-process: as a shopper and as a
seller, no response may be a 5xx and every response must match its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
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
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


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
