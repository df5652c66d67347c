"""The Jinja2 environment of the storefront's hot templates (the product page and the
product card), which Django's template language rendered at a third of the page's CPU.

The helpers here give exactly what the Django tags gave, so a page is the same byte for
byte: `_()` is `{% translate %}` (the text escaped when shown), `trans()` and `ntrans()`
are `{% blocktranslate %}` (the translated text as written, each value escaped and
localised as Django shows a variable), `url()` and `static()` are the tags of those names,
`dj_date()` the `date` filter, every `{{ }}` escaped as Django escapes (in the current time zone, as Django's templates show a
datetime). Other templates stay in Django's language; `{% product_card %}`
(templatetags/card_tags.py) renders the one card template for them.
"""

from django.template.defaultfilters import date as date_filter
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import conditional_escape, json_script
from django.utils.translation import get_language, gettext, ngettext, pgettext
from django.template import Context, engines
from django.utils.html import format_html
from jinja2 import Environment, Undefined, pass_context
from markupsafe import Markup


def _shown(value) -> str:
    """A value as `{{ value }}` shows it in a Django template (localised, time-zone aware)."""
    return formats.localize(timezone.template_localtime(value))


def trans(message: str, **values) -> Markup:
    return Markup(gettext(message) % {k: conditional_escape(_shown(v)) for k, v in values.items()})


def ntrans(singular: str, plural: str, count, **values) -> Markup:
    values.setdefault("n", count)
    return Markup(ngettext(singular, plural, count) % {k: conditional_escape(_shown(v)) for k, v in values.items()})


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def dj_date(value, fmt: str) -> str:
    return date_filter(timezone.template_localtime(value), fmt)


def _escaped(value):
    return conditional_escape(_shown(value))


@pass_context
def csrf_input(context):
    """`{% csrf_token %}`: the token the page is rendered with (page_cache.MARKER on a page kept
    for many visitors, filled in per response)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


@pass_context
def django_include(context, name: str, **values):
    """`{% include name with ... %}` of a Django template that other Django pages share."""
    template = engines["django"].get_template(name).template
    return Markup(template.render(Context({"request": context.get("request"), "csrf_token": context.get("csrf_token"),
                                           **values})))


def environment(**options) -> Environment:
    options["keep_trailing_newline"] = True  # as Django's templates: a file's last newline is output
    # Django's escaping (&#x27; and &quot;), not MarkupSafe's (&#39;, &#34;): the same bytes as before;
    # what it returns is marked safe, so autoescape leaves it as it is
    options["finalize"] = _escaped
    options["undefined"] = Undefined  # a missing value shows as nothing, as in Django's templates (even in DEBUG)
    env = Environment(**options)  # noqa: S701 - Django's backend turns autoescape on
    env.globals.update({
        "_": gettext, "pgettext": pgettext, "trans": trans, "ntrans": ntrans, "url": url, "static": static,
        "get_language": get_language, "dj_date": dj_date, "json_script": json_script, "csrf_input": csrf_input,
        "django_include": django_include,
    })
    return env
