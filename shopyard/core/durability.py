"""Commits that need not wait for the disk.

PostgreSQL makes a commit wait until its WAL is flushed to disk (synchronous_commit).
On the 2-core machine of issue 12 that wait was 1.5–2.5 ms per commit, far more than
the statement itself (0.08 ms), and a sync gunicorn worker serves nobody while it
waits: a product page's behaviour event and an order's event deliveries each paid it.

Some writes lose nothing that matters if a crash takes them, so their commit may return
before the flush (PostgreSQL's asynchronous commit: a server crash loses at most the last
few hundred milliseconds of such transactions; it never corrupts data, and a durable
commit that follows one flushes it too):
- a behaviour event: a signal for recommendations and analytics, never a record;
- an event's deliveries (core.events): a handler's writes commit together with its
  delivery's mark, so a lost commit leaves the delivery pending and the outbox delivers
  it again, still exactly once for the database writes.
Never an order, a payment, stock, a refund or anything a response promised.

Only a transaction this code starts is relaxed: inside a caller's transaction the
statement or block stays as it is, and the caller's commit keeps waiting for the disk.
SQLite in WAL mode with synchronous=NORMAL (settings.DATABASES) already commits without
a flush; nothing changes there.
"""

from contextlib import contextmanager

from django.db import connections, transaction

RELAX = "set_config('synchronous_commit', 'off', true)"


def relaxed_statement(connection, sql: str) -> str:
    """`sql`, an INSERT, UPDATE or DELETE without RETURNING, so that when it runs on its
    own (autocommit) its commit does not wait for the disk: the setting is made while the
    statement runs, for its own transaction only."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return f"{sql} RETURNING {RELAX}"
    return sql


@contextmanager
def relaxed_atomic(using: str, *, carried: bool = False):
    """`transaction.atomic(using=using)` whose commit does not wait for the disk, when it is
    the outermost block (no transaction was open before it).

    With `carried` the setting is not sent on its own: the block gives True when it must be
    made, and the caller makes it in its first statement (`RELAX` in the select list of a read
    that returns a row whenever the block goes on to write), one round trip less; a block whose
    read returned nothing must write nothing. Otherwise the block gives False."""
    connection = connections[using]
    relax = not connection.in_atomic_block and connection.vendor == "postgresql"
    with transaction.atomic(using=using):
        if relax and not carried:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {RELAX}")
        yield relax and carried
