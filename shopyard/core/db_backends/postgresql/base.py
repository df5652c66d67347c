"""Django's PostgreSQL engine with the query counters of core.db_backends."""

from django.db.backends.postgresql import base as django_base
from django_prometheus.db.backends.postgresql import base

from .. import counting_cursor


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = django_base.DatabaseWrapper.get_connection_params(self)
        params["cursor_factory"] = counting_cursor(params["cursor_factory"], self.alias, self.vendor)
        return params
