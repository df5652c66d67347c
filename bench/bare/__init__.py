"""A bare Django project: the yardstick bench/baseline.py measures this machine with.

Issue 12 states its speed aims beside what bare Django views serve "on this
machine"; sessions run on different machines, so the baseline is measured in the
same run as the figures it scales."""
