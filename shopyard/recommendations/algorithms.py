"""The recommenders as plain functions over behaviour tuples, shared by the
production recompute (services), serving (queries) and the offline evaluation
(evaluation), so the figures `recommend_eval` prints are those of the code
that serves.

Item-to-item co-occurrence: two products are neighbours when the same shoppers
touched both. The score is the cosine of their shopper sets,
c(i, j) / sqrt(n(i) · n(j)), kept only when at least MIN_SUPPORT shoppers
touched both. Unlike a raw count (which ranks the best-seller first for every
product, since everyone buys it), the cosine divides by the best-seller's huge
n(j): a niche product bought with i by half of i's buyers outranks a
best-seller bought by all of them.
"""

import math
from collections import Counter, defaultdict
from itertools import combinations
from typing import NamedTuple

MIN_SUPPORT = 2  # shoppers who touched both, below which a pair is noise
TOP_NEIGHBOURS = 50  # per product and kind, kept in the table
ITEMS_PER_SHOPPER = 60  # the newest distinct products of one shopper that pair up (bounds the work per shopper)
HISTORY = 50  # the newest events of a shopper the home feed starts from
DECAY = 0.98  # weight of a shopper's n-th newest event: DECAY ** n
BOUGHT_BOOST = 1.5  # bought together weighs more than viewed together in the home feed

# how much one event says about a shopper's taste
WEIGHTS = {"purchase": 4.0, "cart": 3.0, "favourite": 2.0, "view": 1.0}
# the kinds each neighbour table learns from
BOUGHT_KINDS = ("purchase", "cart")
VIEWED_KINDS = ("view", "favourite", "cart", "purchase")
KINDS = {"bought": BOUGHT_KINDS, "viewed": VIEWED_KINDS}


class Event(NamedTuple):
    actor: str  # "u<user id>" or "v<visitor id>"
    item: int
    kind: str
    at: float  # seconds since the epoch


def baskets(events, kinds) -> dict:
    """Each shopper's distinct products of the given kinds, oldest first."""
    by_actor = defaultdict(dict)
    for e in sorted(events, key=lambda e: e.at):
        if e.kind in kinds:
            by_actor[e.actor].pop(e.item, None)
            by_actor[e.actor][e.item] = None
    return {actor: list(items)[-ITEMS_PER_SHOPPER:] for actor, items in by_actor.items()}


def co_occurrence(shopper_items: dict, *, min_support: int = MIN_SUPPORT, top: int = TOP_NEIGHBOURS) -> dict:
    """product -> [(neighbour, cosine, support)], best first, at most `top`."""
    counts = Counter()
    pairs = Counter()
    for items in shopper_items.values():
        counts.update(items)
        if len(items) > 1:
            pairs.update(combinations(sorted(items), 2))
    found = defaultdict(list)
    for (a, b), c in pairs.items():
        if c < min_support:
            continue
        score = c / math.sqrt(counts[a] * counts[b])
        found[a].append((b, score, c))
        found[b].append((a, score, c))
    return {item: sorted(rows, key=lambda r: (-r[1], -r[2], r[0]))[:top] for item, rows in found.items()}


def popularity(events) -> Counter:
    """product -> weighted count of what shoppers did with it."""
    score = Counter()
    for e in events:
        weight = WEIGHTS.get(e.kind)
        if weight:
            score[e.item] += weight
    return score


def ranked(counter: Counter, top: int | None = None) -> list:
    return [item for item, _s in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


def personal(history, *, bought: dict, viewed: dict, fallback, exclude=(), limit: int = 10) -> list:
    """The home feed of a shopper whose events, newest first, are `history`
    ([(product, kind)]): the neighbours of what they did, weighted by how
    strong and how recent each event is, then `fallback` (popular products in
    their categories, then everywhere) to fill the list. Products they already
    touched are left out. `bought`/`viewed` map a product to [(neighbour, score), ...]."""
    seen = set(exclude) | {item for item, _kind in history}
    scores = defaultdict(float)
    for n, (item, kind) in enumerate(history[:HISTORY]):
        weight = WEIGHTS.get(kind, 0.0) * DECAY ** n
        if not weight:
            continue
        for neighbour, score in viewed.get(item, ()):
            scores[neighbour] += weight * score
        for neighbour, score in bought.get(item, ()):
            scores[neighbour] += weight * score * BOUGHT_BOOST
    out = [item for item, _s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])) if item not in seen][:limit]
    if len(out) < limit:
        chosen = set(out)
        for item in fallback:
            if item not in seen and item not in chosen:
                out.append(item)
                chosen.add(item)
                if len(out) == limit:
                    break
    return out
