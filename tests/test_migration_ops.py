"""An index added to a table that grows with every order is built without blocking
writes on PostgreSQL (CREATE INDEX CONCURRENTLY), and plainly on SQLite; the migrations
that add them apply forwards and backwards on both."""

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

from shopyard.core.migration_ops import AddIndexOnline

pytestmark = pytest.mark.django_db(transaction=True)


def _sql_of(operation, app_label="orders"):
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state()
    new_state = state.clone()
    operation.state_forwards(app_label, new_state)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        operation.database_forwards(app_label, editor, state, new_state)
    return " ".join(editor.collected_sql)


def test_an_online_index_is_built_concurrently_on_postgresql_and_plainly_elsewhere():
    operation = AddIndexOnline(model_name="order", index=models.Index(fields=["currency", "status"], name="probe_idx"))
    sql = _sql_of(operation)
    assert 'CREATE INDEX' in sql and '"probe_idx"' in sql
    assert ("CONCURRENTLY" in sql) == (connection.vendor == "postgresql")


@pytest.mark.parametrize("app, before, after", [
    ("core", "0002_per_subscriber_deliveries", "0003_fewer_outbox_indexes"),
    ("orders", "0005_order_pay_within_minutes", "0006_user_shop_indexes_from_composite"),
])
def test_the_index_migrations_go_back_and_forth(app, before, after):
    def indexes(table):  # name -> its columns
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, table).items()
        return {name: tuple(c["columns"]) for name, c in found if c["index"] and not c["primary_key"]}

    table = {"core": "core_outboxevent", "orders": "orders_order"}[app]
    executor = MigrationExecutor(connection)
    executor.migrate([(app, before)])
    old = indexes(table)
    executor = MigrationExecutor(connection)
    executor.migrate([(app, after)])
    new = indexes(table)
    added = {"core": {"event_name", "event_status", "event_created"}, "orders": {"order_user_status"}}[app]
    assert added <= set(new) and not added & set(old)
    # what the new ones stand in for (or nothing reads) is gone
    dropped = {"core": [("dispatched_at",)], "orders": [("user_id",), ("shop_id",)]}[app]
    assert all(cols in old.values() for cols in dropped)
    assert not any(cols in new.values() for cols in dropped)
