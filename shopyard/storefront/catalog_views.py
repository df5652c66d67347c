"""Catalogue pages for shoppers: home, category, product, search, shop,
favourites and recently viewed.

Every page costs a fixed number of SQL queries, whatever the number of
products on it: listings go through `catalog.queries.with_cover` (products
with their shop in one query, their images in one more), the product page
through `catalog.queries.product_rows`. The header's category tree comes
from the cache. Viewing a product writes nothing to the session (the recently
viewed list lives in a cookie) and, to the database, only its behaviour event
(analytics.record), one INSERT made after the response has been sent.
"""

from functools import partial

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.analytics.services import record
from shopyard.catalog import rich_text
from shopyard.catalog import services as catalog_services
from shopyard.catalog.models import Category, Favourite
from shopyard.catalog.queries import (
    SORTS,
    category_with_children,
    option_matrix,
    option_states,
    published_products,
    resolve_selection,
    stock_levels,
    visible_count,
    visible_favourite_ids,
    visible_products,
    with_cover,
    with_live_stock,
)
from shopyard.checkout.limits import max_units_per_sku
from shopyard.checkout.pricing import unit_prices
from shopyard.core.errors import DomainError
from shopyard.core.i18n import localized
from shopyard.core.money import format_price
from shopyard.core.pagination import LazyRows, page_rows
from shopyard.core.replicas import catalogue_view
from shopyard.core.validation import page_number, parse_id
from shopyard.promotions.discounts import badges_for, listing_badges
from shopyard.promotions.group_queries import product_offers
from shopyard.promotions.queries import current_and_coming_rows
from shopyard.reviews import queries as review_queries
from shopyard.shops.models import ShopBlock
from shopyard.shops.queries import active_shops
from shopyard.storefront.page_cache import render_page
from shopyard.storefront.queries import home_content, product_page_rows

from . import fragments, listing_cards, seo, shop_views
from .context_processors import _categories
from .flash_views import product_flash_badges
from .listing_cards import ListingCard, cover_url

PER_PAGE = 24
HOME_GRID_SIZE = 10
RECENT_COOKIE = "recently_viewed"
RECENT_MAX = 20
RECENT_COOKIE_AGE = 60 * 60 * 24 * 30

SORT_CHOICES = [
    ("newest", gettext_lazy("Newest")),
    ("sales", gettext_lazy("Best selling")),
    ("price_asc", gettext_lazy("Price: low to high")),
    ("price_desc", gettext_lazy("Price: high to low")),
]

def _decorate(products, changes=None):
    """Attach what a product card shows (to Product rows, or a kept listing's ListingCards):
    from data already loaded, plus the promotions
    covering each product (a fixed number of queries for the page). When `changes` is a
    list, the next moment one of those promotions starts or ends is appended to it."""
    product_url = seo.product_path_builder()  # reverse() once per page: cards are the hot path
    now = timezone.now()
    badges = listing_badges(products, now=now, promotions=partial(_kept_promotions, now=now)) if products else None
    if changes is not None and badges is not None:
        changes.append(badges.changes_at)
    for p in products:
        p.promotion_kinds = badges.kinds.get(p.pk, []) if badges else []
        if not isinstance(p, ListingCard):  # a kept listing's card has its cover's URL already
            p.cover_url = cover_url(p)
        p.url = product_url(p.pk, p.slug)
        p.title_text = p.label
        p.price_text = format_price(p.min_price, p.currency)
        p.shop_label = localized(p.shop, "name")
    return products


def _kept_promotions(*, shop_ids, now):
    """The shops' current and coming promotions, kept per catalogue version (every publish,
    change or stop of a promotion is a catalogue event): a listing read them on every view."""
    key = ",".join(map(str, sorted(shop_ids)))
    return fragments.get_or_build("promotions", key, lambda: current_and_coming_rows(shop_ids=shop_ids, now=now))


def _sort(request) -> str:
    sort = request.GET.get("sort", "newest")
    return sort if sort in SORTS else "newest"


