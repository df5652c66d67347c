"""The periodic jobs: plain idempotent service calls, run by Celery beat when a
broker is configured and by `shopyard run-periodic` otherwise.

`core` knows no business app: each app registers its own jobs in its
`AppConfig.ready` with `register(name, fn)`, where `fn(now=None)` returns a
count (or any JSON-able summary) of what it did.
"""

import logging

log = logging.getLogger("shopyard.periodic")

_JOBS: dict = {}


def register(name: str, fn, *, order: int = 100) -> None:
    """Add a job; jobs run by ascending `order` (event delivery last, so it
    delivers what the others emitted). The same name again replaces the job."""
    _JOBS[name] = (order, fn)


def jobs() -> dict:
    return {name: fn for name, (_order, fn) in sorted(_JOBS.items(), key=lambda item: item[1][0])}


def run_all(now=None) -> dict:
    results = {name: fn(now=now) for name, fn in jobs().items()}
    log.info("periodic run: %s", results)
    return results
