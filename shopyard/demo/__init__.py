"""Demo and benchmark data (`load_demo`, `load_bench_catalog`): it builds
users, shops, products and orders through every business app's services, so
it lives above them all and nothing imports it."""
