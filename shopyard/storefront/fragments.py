"""Catalogue data kept between requests, for pages the whole-page cache does not serve.

The page cache (page_cache.py) helps only anonymous visitors without a session,
and only for a URL seen before; every other view of a product page or listing
used to read the same catalogue rows again and count the same listing again
(a COUNT over every visible product of the category: the costliest query of a
listing, and the one that grows with the catalogue). What is kept here is what
changes only through catalogue events: a product's rows (title, pictures,
attributes, SKUs and their list prices), a listing's product count and the rows of
each of its pages (products with their shop and pictures), a product's answered questions,
the shops' promotions and a product's group-buy items (their windows are read against
the clock on every view), a product's review rating. Each entry's key holds the page cache's catalogue version,
which every catalogue event bumps (apps.CATALOGUE_EVENTS), so an edit of a
title, a price, a picture, a SKU or a product's visibility shows at the next
request, exactly as it does for cached pages. The entries also expire after
FRAGMENT_CACHE_SECONDS, for what changes without an event (sales counts, ratings).

Never kept: stock and flash-sale units (read live on every view), the prices
themselves (computed per request by the pricing pipeline from the kept rows, at
the request's moment), anything about the visitor.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .page_cache import PAGES
from .templatetags.card_tags import card_template

_MISSING = object()


def enabled() -> bool:
    return settings.FRAGMENT_CACHE_SECONDS > 0


def get_or_build(name: str, key: str, build):
    """`build()`'s value for (name, key) at the current catalogue version, built once per version
    (and, with read replicas, once per source: core.cache_versions). `key` is hashed, as the API's
    and the throttle's keys are: it may hold what a client wrote (a category's slug from its URL,
    of any length), which made keys too long for memcached and a warning per request."""
    if not enabled():
        return build()
    full_key = f"storefront:frag:{PAGES.stamp()}:{name}:{hashlib.md5(key.encode()).hexdigest()}"
    value = cache.get(full_key, _MISSING)
    if value is _MISSING:
        value = build()
        cache.set(full_key, value, PAGES.keep_seconds(settings.FRAGMENT_CACHE_SECONDS))
    return value


def _card_key(language: str, p) -> str:
    # every value the card shows, so an entry can never be stale: a new price, title,
    # picture, badge or sales count is a new key (and the old entry simply expires)
    raw = "\x1f".join(str(v) for v in (
        language, p.pk, p.url, p.cover_url, p.title_text, p.price_text, p.max_price > p.min_price, p.sales_count,
        p.shop_label, *(kind.label for kind in p.promotion_kinds)))
    return "storefront:card:" + hashlib.md5(raw.encode()).hexdigest()


def attach_card_html(products):
    """Give each decorated product (catalog_views._decorate) its card's HTML as `card_html`,
    rendered once per distinct content: a listing's 24 cards were a third of its cost,
    and the same products come back on every sort and page of their category. Returned as
    a CardGrid: the whole grid's HTML is kept too, under the keys of its cards (so it is as
    fresh as they are), and a grid seen before costs one cache read, not one per card."""
    if not enabled() or not products:
        return products
    language = get_language()
    keys = [_card_key(language, p) for p in products]
    grid_key = "storefront:grid:" + hashlib.md5("".join(keys).encode()).hexdigest()
    html = cache.get(grid_key)
    if html is not None:
        return CardGrid(products, html)
    found = cache.get_many(keys)
    template = card_template()
    rendered = {}
    for key, p in zip(keys, products, strict=True):
        html = found.get(key)
        if html is None:
            html = rendered[key] = template.render({"p": p})
        p.card_html = mark_safe(html)  # noqa: S308 - our own template's autoescaped output
    grid = CardGrid(products, "".join(p.card_html for p in products))
    rendered[grid_key] = grid.html
    cache.set_many(rendered, settings.FRAGMENT_CACHE_SECONDS)
    return grid


class CardGrid(list):
    """A grid's products whose cards are all rendered, with the grid's HTML in `html`
    (storefront/_product_grid.html writes it at once): looping over 24 cards in Django's
    template language to write each one's kept HTML was half of what it did for a listing."""

    def __init__(self, products, html):
        super().__init__(products)
        self.html = mark_safe(html)  # noqa: S308 - the cards' own autoescaped HTML
