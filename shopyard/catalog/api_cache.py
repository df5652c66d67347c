"""Assembled bodies of the public catalogue API, kept per catalogue version.

Building a product's JSON costs six queries and a few milliseconds of ORM and
serialisation; the same body is asked for again and again by anonymous
clients. So the body is kept in the cache under a key made of everything it is
built from that can change:

- the catalogue version, bumped (through events) by every edit that changes
  what the API shows: a product's text, images, SKUs or prices, its
  publication, bulk edits, and a shop's name or status;
- for a product, its live row state read with one indexed query per request
  (each active SKU's stock, the product's sales count and `updated_at`), since
  orders move stock and sales without an event and an admin edit may bypass
  the services: a body is never served with stale stock;
- for a listing, the normalised query.

Listings have no live part: their sales counts (and the "sales" order) may lag
by up to API_CACHE_SECONDS, like the storefront's page cache. Counts of a
listing are kept the same way, per filter set, so deep pages do not count the
whole catalogue again. Nothing but successful bodies is kept.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

from shopyard.core.cache_versions import CacheVersion

BODIES = CacheVersion("catalog:api-version")
# what the catalogue API shows changes only through these (and the live state above)
EVENTS = ("product.created", "product.updated", "product.published", "product.unpublished", "products.changed",
          "shop.suspended", "shop.reopened", "shop.updated")


def version() -> int:
    return BODIES.current()


def bump(_payload=None) -> None:
    """Every kept body and count becomes unreachable (called on catalogue events)."""
    BODIES.bump()


def key(kind: str, *parts) -> str:
    raw = "|".join(str(p) for p in parts)
    return f"catalog:api:{kind}:{BODIES.stamp()}:{hashlib.md5(raw.encode()).hexdigest()}"


def kept(cache_key: str, build):
    """The value under `cache_key`, built (and kept) when missing."""
    seconds = settings.API_CACHE_SECONDS
    if seconds <= 0:
        return build()
    value = cache.get(cache_key)
    if value is None:
        value = build()
        if value is not None:
            cache.set(cache_key, value, BODIES.keep_seconds(seconds))
    return value
