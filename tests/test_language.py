"""The site speaks Chinese first, the language of its users; English comes from
the language switcher or the browser's Accept-Language. (Every other test's
client asks for English: see conftest.py.)"""

from django.test import Client
from django.urls import reverse


def _chinese_browser():
    return Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")


def test_a_visitor_without_a_language_preference_gets_chinese(db):
    # a client that sends no Accept-Language at all
    response = Client(HTTP_ACCEPT_LANGUAGE="").get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in page
    assert "购物车" in page and "Cart</" not in page


def test_a_browser_preferring_english_gets_english(db):
    page = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/").content.decode()
    assert '<html lang="en">' in page


def test_the_switcher_turns_english_on_for_a_chinese_browser(db):
    browser = _chinese_browser()
    assert '<html lang="zh-hans">' in browser.get("/").content.decode()
    response = browser.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en">' in browser.get("/").content.decode()
    # and back
    browser.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in browser.get("/").content.decode()


def test_test_clients_read_english_by_default(client, db):
    assert '<html lang="en">' in client.get("/").content.decode()
    assert '<html lang="en">' in Client().get("/").content.decode()
