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
    # a run that did nothing is routine (every minute): keep it out of INFO logs
    log.log(logging.INFO if any(results.values()) else logging.DEBUG, "periodic run: %s", results)
    return results


class PeriodicTimer:
    """Runs `run_all` every `interval` seconds on a daemon thread: the embedded
    deployment's stand-in for Celery beat (`shopyard demo`/`serve` start one
    when no BROKER_URL is set). A failing run is logged, never raised, and the
    thread closes its database connections after each run."""

    def __init__(self, interval: float, *, run=None):
        import threading

        self.interval = interval
        self.run = run or run_all
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="shopyard-periodic", daemon=True)

    def start(self) -> "PeriodicTimer":
        self._thread.start()
        log.info("periodic jobs run in-process every %ss", self.interval)
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        from django.db import close_old_connections, connections

        while not self._stop.wait(self.interval):
            try:
                close_old_connections()
                self.run()
            except Exception:
                log.exception("periodic run failed; the next one is in %ss", self.interval)
            finally:
                connections.close_all()
