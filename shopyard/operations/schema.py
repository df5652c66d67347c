"""Which migrations the database has and which the code would still apply:
for `shopyard migrate --check` (an upgrade's first step) and backup manifests."""

from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader


def applied_migrations(alias=DEFAULT_DB_ALIAS) -> list[str]:
    """`app.name` of every migration recorded in the database, sorted."""
    loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.applied_migrations)


def pending_migrations(alias=DEFAULT_DB_ALIAS) -> list[str]:
    """`app.name` of each migration `migrate` would apply, in the order it would.

    Reads only: a SQLite database that does not exist yet is not created
    (everything is pending), and nothing is recorded."""
    connection = connections[alias]
    if connection.vendor == "sqlite" and not _sqlite_exists(connection):
        loader = MigrationLoader(None, ignore_no_migrations=True)
        targets = loader.graph.leaf_nodes()
        seen, plan = set(), []
        for target in targets:
            for node in loader.graph.forwards_plan(target):
                if node not in seen:
                    seen.add(node)
                    plan.append(node)
        return [f"{app}.{name}" for app, name in plan]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


def _sqlite_exists(connection) -> bool:
    name = str(connection.settings_dict["NAME"])
    return name == ":memory:" or name.startswith("file:") or Path(name).exists()
