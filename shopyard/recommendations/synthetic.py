"""A seeded synthetic behaviour log with the structure real shops have, for the
demo and the offline evaluation.

Products fall into taste clusters (the demo uses its root categories), and a
cluster into product lines of a few items that go together (a phone, its case,
its charger). Each shopper has a main cluster and a second one; a visit picks a
cluster (mostly the main one), a line in it (popular lines more often), views a
few of its items, sometimes puts one in the cart and buys it with a line-mate.
A handful of best-sellers are viewed and bought by shoppers of every taste,
which is what a popularity baseline finds and what a good similarity must not
simply repeat.
"""

import random

from .algorithms import Event

LINE_SIZE = 4
DAY = 86400.0


def taste_log(clusters: dict, *, shoppers: int = 600, seed: int = 7, days: int = 60, start: float = 1.7e9,
              best_sellers: int = 5) -> list:
    """Events (actor, item, kind, at) over `days` from `start`; `clusters` maps a
    name to its product ids."""
    rng = random.Random(seed)
    names = sorted(clusters)
    lines = {name: [clusters[name][i:i + LINE_SIZE] for i in range(0, len(clusters[name]), LINE_SIZE)]
             for name in names if clusters[name]}
    names = [n for n in names if n in lines]
    weights = {name: [1 / (n + 1) ** 0.7 for n in range(len(lines[name]))] for name in names}
    every = [item for name in names for item in clusters[name]]
    hot = rng.sample(every, min(best_sellers, len(every)))
    events = []
    for s in range(shoppers):
        actor = f"s{s}"
        main, second = rng.choice(names), rng.choice(names)
        for _visit in range(rng.randint(3, 12)):
            at = start + rng.uniform(0, days * DAY)
            roll = rng.random()
            name = main if roll < 0.75 else second if roll < 0.95 else rng.choice(names)
            line = rng.choices(lines[name], weights=weights[name])[0]
            seen = []
            for _n in range(rng.randint(2, 5)):
                item = rng.choice(line) if rng.random() < 0.7 else rng.choice(clusters[name])
                seen.append(item)
                events.append(Event(actor, item, "view", at))
                at += rng.uniform(10, 120)
            if rng.random() < 0.35:
                item = rng.choice(hot)
                events.append(Event(actor, item, "view", at))
                if rng.random() < 0.4:
                    events.append(Event(actor, item, "purchase", at + 30))
            if rng.random() < 0.4:
                item = rng.choice(seen)
                events.append(Event(actor, item, "cart", at + 60))
                if rng.random() < 0.6:
                    events.append(Event(actor, item, "purchase", at + 120))
                    mate = rng.choice(line)
                    if mate != item and rng.random() < 0.5:
                        events.append(Event(actor, mate, "purchase", at + 121))
            if rng.random() < 0.1:
                events.append(Event(actor, rng.choice(seen), "favourite", at + 5))
    events.sort(key=lambda e: e.at)
    return events


def abstract_catalogue(clusters: int = 12, per_cluster: int = 40) -> tuple[dict, dict]:
    """Cluster name -> product ids, and product -> category, for a catalogue of plain numbers."""
    groups = {f"c{c:02d}": list(range(c * per_cluster + 1, (c + 1) * per_cluster + 1)) for c in range(clusters)}
    categories = {item: c for c, (_name, items) in enumerate(sorted(groups.items())) for item in items}
    return groups, categories
