"""Recommendations over HTTP: parse, call a query, shape cards (catalog.api.card).

A product that shoppers cannot see (unknown, unpublished, suspended shop) is a
404; a limit outside 1..MAX_LIMIT a 422 with the field named; lists contain
only visible products and never the product asked about.
"""

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from shopyard.catalog.api import ProductCard, card
from shopyard.catalog.queries import visible_products
from shopyard.core.api_support import ID_MAX, Id, bearer, responses

from . import queries

router = Router(tags=["recommendations"])


class RecommendationLimitIn(Schema):
    limit: int = Field(queries.DEFAULT_LIMIT, ge=1, le=queries.MAX_LIMIT)


class PopularIn(RecommendationLimitIn):
    category: int | None = Field(None, ge=1, le=ID_MAX)


class RecommendationsOut(Schema):
    kind: str
    results: list[ProductCard]


def _product(product_id):
    return get_object_or_404(visible_products().only("pk", "category_id"), pk=product_id)


def _out(kind, products) -> dict:
    return {"kind": kind, "results": [card(p) for p in products]}


@router.get("/recommendations/products/{product_id}/bought-together", response=responses({200: RecommendationsOut}),
            auth=None)
def bought_together(request, product_id: Id, params: Query[RecommendationLimitIn]):
    """Products bought by the shoppers who bought this one (cosine of the buyer sets, minimum support 2)."""
    return _out("bought_together", queries.bought_together(_product(product_id), limit=params.limit))


@router.get("/recommendations/products/{product_id}/similar", response=responses({200: RecommendationsOut}),
            auth=None)
def similar(request, product_id: Id, params: Query[RecommendationLimitIn]):
    """Products viewed by the shoppers who viewed this one, then its category's best-sellers."""
    return _out("similar", queries.similar(_product(product_id), limit=params.limit))


@router.get("/recommendations/for-you", response=responses({200: RecommendationsOut}), auth=bearer)
def for_you(request, params: Query[RecommendationLimitIn]):
    """The caller's home feed: from what they viewed, saved, put in the cart and bought lately."""
    return _out("for_you", queries.for_you(user_id=request.auth.pk, limit=params.limit))


@router.get("/recommendations/cart", response=responses({200: RecommendationsOut}), auth=bearer)
def cart_addons(request, params: Query[RecommendationLimitIn]):
    """Add-ons for the caller's cart: products bought with what is in it."""
    from shopyard.cart.services import get_cart

    cart = get_cart(user=request.auth)
    product_ids = list(cart.lines.values_list("sku__product_id", flat=True)) if cart is not None else []
    return _out("cart", queries.cart_addons(product_ids, limit=params.limit))


@router.get("/recommendations/popular", response=responses({200: RecommendationsOut}), auth=None)
def popular(request, params: Query[PopularIn]):
    """The cold-start list: a category's (or the whole shop floor's) most popular products by recent shopper behaviour."""
    ids = queries.popular_lists([params.category])[params.category]
    return _out("popular", queries.cards(ids, limit=params.limit))
