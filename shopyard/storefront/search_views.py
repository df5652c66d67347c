"""The search page (one search box: the header's), its htmx result panel with
facets, suggestions while typing, and the click redirect that records which
result a search led to. The words, filters and ranking live in shopyard.search."""

from django.core.signing import BadSignature, Signer
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from shopyard.analytics.services import record
from shopyard.catalog.links import canonical_product_path, product_path
from shopyard.core.replicas import catalogue_view
from shopyard.core.validation import page_number, parse_id
from shopyard.search import queries as search_queries
from shopyard.search import services as search_services
from shopyard.search.text import clean_query

from .catalog_views import _categories, _decorate, _is_htmx

SORT_CHOICES = [
    ("relevance", gettext_lazy("Best match")),
    ("sales", gettext_lazy("Best selling")),
    ("price_asc", gettext_lazy("Price: low to high")),
    ("price_desc", gettext_lazy("Price: high to low")),
    ("newest", gettext_lazy("Newest")),
]
FACET_TITLES = {
    "category": gettext_lazy("Category"),
    "brand": gettext_lazy("Brand"),
    "price": gettext_lazy("Price"),
    "shop": gettext_lazy("Shop"),
}
CLICKS = Signer(salt="shopyard.search.click")


def _attributes(raw) -> tuple:
    """attr=12,17: the chosen attribute values; pieces that are not ids are dropped, and
    at most MAX_ATTRIBUTES are kept (a link, not a form: odd values give a normal page)."""
    ids = []
    for piece in str(raw or "")[:500].split(","):
        pk = parse_id(piece)
        if pk is not None and pk not in ids:
            ids.append(pk)
    return tuple(ids[: search_queries.MAX_ATTRIBUTES])


def _attr_param(ids) -> str | None:
    return ",".join(str(i) for i in ids) or None


def _filters(request) -> search_queries.Filters:
    band = parse_id(request.GET.get("price"))
    if band is not None and band > len(search_queries.PRICE_BANDS):
        band = None
    return search_queries.Filters(
        category=parse_id(request.GET.get("category")), brand=parse_id(request.GET.get("brand")),
        shop=parse_id(request.GET.get("shop")), price=band,
        in_stock=request.GET.get("in_stock") == "1", on_promotion=request.GET.get("on_promotion") == "1",
        attributes=_attributes(request.GET.get("attr")))


def _params(q, filters, sort, log_id=None) -> dict:
    active = filters.active()
    if "attributes" in active:
        active["attr"] = _attr_param(active.pop("attributes"))
    params = {"q": q, **{k: ("1" if v is True else v) for k, v in active.items()}}
    if sort != "relevance":
        params["sort"] = sort
    if log_id:
        params["sl"] = log_id
    return params


def _url(params: dict, **change) -> str:
    merged = {**params, **change}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})


def _facet_groups(result, params, filters):
    labels = search_queries.facet_labels(result)
    groups = []
    for key in ("category", "brand", "price", "shop"):
        values = result.facets.get(key, [])
        if not values:
            continue
        chosen = getattr(filters, key)
        items = [{"label": labels[key].get(v, str(v)), "count": n, "active": v == chosen,
                  "url": _url(params, **{key: None if v == chosen else v})} for v, n in values[:12]]
        groups.append({"key": key, "title": FACET_TITLES[key], "items": items})
    # an attribute's values are check boxes: ticking one more widens to either (the search ORs
    # them), one of another attribute narrows; a ticked value stays listed to be unticked
    chosen = list(filters.attributes)
    for group in search_queries.attribute_groups(result, labels, chosen):
        items = [{"label": value, "count": n, "active": active,
                  "url": _url(params, attr=_attr_param([c for c in chosen if c != pk] if active else [*chosen, pk]))}
                 for n_shown, (pk, value, n, active) in enumerate(group["values"]) if n_shown < 12 or active]
        groups.append({"key": "attribute", "title": group["name"], "items": items, "multiple": True})
    toggles = [
        {"label": gettext_lazy("In stock only"), "count": result.facets.get("in_stock", 0), "active": filters.in_stock,
         "url": _url(params, in_stock=None if filters.in_stock else "1")},
        {"label": gettext_lazy("On promotion"), "count": result.facets.get("on_promotion", 0),
         "active": filters.on_promotion, "url": _url(params, on_promotion=None if filters.on_promotion else "1")},
    ]
    return groups, toggles


@catalogue_view
def search(request):
    q = clean_query(request.GET.get("q"))
    sort = request.GET.get("sort", "relevance")
    sort = sort if sort in search_queries.SORTS else "relevance"
    filters = _filters(request)
    page = page_number(request.GET.get("page"))
    tree = _categories()
    context = {"q": q, "tree": tree, "nav_categories": tree, "sort": sort, "sort_choices": SORT_CHOICES}
    if not q:
        return render(request, "storefront/search.html", context)
    result = search_queries.search(q, filters=filters, sort=sort, page=page)
    log_id = parse_id(request.GET.get("sl"))
    if page == 1 and not filters.active() and not _is_htmx(request):
        entry = search_services.log_search(query=q, results=result.total, corrected=result.corrected,
                                           user=request.user, session_key=request.session.session_key or "")
        log_id = entry.pk if entry else None
        record(request, "search", query=q)
    params = _params(q, filters, sort, log_id)
    products = _decorate(search_queries.products_in_order(result.ids))
    if log_id:
        click = reverse("storefront:search_click", args=[log_id])
        sig = CLICKS.sign(str(log_id)).rsplit(":", 1)[1]
        for n, p in enumerate(products, result.first_position):
            p.url = f"{click}?p={p.pk}&pos={n}&s={sig}"
    groups, toggles = _facet_groups(result, params, filters) if result.facets else ([], [])
    context.update({
        "result": result, "products": products, "facet_groups": groups, "toggles": toggles,
        "filtered": bool(filters.active()), "clear_url": _url({"q": q}),
        "sort_links": [(v, label, _url(params, sort=None if v == "relevance" else v)) for v, label in SORT_CHOICES],
        "prev_url": _url(params, page=page - 1) if 1 < page <= result.pages + 1 else "",
        "next_url": _url(params, page=page + 1) if page < result.pages else "",
    })
    if not result.total:
        context["popular"] = _decorate(search_queries.products_in_order(search_queries.popular_product_ids()))
        context["top_queries"] = search_queries.top_queries()
    template = "storefront/_search_results.html" if _is_htmx(request) else "storefront/search.html"
    return render(request, template, context)


@catalogue_view
def suggest(request):
    q = clean_query(request.GET.get("q"))
    items = search_queries.suggest(q) if q else []
    base = reverse("storefront:search")
    for item in items:
        item["url"] = (product_path(item["product_id"], item.get("slug", "")) if item["kind"] == "product"
                       else f"{base}?{urlencode({'q': item['text']})}")
    return render(request, "storefront/_search_suggest.html", {"items": items})


def click(request, log_id):
    """Record the click (position on the results) on the log entry of the results page the
    link came from (its signature proves that), then go to the product."""
    product_id = parse_id(request.GET.get("p"))
    if product_id is None:
        return HttpResponseRedirect(reverse("storefront:search"))
    try:
        CLICKS.unsign(f"{log_id}:{request.GET.get('s', '')}")
    except BadSignature:
        pass
    else:
        search_services.record_click(log_id=log_id, product_id=product_id, position=request.GET.get("pos"))
    # straight to the canonical URL (a product's bare /p/<id>/ would redirect once more)
    return HttpResponseRedirect(canonical_product_path(product_id))
