"""Translations: complete zh-hans and en catalogues, kept in step with the source,
and pages, the language switcher and API errors that follow the visitor's language.

To refresh the catalogues after changing user-facing text (needs GNU gettext):

    cd shopyard && ../.venv/bin/python ../manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore "*/tests/*"
    # translate the new zh_Hans entries; for en, msgstr = msgid
    cd shopyard && ../.venv/bin/python ../manage.py compilemessages
"""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import Client

PACKAGE = Path(__file__).resolve().parent.parent / "shopyard"
LOCALES = {"zh_Hans": "zh-hans", "en": "en"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def _po(locale):
    return polib.pofile(str(PACKAGE / "locale" / locale / "LC_MESSAGES" / "django.po"))


def _key(entry):
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale):
    po = _po(locale)

    assert len(po) > 300
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert not po.metadata_is_fuzzy
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"


def test_chinese_catalogue_has_one_plural_form_and_keeps_placeholders():
    po = _po("zh_Hans")
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"

    broken = []
    for e in po:
        texts = list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr]
        wanted = sorted(PLACEHOLDER.findall(e.msgid_plural or e.msgid))
        broken += [(e.msgid, t) for t in texts if sorted(PLACEHOLDER.findall(t)) != wanted]
    assert broken == []
    # translated, not copied: the Chinese catalogue is mostly Chinese
    chinese = [e for e in po if re.search(r"[\u4e00-\u9fff]", e.msgstr or e.msgstr_plural.get(0, ""))]
    assert len(chinese) > 0.9 * len(po)


def test_english_catalogue_is_the_source_text():
    po = _po("en")
    assert po.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    for e in po:
        if e.msgid_plural:
            assert e.msgstr_plural == {0: e.msgid, 1: e.msgid_plural}
        else:
            assert e.msgstr == e.msgid


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_the_po_file(locale):
    """The .mo files are committed (a fresh machine has no msgfmt): they must be compiled from the current .po."""
    po = _po(locale)
    mo = polib.mofile(str(PACKAGE / "locale" / locale / "LC_MESSAGES" / "django.mo"))

    def table(cat):
        return {_key(e): (e.msgstr, dict(sorted(e.msgstr_plural.items()))) for e in cat if not e.obsolete and e.msgid}

    assert table(mo) == table(po), "run: cd shopyard && ../.venv/bin/python ../manage.py compilemessages"


def test_catalogue_covers_every_string_in_the_source(tmp_path, settings, monkeypatch):
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext not installed; .ci/run installs it")
    copy = tmp_path / "shopyard"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("tests", "locale", "static", "__pycache__", "*.pyc"))
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)

    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, ignore_patterns=["*/tests/*"], verbosity=0)

    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    assert len(fresh) > 300  # the copy really was scanned
    committed = {_key(e) for e in _po("zh_Hans")}
    missing = sorted(e.msgid for e in fresh if _key(e) not in committed)
    assert missing == [], "new strings: run makemessages and translate them (see this module's docstring)"


@pytest.mark.django_db
def test_pages_follow_accept_language(client):
    zh = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert zh.status_code == en.status_code == 200
    zh_html, en_html = zh.content.decode(), en.content.decode()
    assert '<html lang="zh-hans">' in zh_html
    assert "购物车" in zh_html and "登录" in zh_html and "搜索商品" in zh_html
    assert ">Cart <" not in zh_html
    assert '<html lang="en">' in en_html
    assert "Cart" in en_html and "Log in" in en_html
    assert "购物车" not in en_html


@pytest.mark.django_db
def test_language_switcher_makes_the_next_page_chinese():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/")
    html = page.content.decode()
    assert 'action="/i18n/setlang/"' in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    refused = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert refused.status_code == 403
    assert "购物车" not in client.get("/").content.decode()

    switched = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/", "csrfmiddlewaretoken": token})
    assert switched.status_code == 302
    assert switched.headers["Location"] == "/"
    after = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in after and "购物车" in after

    back = client.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
    assert back.status_code == 302
    assert "购物车" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_api_error_messages_follow_accept_language(client):
    zh = client.get("/api/v1/cart", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get("/api/v1/cart", HTTP_ACCEPT_LANGUAGE="en")

    assert zh.status_code == en.status_code == 401
    assert zh.json()["code"] == en.json()["code"] == "not_authenticated"
    assert zh.json()["message"] == "请提供有效的令牌：Authorization: Bearer <token>。"
    assert en.json()["message"] == "Send a valid token: Authorization: Bearer <token>."
