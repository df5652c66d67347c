"""Serving recommendations: precomputed id lists (cached), filtered by catalog
visibility at read time, turned into product cards.

Every list costs: its id lists from the cache (one query for those missing),
then ONE query for which candidates are visible (ids only, every time), and
the shown products' card rows (product, shop, cover: catalog.queries.with_cover),
two queries for those not kept in this process in the last minute. The product itself is never in its
own lists; unpublished products, inactive SKUs' products and suspended shops'
products never show, whatever the table says, because the cards come from
`visible_products()`.
"""

import copy
import threading
import time
from collections import OrderedDict

from django.core.cache import cache

from shopyard.analytics.models import BehaviourEvent
from shopyard.catalog.models import Product
from shopyard.catalog.queries import visible_products, with_cover

from . import algorithms
from .models import PopularProduct, ProductNeighbour
from .services import version

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
CANDIDATES = 3  # candidates read per card wanted: some may be hidden now
CACHE_SECONDS = 600
FEED_SECONDS = 60  # a shopper's home feed follows what they did within a minute
CARD_SECONDS = 60  # a card's title, price and cover may lag an edit by this much (visibility never does)


class Local:
    """A bounded in-process copy of cached id lists, in front of the shared cache.

    The lists change only when a recompute moves the version (read from the
    shared cache on every call, so every process sees it at once) or, for a
    home feed, after its seconds; keeping them here saves a cache round trip per
    list (and, with the local-memory cache, its small size evicting them)."""

    def __init__(self, size: int):
        self.size = size
        self.items = OrderedDict()
        self.lock = threading.Lock()

    def get_many(self, keys) -> dict:
        now = time.monotonic()
        out = {}
        with self.lock:
            for key in keys:
                entry = self.items.get(key)
                if entry is not None and entry[0] > now:
                    self.items.move_to_end(key)
                    out[key] = entry[1]
        return out

    def set_many(self, values: dict, seconds: float) -> None:
        until = time.monotonic() + seconds
        with self.lock:
            for key, value in values.items():
                self.items[key] = (until, value)
                self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


LOCAL = Local(50_000)


def _get_many(keys) -> dict:
    found = LOCAL.get_many(keys)
    missing = [k for k in keys if k not in found]
    if missing:
        shared = cache.get_many(missing)
        if shared:
            LOCAL.set_many(shared, CACHE_SECONDS)
            found.update(shared)
    return found


def _set_many(values: dict, seconds: float) -> None:
    cache.set_many(values, seconds)
    LOCAL.set_many(values, seconds)


def _key(*parts) -> str:
    return ":".join(["recs", str(version()), *map(str, parts)])


def neighbour_lists(product_ids, kind: str) -> dict:
    """product -> [(neighbour, score)] best first, from the cache or one query."""
    product_ids = list(dict.fromkeys(product_ids))
    if not product_ids:
        return {}
    prefix = _key("n", kind)
    keys = {pid: f"{prefix}:{pid}" for pid in product_ids}
    found = _get_many(list(keys.values()))
    out = {pid: found[k] for pid, k in keys.items() if k in found}
    missing = [pid for pid in product_ids if pid not in out]
    if missing:
        loaded = {pid: [] for pid in missing}
        rows = (ProductNeighbour.objects.filter(kind=kind, product_id__in=missing)
                .order_by("product_id", "-score", "neighbour_id").values_list("product_id", "neighbour_id", "score"))
        for pid, neighbour, score in rows:
            loaded[pid].append((neighbour, score))
        _set_many({keys[pid]: rows for pid, rows in loaded.items()}, CACHE_SECONDS)
        out.update(loaded)
    return out


def popular_lists(category_ids) -> dict:
    """category (None: overall) -> the most popular products, from the cache or one query."""
    category_ids = list(dict.fromkeys(category_ids))
    prefix = _key("p")
    keys = {cid: f"{prefix}:{cid or 0}" for cid in category_ids}
    found = _get_many(list(keys.values()))
    out = {cid: found[k] for cid, k in keys.items() if k in found}
    missing = [cid for cid in category_ids if cid not in out]
    if missing:
        loaded = {cid: [] for cid in missing}
        real = [c for c in missing if c is not None]
        qs = PopularProduct.objects.none()
        if real:
            qs = PopularProduct.objects.filter(category_id__in=real)
        if None in missing:
            qs = qs | PopularProduct.objects.filter(category__isnull=True)
        for cid, pid in qs.order_by("category_id", "rank").values_list("category_id", "product_id"):
            loaded[cid].append(pid)
        _set_many({keys[cid]: ids for cid, ids in loaded.items()}, CACHE_SECONDS)
        out.update(loaded)
    return out


