"""The short link: /s/<code>/ sends the visitor, in one redirect, to the canonical URL
of the link's product or shop with its channel tag (the middleware records the touch
on arrival). An unknown or malformed code is a 404."""

from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from shopyard.catalog.links import canonical_product_paths

from . import queries, tags


def target_paths(links) -> dict:
    """{link id: where it leads, with its tag}: a product's canonical URL (catalog.links: the
    one the product page would 301 to), a shop's page; one query for all the products."""
    products = canonical_product_paths([link.product_id for link in links if link.product_id])
    out = {}
    for link in links:
        path = products[link.product_id] if link.product_id else reverse("storefront:shop", args=[link.shop.slug])
        tag = tags.Tag(source=link.source, medium=link.medium, campaign=link.campaign, link_code=link.code)
        out[link.pk] = tags.tagged_url(path, tag)
    return out


def target_path(link) -> str:
    return target_paths([link])[link.pk]


def short_link(request, code):
    link = queries.link_for_code(code)
    if link is None:
        raise Http404
    response = HttpResponseRedirect(target_path(link))
    response["X-Robots-Tag"] = "noindex"
    return response
