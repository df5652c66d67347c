"""Schema operations for migrations that run while the shop takes orders.

docs/operations.md's upgrade rule (expand, then contract) has the old release keep
serving while the new one migrates. A plain CREATE INDEX on PostgreSQL blocks every
write to its table until the index is built: on the orders or the outbox table, every
checkout for as long as that takes.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexOnline(AddIndexConcurrently):
    """`AddIndex`, built CONCURRENTLY on PostgreSQL (writes go on meanwhile), plainly on
    the other databases (SQLite has one writer and no such option). Its migration sets
    `atomic = False`, as CONCURRENTLY cannot run in a transaction."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
