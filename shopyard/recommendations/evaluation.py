"""Offline evaluation: split behaviour by time, train on the past, score the
top 10 of each shopper against what they did next.

- The split: events sorted by time; the first TRAIN_SHARE of them train, the
  rest test. A test shopper is one with training history who touched, in the
  test period, products they had not touched before (their targets).
- hit-rate@k: share of test shoppers with at least one target in their top k.
- recall@k: mean over test shoppers of (targets in the top k) / (targets).
- coverage: distinct products recommended to anyone / distinct products in training.

Methods: popularity (the baseline: most popular products the shopper has not
touched), co-occurrence (`algorithms.personal`, the home feed production
serves), and the `implicit` library's item-item cosine and ALS on the same
training matrix, as an outside anchor.
"""

import csv
import warnings
from collections import defaultdict
from datetime import datetime

from . import algorithms
from .algorithms import Event

TRAIN_SHARE = 0.8
K = 10
KIND_ALIASES = {"buy": "purchase", "order": "purchase", "purchase": "purchase", "add_to_cart": "cart",
                "addtocart": "cart", "cart": "cart", "view": "view", "click": "view", "favourite": "favourite",
                "favorite": "favourite", "like": "favourite", "transaction": "purchase"}


def split(events, share: float = TRAIN_SHARE):
    events = sorted(events, key=lambda e: e.at)
    if not events:
        return [], []
    cut = events[min(len(events) - 1, int(len(events) * share))].at
    return [e for e in events if e.at < cut], [e for e in events if e.at >= cut]


def targets(train, test) -> dict:
    touched = defaultdict(set)
    for e in train:
        touched[e.actor].add(e.item)
    out = defaultdict(set)
    for e in test:
        if e.actor in touched and e.kind in algorithms.WEIGHTS and e.item not in touched[e.actor]:
            out[e.actor].add(e.item)
    return dict(out)


def histories(train) -> dict:
    """actor -> [(item, kind)] newest first."""
    out = defaultdict(list)
    for e in sorted(train, key=lambda e: e.at, reverse=True):
        if e.kind in algorithms.WEIGHTS:
            out[e.actor].append((e.item, e.kind))
    return out


def score(recommended: dict, wanted: dict, catalogue: int, k: int = K) -> dict:
    hits, recall, shown = 0, 0.0, set()
    for actor, items in wanted.items():
        top = recommended.get(actor, [])[:k]
        shown.update(top)
        found = len(items.intersection(top))
        hits += found > 0
        recall += found / len(items)
    n = len(wanted) or 1
    return {"hit_rate": hits / n, "recall": recall / n, "coverage": len(shown) / (catalogue or 1)}


def popularity_top(train, wanted, hist, k=K) -> dict:
    order = algorithms.ranked(algorithms.popularity(train))
    out = {}
    for actor in wanted:
        seen = {item for item, _kind in hist[actor]}
        out[actor] = [i for i in order if i not in seen][:k]
    return out


def co_occurrence_top(train, wanted, hist, categories=None, k=K) -> dict:
    tables = {kind: {item: [(n, s) for n, s, _c in rows]
                     for item, rows in algorithms.co_occurrence(algorithms.baskets(train, kinds)).items()}
              for kind, kinds in algorithms.KINDS.items()}
    popular = algorithms.popularity(train)
    overall = algorithms.ranked(popular)
    by_category = defaultdict(dict)
    if categories:
        for item, s in popular.items():
            by_category[categories.get(item)][item] = s
        by_category = {c: algorithms.ranked(counter) for c, counter in by_category.items()}
    out = {}
    for actor in wanted:
        events = hist[actor]
        fallback = []
        if categories:
            for cat in dict.fromkeys(categories.get(item) for item, _kind in events):
                fallback += by_category.get(cat, [])[:50]
        out[actor] = algorithms.personal(events[:algorithms.HISTORY], bought=tables["bought"],
                                         viewed=tables["viewed"], fallback=[*fallback, *overall], limit=k)
    return out


