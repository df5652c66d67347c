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
