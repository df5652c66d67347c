"""The Jinja2 environment of the storefront's hot templates: the product page's content
and the product card, rendered fresh on every view that the page cache does not serve
(signed-in shoppers, a cold cache), where Django's template language was a fifth of a
product view's CPU and a quarter of a listing's cards.

The helpers give exactly what the Django tags gave, so a page is the same byte for byte
(tests/test_jinja_pages.py, bench/storefront_html_diff.py): `_()` is `{% translate %}`,
`trans()` and `ntrans()` are `{% blocktranslate %}` (the translated text as written, each
value shown as Django shows a variable), `url()` and `static()` the tags of those names,
`dj_date()` the `date` filter, `csrf_input()` `{% csrf_token %}`; every `{{ }}` is
localised, put in the current time zone and escaped as Django does it (&#x27;, &quot;:
MarkupSafe writes &#39;, &#34;). Other pages stay in Django's language; they render the
card through `{% product_card %}`, a Jinja2 part of a page through `{% jinja %}`, and
every page's layout is Jinja2's (jinja2/shopyard/layout.html, through `{% layout %}`).
"""

import html
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.template import Context, engines
from django.template.base import TextNode
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import urlencode
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf
from django.utils import formats, timezone, translation
from django.utils.html import conditional_escape, format_html, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import (
    get_language,
    get_language_info,
    gettext,
    gettext_noop,
    ngettext,
    ngettext_lazy,
    pgettext,
)
from jinja2 import Environment, Undefined, pass_context
from jinja2.compiler import CodeGenerator
from jinja2.ext import Extension
from jinja2.lexer import Token
from markupsafe import Markup
from markupsafe import escape as markupsafe_escape

from shopyard.core.i18n import localizer
from shopyard.core.url_shapes import kept_reverse, reverser


def _shown(value) -> str:
    """A value as `{{ value }}` shows it in a Django template (localised, time-zone aware)."""
    return formats.localize(timezone.template_localtime(value))


def _escaped(value):
    """A value as `{{ value }}` writes it in a Django template: shown, then escaped, always
    as safe text (_SafeOutput writes it as it is). A plain text (most values of a page),
    a safe text (a helper's markup) and a whole number (without thousands separators) skip
    the localising and conditional escape, which give them back as they are: a product
    page writes about ninety values."""
    kind = type(value)
    if kind is str:
        return SafeString(html.escape(value))  # django.utils.html.escape
    if kind is SafeString or kind is Markup:
        return value  # localize and conditional_escape give a safe text back as it is
    if kind is int and not settings.USE_THOUSAND_SEPARATOR:
        return SafeString(value)  # formats.localize: the digits, marked safe
    shown = conditional_escape(_shown(value))
    # what an object's own __html__ gave, if not safe text, is escaped, as Jinja2 did it
    return shown if type(shown) is SafeString or type(shown) is Markup else markupsafe_escape(shown)


class _SafeOutput(CodeGenerator):
    """Jinja2's code generator, writing `{{ value }}` as `_escaped(value)` where Jinja2 writes
    `escape(_escaped(value))`: _escaped gives safe text only, which escape() gave back as a
    new Markup of the same text, twice a value's cost in new strings. Only where autoescape
    is known when compiling (every template of this environment): elsewhere as Jinja2 does it."""

    def _plain(self, frame) -> bool:
        return frame.eval_ctx.autoescape and not frame.eval_ctx.volatile and self.environment.finalize is _escaped

    def _output_child_pre(self, node, frame, finalize):
        if finalize.src is not None and self._plain(frame):
            self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node, frame, finalize):
        if finalize.src is not None and self._plain(frame):
            self.write(")")
        else:
            super()._output_child_post(node, frame, finalize)


def trans(message: str, **values) -> Markup:
    return Markup(gettext(message) % {k: _escaped(v) for k, v in values.items()})


def ntrans(singular: str, plural: str, count, **values) -> Markup:
    values.setdefault("n", count)
    return Markup(ngettext(singular, plural, count) % {k: _escaped(v) for k, v in values.items()})


def called(value):
    """A value as Django's template language resolves it: a callable of the context (the
    header's cart and message counts, computed only on a page that shows them) is called;
    a missing one (a page outside the storefront, whose context processor gives nothing)
    shows as nothing."""
    return value() if callable(value) and not isinstance(value, Undefined) else value


def language_infos() -> list[dict]:
    """`{% get_available_languages %}` then `{% get_language_info_list %}`: the language menu."""
    return [get_language_info(str(code)) for code, _name in settings.LANGUAGES]


def dj_date(value, fmt: str) -> str:
    return date_filter(timezone.template_localtime(value), fmt)


