"""With DEBUG off, failures show no stack trace and no data, on pages and in the API."""

import pytest
from django.test import Client


@pytest.fixture
def boom(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail: user=admin password=hunter2")

    return explode


def test_api_500_is_generic_json(db, monkeypatch, boom, settings):
    settings.DEBUG = False
    monkeypatch.setattr("shopyard.catalog.queries.category_tree", boom)
    r = Client(raise_request_exception=False).get("/api/v1/categories")
    assert r.status_code == 500
    assert r.json() == {"code": "server_error", "message": "Something went wrong on our side.", "fields": {}}
    assert b"secret" not in r.content and b"Traceback" not in r.content


def test_page_500_is_generic_html(db, monkeypatch, boom, settings):
    settings.DEBUG = False
    monkeypatch.setattr("shopyard.storefront.catalog_views.product_page_rows", boom)
    r = Client(raise_request_exception=False).get("/p/1/")
    assert r.status_code == 500
    body = r.content.decode()
    assert "Something went wrong" in body
    assert "secret" not in body and "Traceback" not in body and "hunter2" not in body


def test_unknown_page_is_friendly_404(db, settings):
    settings.DEBUG = False
    r = Client().get("/no/such/page/")
    assert r.status_code == 404
    assert "Page not found" in r.content.decode()


def test_unknown_api_path_is_404(db, settings):
    settings.DEBUG = False
    r = Client().get("/api/v1/no-such-thing")
    assert r.status_code == 404
