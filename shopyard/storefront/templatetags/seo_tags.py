"""Product links in templates: the canonical URL (/p/<id>-<slug>/) from the one
helper, catalog.links.product_path, so no page links a URL that answers with a 301."""

from django import template

from shopyard.catalog.links import product_path

register = template.Library()


@register.filter
def product_href(product) -> str:
    """The canonical path of a product (anything with pk and slug)."""
    if product is None:
        return ""
    return product_path(product.pk, getattr(product, "slug", "") or "")
