"""A few rows of a related table carried in one column of the row that owns them.

A product page read its product, then its pictures, then its attributes with their
options: three statements where the last two are a handful of short rows each. Each
statement costs a round trip and its execution on the server, more than the rows do.
`JSONRows` aggregates the rows a subquery finds into one JSON text (each row an array
of the columns given), so they come with the owner's row: a `Subquery` over the related
rows, grouped by their owner's id. `rows_of` reads the text back as a list of lists.

The order of the rows is not defined (SQLite's json_group_array follows no ORDER BY):
the caller sorts them. Values come back as JSON has them: numbers and text as they are,
NULL as None; no dates or decimals (they would come back as text).
"""

import json

from django.db.models import Aggregate, TextField


class JSONRows(Aggregate):
    """The grouped rows' `expressions` as one JSON text: an array with one array per row."""

    name = "JSONRows"
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor == "postgresql":
            template = "json_agg(json_build_array(%(expressions)s))::text"
        elif connection.vendor == "sqlite":
            template = "json_group_array(json_array(%(expressions)s))"
        else:
            raise NotImplementedError(f"JSONRows on {connection.vendor}")
        return super().as_sql(compiler, connection, template=template, **extra_context)


def rows_of(value) -> list:
    """The rows a JSONRows column holds (none for NULL: the subquery found no row)."""
    return json.loads(value) if value else []
