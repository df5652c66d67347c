"""bench/aims.py judges a sitting's figures: what it says is met must be what the issue's
targets say, whichever way a target points (at least so many req/s, at most so many ms)."""

import importlib.util
from pathlib import Path

AIMS_PATH = Path(__file__).resolve().parent.parent / "bench" / "aims.py"


def _aims():
    spec = importlib.util.spec_from_file_location("bench_aims", AIMS_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sitting(*, orders=310.0, p99=90.0, sqlite=(700.0, 800.0), postgres=(560.0, 599.9), api=(1900.0, 2800.0)):
    pages = lambda listing, product: {"listing": {"rps": listing}, "product": {"rps": product}}  # noqa: E731
    return {
        "orders": {"orders_per_s": orders, "p99_ms": p99},
        "storefront_sqlite": pages(*sqlite),
        "storefront_postgres": pages(*postgres),
        "api": {"detail_200": {"rps": api[0]}, "list_200": {"rps": api[1]}},
    }


def test_each_figure_is_judged_against_its_own_target_and_direction():
    aims = _aims().judged(_sitting(orders=299.9, p99=150.1, postgres=(400.0, 599.9)), bare=None)
    assert aims["orders_per_s"] == {"figure": 299.9, "target": 300, "met": False}
    assert aims["orders_p99_ms"]["met"] is False  # at most 150 ms
    assert aims["postgres_listing_rps"]["met"] is True  # exactly the target counts as met
    assert aims["postgres_product_rps"]["met"] is False
    assert aims["sqlite_product_rps"]["met"] is True
    assert aims["api_list_rps"]["met"] is True

    met = _aims().judged(_sitting(orders=300.0, p99=149.0, postgres=(401.0, 600.0)), bare=None)
    assert all(a["met"] for a in met.values())


def test_a_figure_is_put_beside_the_bare_view_the_issue_scales_it_by():
    aims = _aims().judged(_sitting(orders=300.0), bare={"one_query": 1740.0, "order": 980.0})
    assert aims["orders_per_s"]["ratio"] == round(300.0 / 980.0, 3)
    assert aims["orders_per_s"]["issue_ratio"] == round(300 / 490, 3)
    assert aims["sqlite_product_rps"]["ratio"] == round(800.0 / 1740.0, 3)
    assert aims["sqlite_product_rps"]["issue_ratio"] == round(600 / 870, 3)
    assert "ratio" not in aims["orders_p99_ms"]


def test_the_large_catalogue_is_judged_against_the_same_sittings_small_one():
    small = _sitting()
    results = {
        **small,
        "storefront_sqlite_100k": {"listing": {"rps": 700.0 * 0.81}, "product": {"rps": 800.0 * 0.79}},
        "storefront_postgres_100k": {"listing": {"rps": 560.0}, "product": {"rps": 650.0}},
        "api_100k": {"detail_200": {"rps": 1900.0}, "list_200": {"rps": 2800.0}},
    }
    aims = _aims().judged_large(results)
    assert aims["storefront_sqlite_100k_listing"]["met"] is True
    assert aims["storefront_sqlite_100k_product"] == {"change": -0.21, "target": -0.2, "met": False}
    assert aims["storefront_postgres_100k_product"]["met"] is True
