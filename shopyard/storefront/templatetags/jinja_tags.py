"""`{% jinja "name" %}`: a part of a Django page rendered by its Jinja2 template
(jinja_env.py says why), with the page's whole context: the product page keeps the
site's one layout (shopyard/base.html) and renders its own content in Jinja2."""

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.template import engines
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, name):
    html = engines["jinja2"].env.get_template(name).render(context.flatten())
    return mark_safe(html)  # noqa: S308 - the Jinja2 template's autoescaped output


@register.simple_tag(takes_context=True)
def catnav(context, active_root_id=None):
    """The category menu under the header (jinja2/storefront/_catnav.html) with only what it
    shows: rendered by Django's template language it cost a product page a twelfth of its CPU.
    The same menu is the same HTML, so it is rendered once per process for each set of
    categories (what the menu shows of them), language, script prefix, current root and page."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    categories = context.get("nav_categories")
    categories = tuple(categories() if callable(categories) else categories or ())
    shown = tuple((c.pk, c.slug, c.label) for c in categories)
    return _menu(shown, active_root_id, match is not None and match.url_name == "home", get_language(),
                 get_script_prefix(), get_urlconf())


class _Shown:
    __slots__ = ("pk", "slug", "label")

    def __init__(self, pk, slug, label):
        self.pk, self.slug, self.label = pk, slug, label


@lru_cache(maxsize=512)
def _menu(shown, active_root_id, is_home, _language, _prefix, _urlconf):
    html = engines["jinja2"].env.get_template("storefront/_catnav.html").render({
        "nav_categories": [_Shown(*c) for c in shown], "active_root_id": active_root_id, "is_home": is_home})
    return mark_safe(html)  # noqa: S308 - the Jinja2 template's autoescaped output


def _forget(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":  # a test's own URLconf: the menu's links change with it
        _menu.cache_clear()


setting_changed.connect(_forget)