class _Paginator(Paginator):
    """A paginator whose count may come from the fragment cache: counting a category's
    visible products is the costliest query of a listing, and grows with the catalogue.
    `object_list` may be a function giving the (ordered) queryset: it is built only when a
    page's rows are read, which a listing whose rows are kept never does (building the
    visibility rule's queryset was a tenth of such a listing's CPU)."""

    def __init__(self, object_list, *args, count_key=None, counter=None, **kwargs):
        self._build = object_list if callable(object_list) else None
        super().__init__(object_list, *args, **kwargs)
        self.count_key = count_key
        self.counter = counter

    @property
    def object_list(self):
        if self._object_list is None:
            self._object_list = self._build()
        return self._object_list

    @object_list.setter
    def object_list(self, value):
        self._object_list = None if self._build is not None else value

    def _check_object_list_is_ordered(self):
        if self._build is None:  # a built listing is ordered by catalog.queries.SORTS
            super()._check_object_list_is_ordered()

    @cached_property
    def count(self):
        if self.count_key is None:
            return Paginator.count.func(self)
        return fragments.get_or_build("count", self.count_key, self.counter or (lambda: self.object_list.count()))

    def page(self, number):
        """Paginator.page, with the rows read from the nearer end of the listing (core.pagination),
        when they are used: page N of a large category walks at most half of it, the last
        pages almost nothing."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(LazyRows(lambda: page_rows(self.object_list, bottom, top, self.count)), number, self)


def _paginate(request, qs, count_key=None, counter=None):
    """One page of `qs` (or of the queryset a function gives, built only if its rows are read:
    _Paginator); a page number that is not a number gives the first
    page, one out of range the last page (never an error). `count_key` names
    the listing whose count may be kept per catalogue version; `counter`, when
    given, answers the count of `qs` without counting it (queries.visible_count)."""
    paginator = _Paginator(qs, PER_PAGE, count_key=count_key, counter=counter)
    page = paginator.get_page(page_number(request.GET.get("page")))
    params = request.GET.copy()
    params.pop("page", None)
    base = params.urlencode()
    page.link_base = f"?{base}&page=" if base else "?page="
    page.elided = list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def _listing_context(request, qs, sort, changes, count_key, counter):
    """A listing's page of the visible products `qs()` gives (a function: called only when the
    page's cards are not kept), as ListingCards; `count_key` names the listing (fragments)."""
    page = _paginate(request, lambda: listing_cards.values(qs()), count_key, counter)
    # one page of a listing's cards (each product's values, its shop's name, its cover) is kept as its
    # count is: per catalogue version, so an edit, a price or a product published or hidden shows at once
    rows = listing_cards.restore(fragments.get_or_build(
        "cards", f"{count_key}:{sort}:{page.number}", lambda: listing_cards.keep(page.object_list)))
    products = fragments.attach_card_html(_decorate(rows, changes))
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("sort", None)
    sort_base = params.urlencode()
    return {
        "page": page,
        "products": products,
        "sort": sort,
        "sort_choices": SORT_CHOICES,
        "sort_link_base": f"?{sort_base}&sort=" if sort_base else "?sort=",
    }


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def login_redirect(request, next_url):
    """The login page, coming back to `next_url`; an htmx button gets 204 and HX-Redirect
    (a redirect answered to htmx would be swapped into the button)."""
    login = redirect_to_login(next_url)
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login.url
        return response
    return login


def _recent_ids(request) -> list[int]:
    ids = []
    for part in request.COOKIES.get(RECENT_COOKIE, "").split(",")[: RECENT_MAX * 2]:
        value = parse_id(part)
        if value is not None:
            if value not in ids:
                ids.append(value)
    return ids[:RECENT_MAX]


def _in_order(products, ids):
    by_id = {p.pk: p for p in products}
    return [by_id[i] for i in ids if i in by_id]


# --- pages ----------------------------------------------------------------


@catalogue_view
def home(request):
    now = timezone.now()
    changes_at = []

    def build():
        content = home_content(now)
        changes_at.append(content["changes_at"])
        new_arrivals = list(with_cover(published_products(sort="newest"))[:HOME_GRID_SIZE])
        best_sellers = list(with_cover(published_products(sort="sales"))[:HOME_GRID_SIZE])
        _decorate(new_arrivals + best_sellers, changes_at)  # one set of promotion queries for both grids
        tree = _categories()
        return {"tree": tree, "nav_categories": tree, "new_arrivals": new_arrivals, "best_sellers": best_sellers,
                "banners": content["banners"], "featured": content["featured"]}

    def until_change():
        # a banner or a promotion that starts or ends while the page is cached shows (or goes) on time
        return _seconds_until(changes_at, now)

    return render_page(request, "storefront/home.html", build, ttl=until_change)


def _seconds_until(moments, now):
    moments = [m for m in moments if m is not None]
    return (min(moments) - now).total_seconds() if moments else None


