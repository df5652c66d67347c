"""Django's SQLite engine with the query counters of core.db_backends."""

from django_prometheus.db.backends.sqlite3 import base

from .. import counting_cursor


class DatabaseFeatures(base.DatabaseFeatures):
    """The same features as Django's SQLite engine."""


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        factory = self.__dict__.get("_counting_cursor")
        if factory is None:
            factory = self._counting_cursor = counting_cursor(self.CURSOR_CLASS, self.alias, self.vendor)
        return self.connection.cursor(factory=factory)
