"""Reads of a fixed shape whose one variable is an id, compiled once per process.

A cold product page read its product, pictures, attributes and SKUs through the ORM, and
Django built and compiled the same four SELECTs on every view (filters, joins, select
lists, ordering): more CPU than running them. A `PreparedRead` builds its queryset once
per database alias with a marker id, keeps the compiled SQL and Django's compiler (which
knows how to turn a row into model instances, joined ones included), and on each call
runs that SQL with the id put where the marker was. The rows and the objects are exactly
what the queryset itself would give; only the building is skipped.

Only for querysets whose shape never changes between calls (no filter depending on
anything but the id) and whose SQL parameters hold the id as a plain value.
"""

import copy

from django.db import connections, router
from django.db.models.query import get_related_populators
from django.db.models.sql.constants import MULTI

# an id no row has; its place in the compiled parameters is where the real id goes
MARKER = 7036874417766391


class PreparedRead:
    """`build(id)` → a QuerySet of `model` (instances, or `values_list` tuples).

    `objects(id)` gives the model instances (`rows(id)` the tuples of a values_list), as
    `list(build(id))` would, from the database the router reads `model` from."""

    def __init__(self, model, build):
        self.model = model
        self.build = build
        self._prepared = {}  # alias -> (compiler, sql, params, marker positions)

    def _prepare(self, alias):
        prepared = self._prepared.get(alias)
        if prepared is None:
            compiler = self.build(MARKER).query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            where = [i for i, value in enumerate(params) if value == MARKER]
            if not where:
                raise ValueError("the queryset does not hold the id as a parameter")
            prepared = self._prepared[alias] = (compiler, sql, tuple(params), where)
        return prepared

    def _run(self, value):
        alias = router.db_for_read(self.model)
        compiler, sql, params, where = self._prepare(alias)
        params = list(params)
        for i in where:
            params[i] = value
        run = copy.copy(compiler)
        run.connection = connections[alias]  # this thread's connection
        run.as_sql = lambda *args, **kwargs: (sql, params)
        return alias, run, run.results_iter(run.execute_sql(MULTI))

    def rows(self, value) -> list:
        """The tuples of a `values_list` queryset."""
        _alias, _run, rows = self._run(value)
        return [tuple(row) for row in rows]

    def objects(self, value) -> list:
        """The model instances (with select_related and annotations) of a model queryset."""
        alias, run, rows = self._run(value)
        klass_info = run.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in run.select[start:end]]
        populators = get_related_populators(klass_info, run.select, alias)
        annotations = run.annotation_col_map
        model_cls = klass_info["model"]
        out = []
        for row in rows:
            obj = model_cls.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            out.append(obj)
        return out
