"""`{% jinja "name" %}`: a part of a Django page rendered by its Jinja2 template
(jinja_env.py says why), with the page's whole context. `{% layout %}`: the site's one
layout (jinja2/shopyard/layout.html) around a Django page's blocks."""

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.template import Node, NodeList
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from shopyard.core.i18n import localizer
from shopyard.storefront import jinja_env

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, name):
    html = jinja_env.get_template(name).render(context.flatten())
    return mark_safe(html)  # noqa: S308 - the Jinja2 template's autoescaped output


class LayoutNode(Node):
    """The layout's header, menu slot and footer cost a Django page more CPU in Django's
    template language than the product page's whole content did in Jinja2, so the layout
    has its one copy in Jinja2 (jinja2/shopyard/layout.html), which Jinja2 pages extend.
    A Django page still extends shopyard/base.html: its blocks, inside `{% layout %}`,
    are the layout's blocks, and each one a page overrides replaces the layout's own, as a
    Jinja2 page's would (`{{ block.super }}` of the layout's default is not available)."""

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: NodeList):
        self.nodelist = nodelist
        self.blocks = [node for node in nodelist if isinstance(node, BlockNode)]

    def render(self, context):
        template = jinja_env.get_template("shopyard/layout.html")
        jinja_context = template.new_context(context.flatten())
        overrides = context.render_context.get(BLOCK_CONTEXT_KEY)
        for node in self.blocks:
            if overrides is not None and overrides.get_block(node.name) not in (None, node):
                html = node.render(context)
                jinja_context.blocks[node.name] = [lambda _context, html=html: iter((html,))]
        try:
            return mark_safe("".join(template.root_render_func(jinja_context)))  # noqa: S308 - autoescaped
        except Exception:
            return template.environment.handle_exception()


@register.tag
def layout(parser, token):
    nodelist = parser.parse(("endlayout",))
    parser.delete_first_token()
    return LayoutNode(nodelist)


@register.simple_tag(takes_context=True)
def catnav(context, active_root_id=None):
    """The category menu under the header; a Jinja2 page calls `catnav()` (jinja_env.py)."""
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
    html = jinja_env.get_template("storefront/_catnav.html").render({
        "nav_categories": [_Shown(*c) for c in shown], "active_root_id": active_root_id, "is_home": is_home})
    return mark_safe(html)  # noqa: S308 - the Jinja2 template's autoescaped output


def _forget(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":  # a test's own URLconf: the menu's links change with it
        _menu.cache_clear()


setting_changed.connect(_forget)
