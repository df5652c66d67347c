"""`{% jinja "name" %}`: a part of a Django page rendered by its Jinja2 template
(jinja_env.py says why), with the page's whole context: the product page keeps the
site's one layout (shopyard/base.html) and renders its own content in Jinja2."""

from django import template
from django.template import engines
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, name):
    html = engines["jinja2"].env.get_template(name).render(context.flatten())
    return mark_safe(html)  # noqa: S308 - the Jinja2 template's autoescaped output


@register.simple_tag(takes_context=True)
def catnav(context, active_root_id=None):
    """The category menu under the header (jinja2/storefront/_catnav.html) with only what it
    shows: rendered by Django's template language it cost a product page a twelfth of its CPU."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    categories = context.get("nav_categories")
    html = engines["jinja2"].env.get_template("storefront/_catnav.html").render({
        "nav_categories": categories() if callable(categories) else categories or (),
        "active_root_id": active_root_id, "is_home": match is not None and match.url_name == "home"})
    return mark_safe(html)  # noqa: S308 - the Jinja2 template's autoescaped output