@pass_context
def csrf_input(context):
    """`{% csrf_token %}`: the token the page is rendered with (page_cache.MARKER on a page kept
    for many visitors, filled in per response)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return _csrf_field(str(token))


@lru_cache(maxsize=8)
def _csrf_field(token: str) -> str:
    """The hidden field of one token: a product page writes it in five forms, with one token
    (a visitor's, or page_cache.MARKER), so it is formatted once. Keyed by the token's text
    alone, an entry is only ever that token's field."""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


@pass_context
def django_include(context, name: str, **values):
    """`{% include name with ... %}` of a Django template that other Django pages share."""
    template = engines["django"].get_template(name).template
    text = getattr(template, "_shopyard_text", None)
    if text is None:
        # a template of text alone (a style sheet) is its text: kept on the (cached) template
        nodes = template.nodelist
        text = template._shopyard_text = "".join(n.s for n in nodes) if all(type(n) is TextNode for n in nodes) else ""
    if text:
        return Markup(text)
    return Markup(template.render(Context({"request": context.get("request"), "csrf_token": context.get("csrf_token"),
                                           **values})))


@pass_context
def catnav(context, active_root_id=None):
    """`{% catnav %}`: the category menu under the header."""
    return menu(context.get("request"), context.get("nav_categories"), active_root_id)


def menu(request, categories, active_root_id=None):
    """The category menu under the header (jinja2/storefront/_catnav.html) with only what it
    shows: rendered by Django's template language it cost a product page a twelfth of its CPU.
    The same menu is the same HTML, so it is rendered once per process for each set of
    categories (what the menu shows of them), language, script prefix, current root and page."""
    match = getattr(request, "resolver_match", None)
    categories = tuple(categories() if callable(categories) else categories or ())
    label = localizer()  # each category's `label`, with the language read once
    shown = tuple((c.pk, c.slug, label(c, "name")) for c in categories)
    return _menu(shown, active_root_id, match is not None and match.url_name == "home", get_language(),
                 get_script_prefix(), get_urlconf())


class _Shown:
    __slots__ = ("pk", "slug", "label")

    def __init__(self, pk, slug, label):
        self.pk, self.slug, self.label = pk, slug, label


@lru_cache(maxsize=512)
def _menu(shown, active_root_id, is_home, _language, _prefix, _urlconf):
    html = get_template("storefront/_catnav.html").render({
        "nav_categories": [_Shown(*c) for c in shown], "active_root_id": active_root_id, "is_home": is_home})
    return mark_safe(html)  # noqa: S308 - the Jinja2 template's autoescaped output


class ConstantCalls(Extension):
    """`_("text")`, `url("name", 12, "slug")` and `static("path")` with only literal arguments
    give the same text on every render of a template in one language under one script
    prefix and URLconf, yet cost a call each time: a product page makes about sixty of
    them, a sixth of its rendering. In a template compiled for one such variant
    (`get_template`), each becomes its text at compile time: the whole `{{ call }}` its
    escaped text (what `_escaped` writes), a call inside a larger expression a string.
    A call whose arguments are not all literals, or that fails (an unknown URL name, a
    file the static manifest lacks), is left to run, and fail, as before. The base
    environment (Django's backend) compiles every call as a call."""

    def filter_stream(self, stream):
        variant = getattr(self.environment, "shopyard_variant", None)
        if variant is None:
            yield from stream
            return
        tokens = [*stream, Token(0, "eof", "")]  # the end: every look ahead finds a token
        i = 0
        while i < len(tokens) - 1:
            if tokens[i].type == "variable_begin":  # `{{ call }}` as a whole: its escaped text
                end, text = _constant_call(tokens, i + 1, variant)
                if text is not None and tokens[end].type == "variable_end":
                    yield Token(tokens[i].lineno, "data", html.escape(text))
                    i = end + 1
                    continue
            end, text = _constant_call(tokens, i, variant)
            if text is None:
                yield tokens[i]
                i += 1
            else:
                yield Token(tokens[i].lineno, "string", text)
                i = end


def _constant_call(tokens, i, variant):
    """(index after the call, its text) when tokens[i:] is a foldable call with literal arguments."""
    token = tokens[i]
    if token.type != "name" or token.value not in _FOLDED or i == 0 or tokens[i - 1].type in ("dot", "pipe") \
            or tokens[i - 1].test("name:is") or tokens[i + 1].type != "lparen":
        return i, None
    args, j = [], i + 2
    while tokens[j].type in ("string", "integer"):
        args.append(tokens[j].value)
        j += 1
        if tokens[j].type == "comma":
            j += 1
    if tokens[j].type != "rparen" or tokens[j - 1].type == "comma":
        return i, None
    language, prefix, urlconf = variant
    if (get_script_prefix(), get_urlconf()) != (prefix, urlconf):
        return i, None  # compiled outside its variant's request: leave the calls to run
    try:
        with translation.override(language):
            text = _FOLDED[token.value](*args)
    except Exception:  # noqa: BLE001 - the call keeps its own error for the render
        return i, None
    return (j + 1, text) if isinstance(text, str) else (i, None)


def _of_one_text(function):
    """`function` of one string literal only (`_(12)` is left to fail at render, as before)."""
    def call(*args):
        [text] = args
        if not isinstance(text, str):
            raise TypeError(text)
        return function(text)
    return call


_FOLDED = {"_": _of_one_text(gettext), "url": kept_reverse, "static": _of_one_text(static)}
_VARIANTS: dict = {}
_MAX_VARIANTS = 16  # a deployment has one prefix and URLconf, and settings.LANGUAGES


def get_template(name: str):
    """A Jinja2 template compiled for the current language, script prefix and URLconf, its
    constant calls written in (ConstantCalls). Every storefront render goes through here."""
    variant = (get_language(), get_script_prefix(), get_urlconf())
    env = _VARIANTS.get(variant)
    if env is None:
        if len(_VARIANTS) >= _MAX_VARIANTS:  # prefixes from a request's SCRIPT_NAME: bounded
            return engines["jinja2"].env.get_template(name)
        env = engines["jinja2"].env.overlay(cache_size=400)
        env.shopyard_variant = variant
        # its templates' url() calls with variable arguments: under the variant's prefix and URLconf
        env.globals = {**env.globals, "url": reverser(*variant[1:])}
        env = _VARIANTS.setdefault(variant, env)
    return env.get_template(name)


def _forget(**_kwargs):
    # a test's settings (URLconf, languages, static storage): compile and render afresh
    _VARIANTS.clear()
    _menu.cache_clear()


setting_changed.connect(_forget)


def render_page(name: str, context: dict, request) -> str:
    """A whole page in Jinja2 with what a Django page's context holds: the context
    processors of Django's engine (settings.TEMPLATES, the CSRF token among them), under
    the view's own values, as Django's RequestContext puts them (a page kept for many
    visitors renders page_cache.MARKER as its token; Django's Jinja2 backend would put
    the visitor's token over it)."""
    values = {"request": request}
    for processor in engines["django"].engine.template_context_processors:
        values.update(processor(request))
    values.update(context)
    return get_template(name).render(values)


_DICT_NAMES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja2's environment, reading `value.key` of a dict as Jinja2 does, without its failed
    attribute look-up first: a product page reads about fifty keys of dicts (its SEO tags, the
    option picker's options, the language menu), and each raised and caught an AttributeError.
    A dict has no attributes but its type's (no __dict__), so for any other name Jinja2's
    getattr() fails and falls back on the key: the same answer, found directly. Other values
    get Jinja2's own look-up, its usual first step taken here without a call through."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_NAMES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        try:
            return getattr(obj, attribute)  # Jinja2's own first look-up, without calling through for it
        except AttributeError:
            return super().getattr(obj, attribute)  # then its fall-back, by its own rule


def environment(**options) -> Environment:
    options["keep_trailing_newline"] = True  # as Django's templates: a file's last newline is output
    # Django's escaping (&#x27; and &quot;), not MarkupSafe's (&#39;, &#34;): the same bytes as before;
    # what it returns is marked safe, so autoescape leaves it as it is
    options["finalize"] = _escaped
    options["undefined"] = Undefined  # a missing value shows as nothing, as in Django's templates (even in DEBUG)
    options["extensions"] = [*options.get("extensions", ()), ConstantCalls]
    env = _Environment(**options)  # noqa: S701 - Django's backend turns autoescape on
    env.code_generator_class = _SafeOutput
    env.globals.update({
        "_": gettext, "pgettext": pgettext, "trans": trans, "ntrans": ntrans, "url": kept_reverse, "static": static,
        "get_language": get_language, "dj_date": dj_date, "json_script": json_script, "csrf_input": csrf_input,
        "django_include": django_include, "called": called, "language_infos": language_infos,
        "catnav": catnav,
    })
    env.filters["dj_urlencode"] = urlencode  # Django's urlencode filter (quote, "/" kept), not Jinja2's
    return env


# makemessages reads `{% blocktranslate %}` and `_()` but not these calls of the Jinja2
# templates: marked here, their texts stay in the catalogues
_FORMATTED_TEXTS = (
    gettext_noop("Picture %(n)s"), gettext_noop("%(n)s left"), gettext_noop("until %(end)s"),
    ngettext_lazy("%(n)s sold", "%(n)s sold"), ngettext_lazy("%(n)s answer", "%(n)s answers"),
    ngettext_lazy("See the %(n)s question", "See all %(n)s questions"),
    ngettext_lazy("%(n)s unread message", "%(n)s unread messages"),
)
