"""Database engines: Django's, with django-prometheus's query counters (counts, time, errors
per alias and vendor) kept as that library keeps them, at less cost per statement.

django-prometheus's SQLite engine built a new cursor class for every cursor, and both of
its engines looked up each counter's labelled series on every statement (three lookups
and a context object per statement): together a twelfth of a product page's CPU, which
makes about ten statements. Here the cursor class is built once per connection and the
series are looked up once per class. The metrics are the same series, with the same
names and labels (django_db_execute_total, django_db_query_duration_seconds,
django_db_errors_total, django_db_new_connections_total)."""

from django_prometheus.db import (
    errors_total,
    execute_many_total,
    execute_total,
    query_duration_seconds,
)


def counting_cursor(cursor_class, alias, vendor):
    """A subclass of `cursor_class` counting what django-prometheus's cursor counts."""
    executed = execute_total.labels(alias, vendor)
    executed_many = execute_many_total.labels(alias, vendor)
    duration = query_duration_seconds.labels(alias=alias, vendor=vendor)

    def failed(exc):
        errors_total.labels(alias=alias, vendor=vendor, type=type(exc).__name__).inc()

    class CountingCursor(cursor_class):
        def execute(self, *args, **kwargs):
            executed.inc()
            try:
                with duration.time():
                    return super().execute(*args, **kwargs)
            except Exception as exc:
                failed(exc)
                raise

        def executemany(self, query, param_list, *args, **kwargs):
            executed.inc(len(param_list))
            executed_many.inc(len(param_list))
            try:
                with duration.time():
                    return super().executemany(query, param_list, *args, **kwargs)
            except Exception as exc:
                failed(exc)
                raise

    return CountingCursor
