"""What the storefront's Jinja2 environment (storefront/jinja_env.py) writes for a value
and reads of a dict, and the CSRF field it writes: the shortcuts it takes must give what
Jinja2 and Django's template language gave."""

from collections import UserDict
from decimal import Decimal

from django.template import engines
from django.utils.safestring import SafeString
from markupsafe import Markup


def _render(source: str, **values) -> str:
    return engines["jinja2"].env.from_string(source).render(**values)


class _OwnHtml:
    """A value with its own __html__ that gives plain (unmarked) text."""

    def __html__(self):
        return "<b>"


def test_every_kind_of_value_is_written_escaped_once_as_django_writes_it():
    assert _render("{{ v }}", v="Tom's \"<b>\" &") == "Tom&#x27;s &quot;&lt;b&gt;&quot; &amp;"
    assert _render("{{ v }}", v=SafeString("<i>safe</i>")) == "<i>safe</i>"
    assert _render("{{ v }}", v=Markup("<i>markup</i>")) == "<i>markup</i>"
    assert _render("{{ v }}", v=1234567) == "1234567"
    assert _render("{{ v }}", v=Decimal("12.50")) == "12.50"
    assert _render("{{ v }}", v=None) == "None"
    assert _render("{{ missing }}") == ""
    # an object's own __html__ giving unmarked text: Jinja2's escape() escaped it, and still does
    assert _render("{{ v }}", v=_OwnHtml()) == "&lt;b&gt;"
    # inside a larger expression the parts are values too, and the filters' output as well
    assert _render("{{ a ~ b }}|{{ a|upper }}", a="<a>", b=SafeString("<b>")) == "&lt;a&gt;<b>|&lt;A&gt;"


def test_a_dict_key_is_read_as_jinja2_reads_it_its_type_s_names_first():
    d = {"title": "<t>", "items": "an item", "og": {"type": "product"}}
    assert _render("{{ d.title }}|{{ d.og.type }}|{{ d.missing }}|{{ d.og.missing is defined }}", d=d) \
        == "&lt;t&gt;|product||False"
    # a name a dict has (a method) is the method, as with Jinja2's own getattr: not the key
    assert _render("{% for k, v in d.items() %}{{ k }};{% endfor %}", d=d) == "title;items;og;"
    assert _render("{{ d.get('title') }}", d=d) == "&lt;t&gt;"
    # a dict subclass, an object: Jinja2's own look-up, the attribute first, else the item
    assert _render("{{ o.real }}", o=3) == "3"
    assert _render("{{ u.key }}|{{ u.data.key }}|{{ u.nothing }}", u=UserDict(key="k")) == "k|k|"


def test_the_csrf_field_carries_the_token_of_each_render():
    source = "{{ csrf_input() }}{{ csrf_input() }}"
    first = _render(source, csrf_token="token-one")
    second = _render(source, csrf_token="token-two")

    field = '<input type="hidden" name="csrfmiddlewaretoken" value="%s">'
    assert first == (field % "token-one") * 2
    assert second == (field % "token-two") * 2
    assert _render(source, csrf_token='a"b') == (field % "a&quot;b") * 2
    assert _render(source) == "" and _render(source, csrf_token="NOTPROVIDED") == ""
