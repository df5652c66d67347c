"""Recommendation blocks, each loaded into its page by htmx after the page.

The product, cart, home and empty-search pages carry only a placeholder, so
their own query counts and the anonymous page cache are untouched (the home
page stays one cached page for everyone while its "for you" block is the
visitor's own). Each block costs a fixed number of queries: its id lists
(cached), which candidates are visible, the shown products, their covers and
the promotion badges of the cards (catalog_views._decorate).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext_lazy as _

from shopyard.analytics.middleware import user_id_of, visitor_id
from shopyard.catalog.queries import visible_products
from shopyard.recommendations import queries as recs

from .buying_views import _cart
from .catalog_views import _decorate

BLOCK_SIZE = 6
TITLES = {
    "bought_together": _("Frequently bought together"),
    "similar": _("Similar products"),
    "cart": _("Goes well with your cart"),
    "for_you": _("Recommended for you"),
}


def _render(request, blocks) -> HttpResponse:
    _decorate([p for _key, products in blocks for p in products])  # one set of promotion queries for all
    shown = [{"key": key, "title": TITLES[key], "products": products} for key, products in blocks if products]
    response = render(request, "storefront/_recommendations.html", {"blocks": shown})
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    patch_cache_control(response, private=True, max_age=0)
    return response


def product_block(request, pk):
    product = visible_products().only("pk", "category_id").filter(pk=pk).first()
    if product is None:
        raise Http404
    found = recs.product_blocks(product, limit=BLOCK_SIZE)
    return _render(request, [("bought_together", found["bought_together"]), ("similar", found["similar"])])


def cart_block(request):
    cart = _cart(request)
    product_ids = list(cart.lines.values_list("sku__product_id", flat=True)[:recs.MAX_LIMIT]) if cart else []
    return _render(request, [("cart", recs.cart_addons(product_ids, limit=BLOCK_SIZE))])


def for_you_block(request):
    user_id = user_id_of(request)
    products = recs.for_you(user_id=user_id, visitor="" if user_id else visitor_id(request), limit=BLOCK_SIZE)
    return _render(request, [("for_you", products)])
