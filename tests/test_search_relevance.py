"""Relevance: the labelled query set of tests/data/search_relevance.json
(Chinese, pinyin, initials, English, synonyms, brands, typos) over its fixture
catalogue; NDCG@10 over all queries must stay above THRESHOLD, and each kind
of query must find its best product first. The figure is printed (pytest -s)."""

import json
import math
from pathlib import Path

import pytest

from shopyard.search.queries import search

pytestmark = pytest.mark.django_db

DATA = json.loads((Path(__file__).parent / "data" / "search_relevance.json").read_text("utf-8"))
THRESHOLD = 0.90


def ndcg_at_10(ranked: list[str], relevant: dict) -> float:
    dcg = sum((2 ** relevant.get(key, 0) - 1) / math.log2(i + 2) for i, key in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def test_ndcg_at_10_stays_above_the_threshold(search_catalogue):
    # given the labelled catalogue, indexed
    key_of = {p.pk: key for key, p in search_catalogue.items()}
    scores, by_kind, misses = {}, {}, []
    # when every labelled query is searched
    for item in DATA["queries"]:
        ranked = [key_of[pk] for pk in search(item["q"]).ids]
        scores[item["q"]] = ndcg_at_10(ranked, item["relevant"])
        by_kind.setdefault(item["kind"], []).append(scores[item["q"]])
        best = max(item["relevant"].values())
        if not ranked or item["relevant"].get(ranked[0], 0) != best:
            misses.append((item["q"], ranked[:3]))
    mean = sum(scores.values()) / len(scores)
    print(f"\nsearch NDCG@10 = {mean:.3f} over {len(scores)} queries; by kind: "
          + ", ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in sorted(by_kind.items())))
    # then the mean is above the threshold and every query finds a best product first
    assert mean >= THRESHOLD, {q: round(s, 3) for q, s in scores.items() if s < 1}
    assert misses == [], misses
