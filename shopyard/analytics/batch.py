"""A process's behaviour events, written together rather than one INSERT per request.

A product page's view event was its request's only write. One INSERT per view cost
0.3 ms of a 4 ms view on SQLite (a write transaction of its own) and 0.6 ms of a
5.5 ms view on PostgreSQL (a round trip, the server's parse and commit), and a
sync gunicorn worker serves nobody meanwhile. Behaviour is a signal for
recommendations and analytics, never a record (core/durability.py says the same of
its commit), so a process keeps what its requests recorded and writes it with one
INSERT when it holds `limit` events, or `seconds` after the first of them arrived
(a timer thread: a quiet shop's last view is not kept until the next visitor), or
when the process exits normally (gunicorn's graceful stop and restart, a
management command).

What that costs, and why it is acceptable for a signal:
- an event reaches the database up to `seconds` late: recommendations and
  dashboards, which are computed periodically anyway, see it then;
- a process killed without exiting (SIGKILL, the OOM killer, gunicorn's worker
  timeout) loses what it still held: at most `limit` events or `seconds` of them;
- a login claims the visitor's anonymous events (services.claim_visitor_events)
  after this process has written what it held; events still held by another
  process are written unclaimed, under the visitor's cookie id, and the next login
  from that browser claims them.

Rows are written in the order they were recorded. A failed write is logged and
its rows dropped, as a request's failed write always was: nothing grows without
bound while the database is away.
"""

import logging
import os
import threading

log = logging.getLogger("shopyard.analytics")


class EventBatch:
    """Rows waiting to be written by `write(rows)`, shared by a process's threads."""

    def __init__(self, write):
        self._write = write
        self._reset()

    def _reset(self):
        # a new lock too: a fork can copy one that another thread of the parent held
        self._lock = threading.Lock()
        self._rows = []
        self._timer = None

    def forget_after_fork(self):
        """In a forked child: the parent writes what it held, not the child too."""
        self._reset()

    def add(self, rows: list, *, limit: int, seconds: float) -> None:
        """Keep `rows`; write everything kept once there are `limit`, at the latest
        `seconds` after the first of them (on a timer thread)."""
        with self._lock:
            self._rows.extend(rows)
            if len(self._rows) < limit:
                if self._timer is None:
                    timer = threading.Timer(seconds, self._flush_on_timer)
                    timer.daemon = True  # exit flushes without waiting for it
                    self._timer = timer
                    timer.start()
                return
            taken = self._take()
        self._write_logged(taken)

    def flush(self) -> int:
        """Write what is kept now; returns how many rows were handed to the write (0 when it failed)."""
        with self._lock:
            taken = self._take()
        return self._write_logged(taken)

    def held(self) -> int:
        with self._lock:
            return len(self._rows)

    def _take(self) -> list:
        taken, self._rows = self._rows, []
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return taken

    def _flush_on_timer(self):
        from django.db import connections

        try:
            with self._lock:
                if self._timer is not threading.current_thread():
                    return  # a newer batch's timer (this one was cancelled after it had fired)
                taken = self._take()
            self._write_logged(taken)
        finally:
            connections.close_all()  # this thread's own connections: the thread ends here

    def _write_logged(self, rows: list) -> int:
        if not rows:
            return 0
        try:
            self._write(rows)
        except Exception:  # analytics never breaks a page, nor a worker's exit
            log.exception("could not write %d behaviour events", len(rows))
            return 0
        return len(rows)


def forget_in_children(batch: EventBatch) -> None:
    os.register_at_fork(after_in_child=batch.forget_after_fork)
