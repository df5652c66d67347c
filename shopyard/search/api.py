"""Search over HTTP: GET /search (words, facet filters, sort, page) and
GET /search/suggest (while typing). Anonymous; never an error for odd words."""

from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema

from shopyard.analytics.services import record
from shopyard.catalog.api import ProductCard, card
from shopyard.core.api_support import responses
from shopyard.core.replicas import catalogue_view

from . import queries

router = Router(tags=["search"])


class SearchParams(Schema):
    q: str = Field("", max_length=5000, description="the words; cut to 200 characters")
    category: int | None = Field(None, ge=1, le=2**53, description="category id (a top category includes its children)")
    brand: int | None = Field(None, ge=1, le=2**53)
    shop: int | None = Field(None, ge=1, le=2**53)
    price: int | None = Field(None, ge=1, le=len(queries.PRICE_BANDS), description="price range id (see facets)")
    in_stock: bool = False
    on_promotion: bool = False
    attr: list[Annotated[int, Field(ge=1, le=2**53)]] = Field(
        default_factory=list, max_length=queries.MAX_ATTRIBUTES,
        description="attribute value ids (see facets.attributes), repeated: attr=3&attr=17. Values of one "
                    "attribute (the same facets.attributes[].attribute) are alternatives, different attributes "
                    "are all required: red or blue, and size M. An id that names no value finds nothing")
    sort: Literal["relevance", "sales", "price_asc", "price_desc", "newest"] = "relevance"
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(24, ge=1, le=100)


class FacetValue(Schema):
    id: int
    label: str
    count: int


class AttributeFacetValue(Schema):
    id: int
    attribute: str = Field(description="what groups the values of one attribute (its folded name): the chosen "
                                       "values that share it are alternatives")
    name: str = Field(description="the attribute: 颜色, Size…")
    label: str = Field(description="the value: 红色, XL…")
    count: int = Field(description="the results with this value in place of its attribute's chosen values "
                                   "(every other filter applied); 0 for a chosen value no result has")


class Facets(Schema):
    category: list[FacetValue]
    brand: list[FacetValue]
    shop: list[FacetValue]
    price: list[FacetValue]
    attributes: list[AttributeFacetValue]
    in_stock: int
    on_promotion: int


class SearchOut(Schema):
    q: str
    corrected: str
    count: int
    capped: bool = Field(description="true when only the best 1,000 text matches were ranked and counted")
    relaxed: bool = Field(False, description="true when no product had every word: results have most of them")
    page: int
    pages: int
    results: list[ProductCard]
    facets: Facets


class Suggestion(Schema):
    kind: Literal["query", "product"]
    text: str
    product_id: int | None = None


class SuggestOut(Schema):
    q: str
    suggestions: list[Suggestion]


@router.get("/search", response=responses({200: SearchOut}), auth=None, url_name="search")
@catalogue_view
def search(request, params: Query[SearchParams]):
    filters = queries.Filters(category=params.category, brand=params.brand, shop=params.shop, price=params.price,
                              in_stock=params.in_stock, on_promotion=params.on_promotion,
                              attributes=tuple(dict.fromkeys(params.attr)))
    result = queries.search(params.q, filters=filters, sort=params.sort, page=params.page, per_page=params.page_size)
    if params.page == 1 and params.q.strip():
        record(request, "search", query=params.q.strip())
    labels = queries.facet_labels(result) if result.facets else {}
    facets = {key: [{"id": i, "label": labels.get(key, {}).get(i, str(i)), "count": n}
                    for i, n in result.facets.get(key, [])] for key in queries.FACETS}
    facets["attributes"] = [{"id": i, "attribute": labels["attributes"][i][2], "name": labels["attributes"][i][0],
                             "label": labels["attributes"][i][1], "count": n}
                            for i, n in result.facets.get("attributes", []) if i in labels.get("attributes", {})]
    facets["in_stock"] = result.facets.get("in_stock", 0)
    facets["on_promotion"] = result.facets.get("on_promotion", 0)
    return {"q": result.q, "corrected": result.corrected, "count": result.total, "capped": result.capped,
            "relaxed": result.relaxed, "page": result.page,
            "pages": result.pages, "results": [card(p) for p in queries.products_in_order(result.ids)],
            "facets": facets}


class SuggestParams(Schema):
    q: str = Field("", max_length=5000)


@router.get("/search/suggest", response=responses({200: SuggestOut}), auth=None)
@catalogue_view
def suggest(request, params: Query[SuggestParams]):
    return {"q": params.q[:200], "suggestions": queries.suggest(params.q)}
