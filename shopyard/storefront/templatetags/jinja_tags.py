"""`{% jinja "name" %}`: a part of a Django page rendered by its Jinja2 template
(jinja_env.py says why), with the page's whole context. `{% layout %}`: the site's one
layout (jinja2/shopyard/layout.html) around a Django page's blocks."""

from django import template
from django.template import Node, NodeList
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockNode
from django.utils.safestring import mark_safe

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
    return jinja_env.menu(context.get("request"), context.get("nav_categories"), active_root_id)
