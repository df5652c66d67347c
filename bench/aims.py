"""Every speed aim of issue 12 in one sitting: the benchmarks that measure them, one
after another, between two readings of this machine's yardstick (bench/baseline.py).

    python bench/aims.py [--large] [--seconds 10] [--skip-baseline]

A figure on a shared 2-core machine moves with the hour (the same commit has served
the product page at 581 and at 917 req/s on the same day), so an aim is judged only
against figures of the same sitting, and each comes with its yardstick: the bare
views' figures before and after it (machine_factor: the one-query view over the
issue's 870; ratio: the figure over the bare view it is scaled by in the issue).
`--large` adds the 100,000-product runs and judges them against the 10,000 ones
(within 20 %).

Prints each benchmark's own line as it ends, then one line: every aim with its
figure, its target and whether it was met, and the yardsticks.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable

# (name, command): each prints one JSON line
RUNS = [
    ("orders", ["orders.py", "--db", "postgres"]),
    ("storefront_sqlite", ["storefront.py", "--db", "sqlite", "--page-cache", "0"]),
    ("storefront_postgres", ["storefront.py", "--db", "postgres", "--page-cache", "0"]),
    ("api", ["api.py", "--db", "postgres"]),
]
LARGE = [
    ("storefront_sqlite_100k", ["storefront.py", "--db", "sqlite", "--page-cache", "0", "--products", "100000"]),
    ("storefront_postgres_100k", ["storefront.py", "--db", "postgres", "--page-cache", "0", "--products", "100000"]),
    ("api_100k", ["api.py", "--db", "postgres", "--products", "100000"]),
]
# (aim, run, path to the figure, at least / at most, target, bare view it is scaled by)
AIMS = [
    ("orders_per_s", "orders", ("orders_per_s",), "min", 300, "order"),
    ("orders_p99_ms", "orders", ("p99_ms",), "max", 150, None),
    ("sqlite_listing_rps", "storefront_sqlite", ("listing", "rps"), "min", 400, "one_query"),
    ("sqlite_product_rps", "storefront_sqlite", ("product", "rps"), "min", 600, "one_query"),
    ("postgres_listing_rps", "storefront_postgres", ("listing", "rps"), "min", 400, "one_query"),
    ("postgres_product_rps", "storefront_postgres", ("product", "rps"), "min", 600, "one_query"),
    ("api_detail_rps", "api", ("detail_200", "rps"), "min", 800, "one_query"),
    ("api_list_rps", "api", ("list_200", "rps"), "min", 500, "one_query"),
]
ISSUE_BARE = {"one_query": 870, "order": 490}  # the issue's bare views (bench/baseline.py)


def run(script_args, seconds):
    cmd = [PY, os.path.join(HERE, script_args[0]), *script_args[1:], "--seconds", str(seconds)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    print(lines[-1], flush=True)
    return json.loads(lines[-1])


def dig(figures, path):
    for key in path:
        figures = figures[key]
    return figures


def judged(results, bare):
    aims = {}
    for name, source, path, kind, target, scale in AIMS:
        figure = dig(results[source], path)
        entry = {"figure": figure, "target": target, "met": figure >= target if kind == "min" else figure <= target}
        if scale and bare:
            # the issue's target over its bare view, against this figure over this sitting's bare view
            entry["ratio"] = round(figure / bare[scale], 3)
            entry["issue_ratio"] = round(target / ISSUE_BARE[scale], 3)
        aims[name] = entry
    return aims


def judged_large(results):
    pairs = [("storefront_sqlite_100k", "storefront_sqlite", ("listing", "product")),
             ("storefront_postgres_100k", "storefront_postgres", ("listing", "product")),
             ("api_100k", "api", ("detail_200", "list_200"))]
    aims = {}
    for large, small, kinds in pairs:
        for kind in kinds:
            change = results[large][kind]["rps"] / results[small][kind]["rps"] - 1
            aims[f"{large}_{kind}"] = {"change": round(change, 3), "target": -0.2, "met": change >= -0.2}
    return aims


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--large", action="store_true", help="also the 100,000-product runs (within 20 %% of 10,000)")
    ap.add_argument("--skip-baseline", action="store_true", help="no bare-view yardstick (and no ratios)")
    args = ap.parse_args()
    yardsticks = []
    if not args.skip_baseline:
        yardsticks.append(run(["baseline.py", "--db", "postgres"], args.seconds))
    results = {name: run(cmd, args.seconds) for name, cmd in RUNS + (LARGE if args.large else [])}
    if not args.skip_baseline:
        yardsticks.append(run(["baseline.py", "--db", "postgres"], args.seconds))
    # the mean of the readings before and after: the sitting's hour, neither its best nor its worst
    bare = {k: sum(y[k]["rps"] for y in yardsticks) / len(yardsticks) for k in ISSUE_BARE} if yardsticks else None
    aims = judged(results, bare)
    if args.large:
        aims.update(judged_large(results))
    print(json.dumps({
        "bench": "aims", "all_met": all(a["met"] for a in aims.values()), "aims": aims,
        "machine_factor": [y["machine_factor"] for y in yardsticks],
        "bare_rps": [{k: y[k]["rps"] for k in ISSUE_BARE} for y in yardsticks],
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
