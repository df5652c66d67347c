"""Which tables a block of code wrote rows to, seen on the connection itself.

Hashing every table before and after a call (what tests/test_tenant_matrix.py
did for each refused call) reads the whole database twice per call and was
most of the suite's time. Every write Django makes, ORM or raw cursor, goes
through the connection's execute wrappers, so watching the statements as they
run is exact and costs nothing: an INSERT, UPDATE or DELETE that touched a
row names its table (an INSERT always does); a statement whose effect cannot be read (no rowcount, or
a shape we do not parse) counts as a write to an unknown table, so a doubt
fails the caller instead of passing it. This is stricter than comparing
hashes: a row written and then put back still counts.
"""

import re
from contextlib import contextmanager

from django.apps import apps
from django.db import connection

# the statement kinds that never change a row
_READS = re.compile(r"\s*(SELECT|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET|SHOW|EXPLAIN|PRAGMA)\b", re.I)
_WRITE = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
                    r"\s+[\"`]?(\w+)[\"`]?", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)
UNKNOWN = "?"


def table_of(model) -> str:
    return model._meta.db_table


def tables_of_apps(labels) -> set[str]:
    """The database tables of the models (and their many-to-many tables) of these apps."""
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in labels:
            tables.add(model._meta.db_table)
    return tables


# a statement that begins with WITH, and the writes it holds (PostgreSQL's data-modifying WITH)
_WITH = re.compile(r"\s*WITH\b", re.I)
_ANY_WRITE = re.compile(r"(?<!FOR )\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?(\w+)[\"`]?", re.I)


def _written_tables(sql: str, rowcount) -> set:
    """The tables a statement may have written to: `_written_table`'s one for a plain
    statement; for a WITH, each of its writes (counted whatever the row count), none
    when it holds no write verb, and an unknown one when a verb is there but unread."""
    if not _WITH.match(sql):
        return {_written_table(sql, rowcount)}
    tables = set(_ANY_WRITE.findall(sql))
    if tables:
        return tables
    return {UNKNOWN} if re.search(r"\b(INSERT|DELETE)\b|(?<!FOR )\bUPDATE\b", sql, re.I) else set()


def _written_table(sql: str, rowcount) -> str | None:
    if _READS.match(sql):
        return None
    match = _WRITE.match(sql)
    if not match:
        return UNKNOWN
    # an UPDATE/DELETE whose WHERE matched nothing wrote nothing; an INSERT always counts
    # (SQLite reports no rowcount for INSERT ... RETURNING until its rows are fetched)
    if rowcount == 0 and not re.match(r"\s*(INSERT|REPLACE)", sql, re.I) and not _RETURNING.search(sql):
        return None
    return match.group(1)


@contextmanager
def recording_writes(ignore: set[str] = frozenset()):
    """Yield a set that collects the tables (not in `ignore`) written to inside the block."""
    written = set()

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        for table in _written_tables(str(sql), getattr(context["cursor"], "rowcount", -1)):
            if table is not None and table not in ignore:
                written.add(table)
        return result

    with connection.execute_wrapper(wrapper):
        yield written