@catalogue_view
def category(request, slug):
    changes = []

    def build():
        # kept per catalogue version: a slug's change is a catalogue event
        cat = fragments.get_or_build("category", slug, lambda: category_with_children(slug))
        if cat is None:
            raise seo.Moved(None)
        tree = _categories()
        root_id = cat.parent_id or cat.pk
        root = next((c for c in tree if c.pk == root_id), None)
        sort = _sort(request)
        context = _listing_context(request, lambda: published_products(category=cat, sort=sort), sort, changes,
                                   count_key=f"category:{cat.pk}",
                                   counter=partial(visible_count, category_ids=[cat.pk, *cat.child_ids]))
        context.update({"category": cat, "root": root, "siblings": root.child_list if root else [], "nav_categories": tree})
        context["seo"] = _listing_seo(request, context["page"], title=cat.label,
                                      description=_("%(name)s at Shopyard") % {"name": cat.label},
                                      path=reverse("storefront:category", args=[cat.slug]))
        return context

    try:
        # a promotion that starts or ends while the page is cached shows (or goes) on time
        return render_page(request, "storefront/category.html", build,
                           ttl=lambda: _seconds_until(changes, timezone.now()))
    except seo.Moved:
        moved = seo.moved_slug(request, "category", slug, Category.objects.all(), "storefront:category")
        if moved is None:
            raise Http404 from None
        return moved


def _listing_seo(request, page, *, title, description, path):
    """A listing's head tags; page 2 and later are their own canonical pages."""
    if page.number > 1:
        path = f"{path}?page={page.number}"
        title = _("%(title)s – page %(n)s") % {"title": title, "n": page.number}
    return seo.page_seo(request, title=title, description=description, path=path)


@catalogue_view
def product(request, pk, slug=""):
    now = timezone.now()
    changes = []
    levels = []

    def live_stock():
        # read once per request: the page cache's key and the page itself show the same units
        if not levels:
            levels.append(stock_levels(pk))
        return levels[0]

    def build():
        context = _product_context(request, pk, now=now, live_stock=live_stock)
        p = context["product"]
        if p.slug != slug:  # /p/<id>/ or a stale slug: one canonical URL per product
            raise seo.Moved(seo.product_path(p.pk, p.slug))
        changes.extend([context.pop("price_changes_at"), context.pop("group_changes_at"),
                        context.pop("flash_changes_at")])
        return context

    def until_change():
        # a promotion, group buy or flash sale that starts or ends while the page is cached
        # shows (or goes) on time
        return _seconds_until(changes, now)

    try:
        response = render_page(request, "storefront/product.html", build, jinja=True,
                               vary=lambda: ",".join(f"{k}:{v}" for k, v in live_stock().items()), ttl=until_change)
    except seo.Moved as moved:
        return seo.permanent_redirect(request, moved.path)
    record(request, "view", product_id=pk)
    recent = [pk, *(i for i in _recent_ids(request) if i != pk)][:RECENT_MAX]
    response.set_cookie(
        RECENT_COOKIE, ",".join(str(i) for i in recent), max_age=RECENT_COOKIE_AGE, httponly=True, samesite="Lax"
    )
    return response


def _chosen_options(request) -> dict[int, int]:
    """`?opt=<attribute id>:<option id>` pairs (repeatable); garbage is ignored."""
    chosen = {}
    for raw in request.GET.getlist("opt")[:10]:
        attr, _sep, opt = raw.partition(":")
        attr_id, opt_id = parse_id(attr), parse_id(opt)
        if attr_id is not None and opt_id is not None:
            chosen[attr_id] = opt_id
    return chosen


def _option_query(chosen: dict[int, int]) -> str:
    return "?" + urlencode([("opt", f"{a}:{o}") for a, o in chosen.items() if o is not None])


def _stock_text(count: int) -> str:
    return _("%(n)s in stock") % {"n": count} if count > 0 else _("Out of stock")


def _kept_product(pk, now):
    """What a product page keeps per catalogue version, read together when it is not kept: the
    product's rows (product_rows) with its description made in the language they were read in
    (_texts: sanitising it was a tenth of the page's context, more for a long one); its answered questions
    (问大家: their count and the newest few, in one query); the group buys on its SKUs (publishing
    or stopping one is a catalogue event; when each starts and ends is read at the view's moment:
    group_queries.product_offers); its flash sales (scheduling or cancelling one is a catalogue event;
    their units left are read live); and its review rating (search engines' structured data: like
    the sales count it changes without a catalogue event, so the entry's expiry bounds how stale
    it is, as the page cache's does for a cached page). One entry: one key to read and write, not five. Read by
    storefront.queries.product_page_rows: a part without rows costs no statement."""
    p, *parts = product_page_rows(pk, now)
    p.kept_texts = (get_language(), *_texts(p))
    return p, *parts


def _texts(p) -> tuple:
    """The description as the page shows it (sanitised HTML) and as search engines read it (plain)."""
    return rich_text.render(p.body), seo.product_description(p)


