"""The database engines (core.db_backends) count statements, their time and their errors in
django-prometheus's series, as its own engines did: per statement, per executemany row,
per error type, on whichever database the tests run."""

import pytest
from django.db import DatabaseError, connection, transaction
from django_prometheus.db import (
    errors_total,
    execute_many_total,
    execute_total,
    query_duration_seconds,
)

pytestmark = pytest.mark.django_db


def _value(metric, **labels):
    return metric.labels(**labels)._value.get()


def _observed(**labels):
    histogram = query_duration_seconds.labels(**labels)
    return sum(bucket.get() for bucket in histogram._buckets)


def test_statements_rows_and_time_are_counted():
    labels = {"alias": "default", "vendor": connection.vendor}
    before = (_value(execute_total, **labels), _value(execute_many_total, **labels), _observed(**labels))
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT 1")
        cursor.execute("CREATE TEMPORARY TABLE metrics_probe (n integer)")
        cursor.executemany("INSERT INTO metrics_probe (n) VALUES (%s)", [(1,), (2,), (3,), (4,)])
    after = (_value(execute_total, **labels), _value(execute_many_total, **labels), _observed(**labels))
    assert after[0] - before[0] == 3 + 1 + 4  # an executemany counts its rows, as django-prometheus does
    assert after[1] - before[1] == 4
    assert after[2] - before[2] == 3 + 1 + 1  # one timing per call


def _fail():
    # in a savepoint: on PostgreSQL a failed statement spoils the rest of its transaction
    with pytest.raises(DatabaseError) as raised, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_here")
    return type(raised.value.__cause__).__name__  # the driver's error, which Django wraps


def test_a_failed_statement_is_counted_by_its_error_type_and_still_raises():
    labels = {"alias": "default", "vendor": connection.vendor}
    kind = _fail()
    before = _value(errors_total, type=kind, **labels)
    assert _fail() == kind
    assert _value(errors_total, type=kind, **labels) - before == 1
