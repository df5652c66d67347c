"""The short link: /s/<code>/ sends the visitor to the link's product or shop with
its channel tag (the middleware records the touch on arrival). An unknown or
malformed code is a 404."""

from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from . import queries, tags


def target_path(link) -> str:
    """Where a campaign link leads, with its tag (a product URL 301s to its canonical one)."""
    if link.product_id:
        path = reverse("storefront:product", args=[link.product_id])
    else:
        path = reverse("storefront:shop", args=[link.shop.slug])
    tag = tags.Tag(source=link.source, medium=link.medium, campaign=link.campaign, link_code=link.code)
    return tags.tagged_url(path, tag)


def short_link(request, code):
    link = queries.link_for_code(code)
    if link is None:
        raise Http404
    response = HttpResponseRedirect(target_path(link))
    response["X-Robots-Tag"] = "noindex"
    return response