def _kept_texts(p) -> tuple:
    language, *texts = p.kept_texts
    return tuple(texts) if language == get_language() else _texts(p)


def _product_context(request, pk, *, now=None, live_stock=None):
    # the catalogue rows are kept per catalogue version; the stock shown is always read by this request:
    # with the rows when they are read (product_rows), apart when they were kept
    now = now or timezone.now()
    read = []  # set when this request read the rows (rather than finding them kept)
    p, (qa_count, qa_questions), group_items, flash_rows, rating = fragments.get_or_build(
        "product_page", str(pk), lambda: read.append(True) or _kept_product(pk, now))
    if not read:
        p = with_live_stock(p, live_stock() if live_stock else stock_levels(pk))
        if flash_rows:
            flash_rows = None  # a flash item's units left change with every purchase: read them now
    matrix = option_matrix(p)
    entry, chosen = resolve_selection(matrix, sku_id=parse_id(request.GET.get("sku")), chosen=_chosen_options(request))
    states = option_states(matrix, chosen)
    state_labels = {"sold_out": _("sold out"), "missing": _("not available")}
    for attr in matrix["attributes"]:
        for opt in attr["options"]:
            opt["state"] = states[opt["id"]]
            opt["state_label"] = state_labels.get(opt["state"], "")
            opt["selected"] = chosen.get(attr["id"]) == opt["id"]
            # an option no SKU pairs with the other choices starts a new choice from it
            start = {} if opt["state"] == "missing" else chosen
            opt["url"] = _option_query({**start, attr["id"]: opt["id"]})
    slides = {img.pk: (f"img-{n}", (img.thumbnail or img.image).url) for n, img in enumerate(p.image_list, 1)}
    # what one unit costs with every promotion the shopper gets: the checkout's own pipeline (its lines:
    # the page shows no shipping), with the shops' promotions kept as the listings keep them
    # (publishing, changing or stopping one is a catalogue event); when each starts and ends is still
    # read at `now`
    priced_skus = unit_prices([item["sku"] for item in matrix["skus"]], user=request.user, now=now,
                              promotions=partial(_kept_promotions, now=now), shipping=False)
    skus = []
    for item in matrix["skus"]:
        sku = item["sku"]
        sku.slide, sku.image_url = slides.get(sku.image_id, ("", ""))
        sku.stock_count = item["stock"]
        [priced] = priced_skus.prices[sku.pk].lines
        sku.price_text = format_price(priced.net_total.amount, p.currency)
        sku.list_price_text = format_price(sku.price, p.currency) if priced.adjustments else ""
        sku.price_note = priced.explain() if priced.adjustments else ""
        sku.stock_text = _stock_text(sku.stock_count)
        sku.display = sku.label or _("Standard")
        skus.append(sku)
    # 拼团: a live group buy on a SKU offers "开团 ¥xx (N人团)" beside buy now
    deals, group_changes_at = product_offers(product_id=p.pk, now=now, items=lambda: group_items)
    for sku in skus:
        deal = deals.get(sku.pk)
        sku.group_label = _("Open a group %(price)s (%(n)s-person group)") % {
            "price": format_price(deal.group_price, p.currency), "n": deal.campaign.group_size} if deal else ""
    selected = entry["sku"] if entry else None
    flash_badges, flash_changes_at = product_flash_badges(p.pk, now=now, rows=flash_rows)
    is_favourite = False
    if request.user.is_authenticated:
        is_favourite = Favourite.objects.filter(user=request.user, product_id=p.pk).exists()
    if p.min_price == p.max_price:
        price_range = format_price(p.min_price, p.currency)
    else:
        price_range = f"{format_price(p.min_price, p.currency)} – {format_price(p.max_price, p.currency)}"
    path = seo.product_path(p.pk, p.slug)
    description_html, description = _kept_texts(p)
    script_data = {
        "attributes": [{"id": a["id"], "options": [o["id"] for o in a["options"]]} for a in matrix["attributes"]],
        "skus": [{"id": s.pk, "options": item["options"], "stock": s.stock_count, "price": s.price_text,
                  "list_price": s.list_price_text, "price_note": s.price_note,
                  "code": s.code, "name": s.display, "stock_text": s.stock_text, "image": s.image_url, "slide": s.slide,
                  "group": s.group_label} for s, item in zip(skus, matrix["skus"], strict=True)],
        "labels": {"add": _("Add to cart"), "out": _("Out of stock"), **state_labels},
    }
    return {
        "product": p,
        "images": p.image_list,
        "skus": skus,
        "option_groups": matrix["attributes"],
        "option_data": script_data,
        "selected_sku": selected,
        "in_stock": selected is not None and selected.stock_count > 0,
        "price_range": price_range,
        "shop_label": localized(p.shop, "name"),
        "brand_label": localized(p.brand, "name") if p.brand else "",
        "is_favourite": is_favourite,
        "qa_count": qa_count,
        "qa_questions": qa_questions,
        "attributes": p.attribute_list,
        "description_html": description_html,
        "max_quantity": max_units_per_sku(),
        "flash_badge": flash_badges.get(selected.pk) if selected else next(iter(flash_badges.values()), None),
        "flash_changes_at": flash_changes_at,
        "promotion_badges": badges_for(priced_skus.offers, [item["sku"] for item in matrix["skus"]]),
        "price_changes_at": priced_skus.changes_at,
        "group_changes_at": group_changes_at,
        "seo": seo.product_seo(request, p, skus=skus, cover_url=next(iter(slides.values()), ("", ""))[1],
                               rating=rating, path=path, description=description),
        "share_url": seo.share_url(request, path, "product"),
    }


