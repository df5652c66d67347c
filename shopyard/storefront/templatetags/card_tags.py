"""`{% product_card p %}`: the product card for Django templates, from its one template
(jinja2/storefront/_product_card.html), for grids whose cards were not rendered ahead
(fragments.attach_card_html) or that show a remove button."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from shopyard.storefront import jinja_env

register = template.Library()


def card_template():
    return jinja_env.get_template("storefront/_product_card.html")


@register.simple_tag(takes_context=True)
def product_card(context, p, show_remove=False):
    token = context.get("csrf_token")
    csrf_input = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token) \
        if token and token != "NOTPROVIDED" else ""
    html = card_template().render({"p": p, "show_remove": show_remove, "request": context.get("request"),
                                   "csrf_input": csrf_input})
    return mark_safe(html)  # noqa: S308 - the card template's autoescaped output
