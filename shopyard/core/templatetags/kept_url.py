"""`{% url %}` for every Django template (a builtin, settings.TEMPLATES), through the kept URL
shapes of core.url_shapes: the same output and errors as Django's own tag, without a
`reverse()` for each URL of every page. Keyword arguments take Django's own way."""

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from shopyard.core.url_shapes import kept_reverse

register = template.Library()


class KeptURLNode(URLNode):
    def render(self, context):
        if self.kwargs:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        url = ""
        try:
            url = kept_reverse(self.view_name.resolve(context), *args)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