@catalogue_view
def shop(request, slug):
    the_shop = active_shops().filter(slug=slug).first()
    if the_shop is None:
        moved = seo.moved_slug(request, "shop", slug, active_shops(), "storefront:shop")
        if moved is None:
            raise Http404
        return moved
    return shop_page(request, the_shop)


def shop_page(request, the_shop, *, preview=False):
    """The shop's page: its decorated home (published blocks; the draft in the seller's
    preview) on the first page, then its products. Also rendered by shop_views.preview."""
    sort = _sort(request)
    context = _listing_context(request, lambda: published_products(shop_id=the_shop.pk, sort=sort), sort, None,
                               count_key=f"shop:{the_shop.pk}", counter=partial(visible_count, shop_id=the_shop.pk))
    version = None  # the blocks sit above the first page of the listing only
    if context["page"].number == 1:
        version = ShopBlock.Version.DRAFT if preview else ShopBlock.Version.PUBLISHED
    context.update(shop_views.home_context(request, the_shop, decorate=_decorate, version=version))
    context["preview"] = preview
    shop_label = localized(the_shop, "name")
    context.update({
        "seo": _listing_seo(request, context["page"], title=shop_label,
                            description=context["shop_description"] or _("%(name)s at Shopyard") % {"name": shop_label},
                            path=reverse("storefront:shop", args=[the_shop.slug])),
        "share_url": seo.share_url(request, reverse("storefront:shop", args=[the_shop.slug]), "shop"),
        "shop": the_shop,
        "shop_label": localized(the_shop, "name"),
        "free_shipping_over": format_price(the_shop.free_shipping_over, the_shop.currency)
        if the_shop.free_shipping_over is not None else "",
        "shop_rating": review_queries.shop_summary(the_shop.pk),
    })
    return render(request, "storefront/shop.html", context)


def favourites(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    page = _paginate(request, visible_favourite_ids(request.user))
    ids = list(page.object_list)
    products = _decorate(_in_order(with_cover(visible_products().filter(pk__in=ids)), ids)) if ids else []
    return render(request, "storefront/favourites.html", {"page": page, "products": products})


@require_POST
def toggle_favourite(request, pk):
    product_url = reverse("storefront:product", args=[pk])
    if not request.user.is_authenticated:
        return login_redirect(request, product_url)
    action = request.POST.get("action")
    if action not in ("add", "remove"):
        exists = Favourite.objects.filter(user=request.user, product_id=pk).exists()
        action = "remove" if exists else "add"
    try:
        if action == "add":
            catalog_services.add_favourite(actor=request.user, product_id=pk)
        else:
            catalog_services.remove_favourite(actor=request.user, product_id=pk)
    except DomainError as exc:
        if _is_htmx(request):
            return HttpResponse(str(exc.message), status=exc.status)
        return render(request, "storefront/message.html", {"message": exc.message}, status=exc.status)
    is_favourite = action == "add"
    if _is_htmx(request):
        html = render_to_string(
            "storefront/_favourite_button.html",
            {"product_id": pk, "is_favourite": is_favourite, "next": request.POST.get("next", "")},
            request=request,
        )
        return HttpResponse(html)
    messages.success(request, _("Added to your favourites.") if is_favourite else _("Removed from your favourites."))
    nxt = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = product_url
    return redirect(nxt)


def recently_viewed(request):
    ids = _recent_ids(request)
    products = []
    if ids:
        qs = with_cover(visible_products().filter(pk__in=ids))
        products = _decorate(_in_order(qs, ids))
    return render(request, "storefront/recent.html", {"products": products})
