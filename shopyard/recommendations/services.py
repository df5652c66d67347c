"""Every write of the recommendations app: the periodic recompute of the
neighbour and popularity tables from the behaviour events.

The recompute reads the last WINDOW of events (at most MAX_EVENTS, newest
first), runs the co-occurrence and popularity of `algorithms`, and replaces
both tables in one transaction, so serving sees the old tables or the new ones,
never half. Then the serving caches move to a new version. It is idempotent:
two runs over the same events write the same rows.
"""

import logging
import secrets
import time
from collections import Counter, defaultdict
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from shopyard.analytics.models import BehaviourEvent

from . import algorithms
from .models import PopularProduct, ProductNeighbour, RecomputeRun

log = logging.getLogger("shopyard.recommendations")

WINDOW = timedelta(days=180)
MAX_EVENTS = 2_000_000
EVERY = timedelta(hours=1)  # the periodic job recomputes at most this often
POPULAR_PER_CATEGORY = 50
POPULAR_OVERALL = 200
VERSION_KEY = "recs:version"


def version() -> int:
    """The serving caches' version. A cache that lost it (flushed, restarted)
    starts from a random one, so lists kept in a process (queries.LOCAL) under
    an old version are never read again."""
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, secrets.randbits(48), None)
        value = cache.get(VERSION_KEY, 1)
    return value


def bump_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)


def events_since(since) -> tuple[list, dict]:
    """The behaviour that recommendations learn from, as algorithm events, and
    each product's category."""
    rows = (BehaviourEvent.objects.filter(created_at__gte=since, product__isnull=False)
            .exclude(kind=BehaviourEvent.Kind.SEARCH).order_by("-created_at", "-id")
            .values_list("user_id", "visitor", "product_id", "kind", "created_at", "product__category_id")
            [:MAX_EVENTS])
    events, categories = [], {}
    for user_id, visitor, product_id, kind, at, category_id in rows.iterator(chunk_size=5000):
        if category_id is None:  # the product is gone
            continue
        actor = f"u{user_id}" if user_id is not None else f"v{visitor}"
        events.append(algorithms.Event(actor, product_id, kind, at.timestamp()))
        categories[product_id] = category_id
    return events, categories


@transaction.atomic
def write_tables(*, neighbours: dict, popular: Counter, categories: dict) -> int:
    """Replace both tables. `neighbours` maps kind -> {product: [(neighbour, score, support)]}."""
    ProductNeighbour.objects.all().delete()
    PopularProduct.objects.all().delete()
    rows = [ProductNeighbour(kind=kind, product_id=product, neighbour_id=n, score=score, support=support)
            for kind, table in neighbours.items() for product, found in table.items()
            for n, score, support in found]
    ProductNeighbour.objects.bulk_create(rows, batch_size=2000)
    by_category = defaultdict(Counter)
    for product, score in popular.items():
        by_category[categories.get(product)][product] = score
    pop_rows = [PopularProduct(category_id=None, product_id=p, rank=n, score=popular[p])
                for n, p in enumerate(algorithms.ranked(popular, POPULAR_OVERALL), 1)]
    for category_id, counter in by_category.items():
        if category_id is not None:
            pop_rows += [PopularProduct(category_id=category_id, product_id=p, rank=n, score=counter[p])
                         for n, p in enumerate(algorithms.ranked(counter, POPULAR_PER_CATEGORY), 1)]
    PopularProduct.objects.bulk_create(pop_rows, batch_size=2000)
    return len(rows)


def recompute(now=None) -> dict:
    """Rebuild the neighbour and popularity tables from recent behaviour."""
    started = time.perf_counter()
    now = now or timezone.now()
    events, categories = events_since(now - WINDOW)
    neighbours = {kind: algorithms.co_occurrence(algorithms.baskets(events, kinds))
                  for kind, kinds in algorithms.KINDS.items()}
    written = write_tables(neighbours=neighbours, popular=algorithms.popularity(events), categories=categories)
    seconds = time.perf_counter() - started
    RecomputeRun.objects.create(finished_at=timezone.now(), events=len(events), neighbours=written, seconds=seconds)
    transaction.on_commit(bump_version)
    log.info("recommendations recomputed: %s events, %s neighbour rows, %.1fs", len(events), written, seconds)
    return {"events": len(events), "neighbours": written, "seconds": round(seconds, 2)}


def recompute_if_due(now=None) -> int:
    """Periodic: recompute when the last run is older than EVERY and shoppers
    did something since. Returns the neighbour rows written (0 when not due)."""
    now = now or timezone.now()
    last = RecomputeRun.objects.order_by("-finished_at").values_list("finished_at", flat=True).first()
    if last is not None:
        if now - last < EVERY or not BehaviourEvent.objects.filter(created_at__gt=last).exists():
            return 0
    elif not BehaviourEvent.objects.exists():
        return 0
    return recompute(now=now)["neighbours"]