def cards(candidates, *, limit: int, exclude=()) -> list:
    """The visible products among `candidates`, in their order, at most `limit`."""
    exclude = set(exclude)
    ids = [pid for pid in dict.fromkeys(candidates) if pid not in exclude][: limit * CANDIDATES]
    if not ids or limit <= 0:
        return []
    # which candidates may be shown: asked every time (ids only, cheap), so a
    # product hidden a moment ago is gone from the next list
    visible = set(visible_products().filter(pk__in=ids).values_list("pk", flat=True))
    chosen = [pid for pid in ids if pid in visible][:limit]
    if not chosen:
        return []
    # the cards' rows (product, shop, cover) are kept in this process for CARD_SECONDS
    prefix = _key("c")
    keys = {pid: f"{prefix}:{pid}" for pid in chosen}
    found = LOCAL.get_many(list(keys.values()))
    by_id = {pid: found[k] for pid, k in keys.items() if k in found}
    missing = [pid for pid in chosen if pid not in by_id]
    if missing:
        loaded = {p.pk: p for p in with_cover(Product.objects.filter(pk__in=missing))}
        LOCAL.set_many({keys[pid]: p for pid, p in loaded.items()}, CARD_SECONDS)
        by_id.update(loaded)
    # a copy per caller: pages decorate their cards (price text, badges) in place
    return [copy.copy(by_id[pid]) for pid in chosen if pid in by_id]


def clamp(limit) -> int:
    return max(1, min(int(limit or DEFAULT_LIMIT), MAX_LIMIT))


def _ids(rows) -> list:
    return [pid for pid, _score in rows]


def product_candidates(product, kind: str) -> list:
    """A product's neighbours of `kind`, then its category's best-sellers."""
    neighbours = _ids(neighbour_lists([product.pk], kind)[product.pk])
    popular = popular_lists([product.category_id, None])
    return [*neighbours, *popular[product.category_id], *popular[None]] if kind == "viewed" else neighbours


def bought_together(product, *, limit=DEFAULT_LIMIT) -> list:
    return cards(product_candidates(product, "bought"), limit=clamp(limit), exclude=[product.pk])


def similar(product, *, limit=DEFAULT_LIMIT) -> list:
    return cards(product_candidates(product, "viewed"), limit=clamp(limit), exclude=[product.pk])


def product_blocks(product, *, limit=6) -> dict:
    """The product page's two blocks in one product query (plus images): bought
    together, and similar (viewed together, then the category's best-sellers),
    without repeating a product across them."""
    bought = [p for p in product_candidates(product, "bought") if p != product.pk][:limit * CANDIDATES]
    viewed = [p for p in product_candidates(product, "viewed") if p != product.pk][:limit * CANDIDATES * 2]
    found = {p.pk: p for p in cards([*bought, *viewed], limit=len(bought) + len(viewed))}
    together = [found[p] for p in bought if p in found][:limit]
    taken = {p.pk for p in together}
    alike = [found[p] for p in dict.fromkeys(viewed) if p in found and p not in taken][:limit]
    return {"bought_together": together, "similar": alike}


def cart_addons(product_ids, *, limit=DEFAULT_LIMIT) -> list:
    """Products bought with what is in the cart, the strongest pairing first.
    A candidate ranks by its best pairing with one cart product (ties by the
    sum over the cart): a sum alone would put the best-seller, a weak
    neighbour of everything, above the true partners of a full cart."""
    product_ids = list(product_ids)[:MAX_LIMIT]
    best, total = {}, {}
    for rows in neighbour_lists(product_ids, "bought").values():
        for pid, score in rows:
            best[pid] = max(best.get(pid, 0.0), score)
            total[pid] = total.get(pid, 0.0) + score
    ranked = sorted(best, key=lambda pid: (-best[pid], -total[pid], pid))
    return cards(ranked, limit=clamp(limit), exclude=product_ids)


def history(*, user_id=None, visitor: str = "") -> list:
    """A shopper's newest events: [(product, kind, category)], newest first."""
    if user_id is not None:
        qs = BehaviourEvent.objects.filter(user_id=user_id)
    elif visitor:
        qs = BehaviourEvent.objects.filter(visitor=visitor, user__isnull=True)
    else:
        return []
    return list(qs.filter(product__isnull=False).exclude(kind=BehaviourEvent.Kind.SEARCH)
                .order_by("-created_at", "-id").values_list("product_id", "kind", "product__category_id")
                [:algorithms.HISTORY])


def for_you_ids(*, user_id=None, visitor: str = "", limit=DEFAULT_LIMIT) -> list:
    """The home feed's candidate ids: neighbours of the shopper's recent
    behaviour, then their categories' best-sellers, then the overall ones."""
    key = _key("f", f"u{user_id}" if user_id is not None else f"v{visitor}", limit)
    if user_id is not None or visitor:
        cached = _get_many([key]).get(key)
        if cached is not None:
            return cached
    events = history(user_id=user_id, visitor=visitor)
    items = [pid for pid, _kind, _cat in events]
    bought = neighbour_lists(items, "bought")
    viewed = neighbour_lists(items, "viewed")
    categories = [cat for _pid, _kind, cat in events if cat is not None]
    popular = popular_lists([*categories, None])
    fallback = [pid for cid in dict.fromkeys([*categories, None]) for pid in popular[cid]]
    ids = algorithms.personal([(pid, kind) for pid, kind, _cat in events], bought=bought, viewed=viewed,
                              fallback=fallback, limit=limit * CANDIDATES)
    if user_id is not None or visitor:
        _set_many({key: ids}, FEED_SECONDS)
    return ids


def for_you(*, user_id=None, visitor: str = "", limit=DEFAULT_LIMIT) -> list:
    limit = clamp(limit)
    return cards(for_you_ids(user_id=user_id, visitor=visitor, limit=limit), limit=limit)