def library_tops(train, wanted, k=K) -> dict:
    """The implicit library's recommenders on the same training data: method -> {actor: [items]}."""
    import numpy as np
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import CosineRecommender
    from implicit.utils import ParameterWarning
    from scipy.sparse import csr_matrix
    from threadpoolctl import threadpool_limits

    actors = sorted({e.actor for e in train})
    items = sorted({e.item for e in train})
    row = {a: n for n, a in enumerate(actors)}
    col = {i: n for n, i in enumerate(items)}
    cells = defaultdict(float)
    for e in train:
        weight = algorithms.WEIGHTS.get(e.kind)
        if weight:
            cells[(row[e.actor], col[e.item])] += weight
    rows, cols = zip(*cells, strict=True) if cells else ((), ())
    matrix = csr_matrix((np.fromiter(cells.values(), dtype=np.float32), (rows, cols)),
                        shape=(len(actors), len(items)))
    users = np.array([row[a] for a in wanted], dtype=np.int32)
    out = {}
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ParameterWarning)  # it converts a slice it makes itself
        for name, model in (("implicit item-item cosine", CosineRecommender(K=50)),
                            ("implicit ALS", AlternatingLeastSquares(factors=48, regularization=0.05,
                                                                     iterations=20, random_state=7))):
            model.fit(matrix.tocsr(), show_progress=False)
            ids, _scores = model.recommend(users, matrix[users].tocsr(), N=k, filter_already_liked_items=True)
            out[name] = {a: [items[i] for i in found if i >= 0] for a, found in zip(wanted, ids, strict=True)}
    return out


def evaluate(events, *, categories=None, k: int = K, with_library: bool = True) -> dict:
    """The figures of every method on one time split."""
    train, test = split(events)
    wanted = targets(train, test)
    hist = histories(train)
    catalogue = len({e.item for e in train})
    rows = {"popularity": score(popularity_top(train, wanted, hist, k), wanted, catalogue, k),
            "co-occurrence (ours)": score(co_occurrence_top(train, wanted, hist, categories, k), wanted, catalogue, k)}
    if with_library and wanted:
        for name, tops in library_tops(train, wanted, k).items():
            rows[name] = score(tops, wanted, catalogue, k)
    return {"events": len(events), "train": len(train), "test": len(test), "shoppers": len(wanted),
            "products": catalogue, "methods": rows}


def read_csv(path) -> tuple[list, dict]:
    """Events from a CSV with a header: user, item, and optionally kind
    (view/cart/purchase/favourite and common aliases; default view),
    timestamp (seconds since the epoch or ISO 8601; default the row order) and
    category. Rows with an unknown kind are skipped."""
    events, categories, ids = [], {}, {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = {name.strip().lower(): name for name in reader.fieldnames or []}
        missing = {"user", "item"} - set(fields)
        if missing:
            raise ValueError(f"the CSV needs the columns user and item (missing: {', '.join(sorted(missing))})")
        for n, line in enumerate(reader):
            kind = KIND_ALIASES.get((line.get(fields.get("kind", ""), "") or "view").strip().lower())
            user, raw_item = (line[fields["user"]] or "").strip(), (line[fields["item"]] or "").strip()
            if kind is None or not user or not raw_item:
                continue
            item = ids.setdefault(raw_item, len(ids) + 1)
            events.append(Event(f"u{user}", item, kind, _timestamp(line.get(fields.get("timestamp", "")), n)))
            if "category" in fields and line[fields["category"]]:
                categories[item] = line[fields["category"]].strip()
    return events, categories


def _timestamp(value, default) -> float:
    value = (value or "").strip()
    if not value:
        return float(default)
    try:
        number = float(value)
    except ValueError:
        return datetime.fromisoformat(value).timestamp()
    return number / 1000 if number > 1e11 else number  # milliseconds, as many logs keep them


def table(result: dict, title: str) -> str:
    lines = [f"{title}: {result['events']} events ({result['train']} train, {result['test']} test), "
             f"{result['shoppers']} test shoppers, {result['products']} products",
             f"{'method':<28} {'hit-rate@10':>11} {'recall@10':>10} {'coverage':>9}"]
    for name, row in result["methods"].items():
        lines.append(f"{name:<28} {row['hit_rate']:>11.3f} {row['recall']:>10.3f} {row['coverage']:>9.3f}")
    return "\n".join(lines)
