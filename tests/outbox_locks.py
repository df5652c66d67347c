"""An outbox event held by another worker (tests of dispatches that must skip it)."""

import threading

from django.db import connection, transaction

from shopyard.core.models import OutboxEvent


def run_while_another_worker_holds(event_pk, action):
    """Run `action()` in a thread while another thread holds `event_pk`'s row locked (as a
    delivery of it in progress does); returns (whether `action` was still waiting after 10 s,
    what it returned, in a list). PostgreSQL only: SQLite's transaction locks the whole file."""
    locked, done = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(OutboxEvent.objects.select_for_update().filter(pk=event_pk))
                locked.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    assert locked.wait(timeout=30)
    outcome = []

    def run():
        try:
            outcome.append(action())
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=10)
    waited = worker.is_alive()
    done.set()
    holder.join(timeout=30)
    worker.join(timeout=30)
    return waited, outcome
