"""Constant calls written in at compile time (jinja_env.ConstantCalls): a template compiled
for one language, script prefix and URLconf (jinja_env.get_template) must write exactly
what its calls wrote at every render, in each language, under each prefix, and a call
that fails must still fail when the page renders."""

import copy

import pytest
from django.conf import settings
from django.template import engines
from django.test import override_settings
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import translation

from shopyard.storefront import jinja_env

SOURCE = """<title>{{ _("Shopyard") }}</title>
<a href="{{ url('storefront:cart') }}" title="{{ _("Don't use a coupon") }}">{{ _("Cart") }}</a>
<a href="{{ url('storefront:product', 12) }}">{{ url("storefront:category", "phones") }}</a>
<link href="{{ static('shopyard/site.css') }}">
{{ _("Cart") ~ "!" }} {{ _("%(n)s sold") % {"n": 3} }} {% set label = _("Log in") %}[{{ label }}]
{{ "x"|default(_("Register")) }} {{ trans("Picture %(n)s", n=2) }} {{ _(label) }}
"""


@pytest.fixture
def templates(tmp_path):
    """A template of this file's own in the Jinja2 engine's folders."""
    (tmp_path / "calls.html").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "broken.html").write_text("{{ url('storefront:no-such-page') }}", encoding="utf-8")
    (tmp_path / "links.html").write_text("{{ url('storefront:product', n) }} {{ url('storefront:category', slug) }}",
                                         encoding="utf-8")
    config = copy.deepcopy(settings.TEMPLATES)
    config[1]["DIRS"] = [str(tmp_path)]
    with override_settings(TEMPLATES=config):
        yield


def _both(name="calls.html", **values):
    """(as the calls write it at render, as the compiled variant writes it)"""
    return engines["jinja2"].env.get_template(name).render(values), jinja_env.get_template(name).render(values)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_compiled_variant_writes_what_the_calls_wrote(templates, language):
    with translation.override(language):
        called, compiled = _both()
    assert compiled == called
    assert "/cart/" in compiled and "/static/" in compiled
    assert "Don&#x27;t use a coupon" in compiled or "不使用优惠券" in compiled  # Django's escaping


def test_each_language_gets_its_own_text(templates):
    pages = {}
    for language in ("zh-hans", "en", "zh-hans"):
        with translation.override(language):
            pages.setdefault(language, []).append(jinja_env.get_template("calls.html").render())
    assert "购物车" in pages["zh-hans"][0] and pages["zh-hans"][0] == pages["zh-hans"][1]
    assert ">Cart<" in pages["en"][0] and "购物车" not in pages["en"][0]


def test_each_script_prefix_gets_its_own_links(templates):
    set_script_prefix("/shop/")
    try:
        under_prefix = jinja_env.get_template("calls.html").render()
    finally:
        set_script_prefix("/")
    at_root = jinja_env.get_template("calls.html").render()
    assert 'href="/shop/cart/"' in under_prefix and 'href="/cart/"' in at_root


def test_links_of_variable_arguments_follow_each_script_prefix(templates):
    # url() with arguments known only at render: what reverse() gives under the prefix of the
    # render, a prefix's shapes never given under another
    for prefix in ("/", "/shop/", "/", "/shop/"):
        set_script_prefix(prefix)
        try:
            for n, slug in ((12, "phones"), (7, "tv")):
                links = jinja_env.get_template("links.html").render(n=n, slug=slug)
                assert links == f"{reverse('storefront:product', args=[n])} {reverse('storefront:category', args=[slug])}"
                assert links.startswith(f"{prefix}p/{n}/")
        finally:
            set_script_prefix("/")


def test_a_call_that_fails_still_fails_at_render(templates):
    template = jinja_env.get_template("broken.html")  # compiles: the call is left to run
    with pytest.raises(NoReverseMatch):
        template.render()


def test_many_script_prefixes_each_get_their_own_links(templates):
    # a prefix comes from the request (SCRIPT_NAME); past the few a deployment has, templates
    # are no longer compiled per prefix, and their links stay right
    try:
        for n in range(40):
            set_script_prefix(f"/p{n}/")
            assert f'href="/p{n}/cart/"' in jinja_env.get_template("calls.html").render()
    finally:
        set_script_prefix("/")
