"""Items a process keeps and hands on together, rather than one write per request.

Two kinds of work are cheaper done for many requests at once than for each: a
product view's behaviour event (one INSERT per view was its request's only write,
analytics.services) and an order's event deliveries (a transaction, a locking read
and a settling UPDATE around the subscribers of every `order.placed`,
core.events). A `HeldBatch` keeps what a process's requests hand it and calls
`handle(items)` with all of them when it holds `limit`, or `seconds` after the
first of them arrived (a timer thread: a quiet shop's last item is not kept until
the next visitor), or when the process exits normally (its owner registers
`flush` with atexit: gunicorn's graceful stop and restart, a management command).

What that costs, and why each owner accepts it, is said where it is used: an item
reaches its handler up to `seconds` late, and a process killed without exiting
(SIGKILL, the OOM killer, gunicorn's worker timeout) never hands on what it still
held. Items are handed on in the order they arrived. A failed `handle` is logged and
its items dropped: nothing grows without bound while the database is away.
"""

import logging
import os
import threading

log = logging.getLogger("shopyard.held")


class HeldBatch:
    """Items waiting for `handle(items)`, shared by a process's threads; `what` names
    them in the log line of a failure."""

    def __init__(self, handle, *, what: str):
        self._handle = handle
        self.what = what
        self._reset()

    def _reset(self):
        # a new lock too: a fork can copy one that another thread of the parent held
        self._lock = threading.Lock()
        self._items = []
        self._timer = None

    def forget_after_fork(self):
        """In a forked child: the parent hands on what it held, not the child too."""
        self._reset()

    def add(self, items: list, *, limit: int, seconds: float) -> None:
        """Keep `items`; hand on everything kept once there are `limit`, at the latest
        `seconds` after the first of them (on a timer thread)."""
        with self._lock:
            self._items.extend(items)
            if len(self._items) < limit:
                if self._timer is None:
                    timer = threading.Timer(seconds, self._flush_on_timer)
                    timer.daemon = True  # exit flushes without waiting for it
                    self._timer = timer
                    timer.start()
                return
            taken = self._take()
        self._handle_logged(taken)

    def flush(self) -> int:
        """Hand on what is kept now; returns how many items were handed on (0 when it failed)."""
        with self._lock:
            taken = self._take()
        return self._handle_logged(taken)

    def held(self) -> int:
        with self._lock:
            return len(self._items)

    def _take(self) -> list:
        taken, self._items = self._items, []
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
            self._handle_logged(taken)
        finally:
            connections.close_all()  # this thread's own connections: the thread ends here

    def _handle_logged(self, items: list) -> int:
        if not items:
            return 0
        try:
            self._handle(items)
        except Exception:  # never into a request, nor a worker's exit
            log.exception("could not hand on %d %s", len(items), self.what)
            return 0
        return len(items)


def forget_in_children(batch: HeldBatch) -> None:
    os.register_at_fork(after_in_child=batch.forget_after_fork)
