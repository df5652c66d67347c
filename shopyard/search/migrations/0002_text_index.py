"""The backends' text index: an FTS5 table on SQLite, a tsvector column with a
GIN index on PostgreSQL (see shopyard/search/backends.py)."""

from django.db import migrations


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, other, head, tokenize='ascii')")
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE search_searchdocument ADD COLUMN IF NOT EXISTS vector tsvector")
        schema_editor.execute("ALTER TABLE search_searchdocument ADD COLUMN IF NOT EXISTS title_vector tsvector")
        schema_editor.execute("CREATE INDEX IF NOT EXISTS search_document_vector ON search_searchdocument USING GIN (vector)")
        schema_editor.execute("CREATE INDEX IF NOT EXISTS search_document_title_vector "
                              "ON search_searchdocument USING GIN (title_vector)")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS search_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_document_title_vector")
        schema_editor.execute("DROP INDEX IF EXISTS search_document_vector")
        schema_editor.execute("ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS title_vector")
        schema_editor.execute("ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS vector")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
