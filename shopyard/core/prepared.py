"""Reads of a fixed shape whose variables are a few plain values, compiled once per process.

A cold product page read its product, pictures, attributes and SKUs through the ORM, and
Django built and compiled the same four SELECTs on every view (filters, joins, select
lists, ordering): more CPU than running them. A `PreparedRead` builds its queryset once
per database alias with a marker id, keeps the compiled SQL and Django's compiler (which
knows how to turn a row into model instances, joined ones included), and on each call
runs that SQL with the id put where the marker was. The rows and the objects are exactly
what the queryset itself would give; only the building is skipped.

The same serves any read whose variables reach the SQL unchanged: an API token looked up
by its hash on every authenticated call, an address checked against its owner. Only for
querysets whose shape never changes between calls (no filter depending on anything but
the variables) and whose SQL parameters hold each variable as a plain value: ids, text,
and moments compared as they are (a backend adapts a datetime its own way, SQLite to
text; the kept parameter is adapted the same way on each call).
"""

import copy
import threading
from datetime import UTC, datetime, timedelta
from itertools import chain

from django.db import connections, router
from django.db.models.query import get_related_populators
from django.db.models.sql.constants import MULTI

# an id no row has; its place in the compiled parameters is where the real id goes
MARKER = 7036874417766391
# the same for a text variable
TEXT_MARKER = "\x1fshopyard-prepared-read-marker\x1f"
# and for a moment: one no row holds (aware, as USE_TZ keeps them)
MOMENT_MARKER = datetime(2999, 12, 30, 23, 58, 57, 123000, tzinfo=UTC)


class PreparedRead:
    """`build(*variables)` → a QuerySet of `model` (instances, or `values_list` tuples).

    `objects(*values)` gives the model instances (`rows(*values)` the tuples of a
    values_list), as `list(build(*values))` would, from the database the router reads
    `model` from. `kinds` names each variable's kind, "id" (the default, one id), "text"
    or "moment" (an aware datetime)."""

    def __init__(self, model, build, kinds=("id",)):
        self.model = model
        self.build = build
        self.kinds = tuple(kinds)
        # a distinct marker per variable: ids count up from MARKER, texts carry their place,
        # moments are a microsecond apart
        self.markers = tuple(MARKER + n if kind == "id" else f"{TEXT_MARKER}{n}" if kind == "text"
                             else MOMENT_MARKER + timedelta(microseconds=n) for n, kind in enumerate(kinds))
        self._prepared = {}  # alias -> (compiler, sql, params, [(position, variable index)])
        self._converters = {}  # (alias, thread) -> the compiler's converters of the selected columns

    def _prepare(self, alias):
        prepared = self._prepared.get(alias)
        if prepared is None:
            compiler = self.build(*self.markers).query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            # what each marker became in the parameters (a moment as the backend adapts it)
            adapt = connections[alias].ops.adapt_datetimefield_value
            seen = {(adapt(m) if kind == "moment" else m): n
                    for n, (m, kind) in enumerate(zip(self.markers, self.kinds, strict=True))}
            where = [(i, seen[value]) for i, value in enumerate(params)
                     if type(value) in (int, str, datetime) and value in seen]
            if {n for _i, n in where} != set(range(len(self.markers))):
                raise ValueError("the queryset does not hold every variable as a parameter")
            prepared = self._prepared[alias] = (compiler, sql, tuple(params), where)
        return prepared

    def _run(self, *values):
        alias = router.db_for_read(self.model)
        compiler, sql, params, where = self._prepare(alias)
        params = list(params)
        adapt = None
        for i, n in where:
            if self.kinds[n] == "moment":
                adapt = adapt or connections[alias].ops.adapt_datetimefield_value
                params[i] = adapt(values[n])
            else:
                params[i] = values[n]
        run = copy.copy(compiler)
        run.connection = connections[alias]  # this thread's connection
        run.as_sql = lambda *args, **kwargs: (sql, params)
        results = run.execute_sql(MULTI)
        # what results_iter does, with the converters found once per thread: Django looked
        # them up on every call, column by column, for about a tenth of a kept read's CPU
        converters = self._converters.get((alias, threading.get_ident()))
        if converters is None:
            fields = [s[0] for s in run.select[0:run.col_count]]
            if run.has_composite_fields(fields):
                return alias, run, run.results_iter(results)
            converters = self._converters[alias, threading.get_ident()] = run.get_converters(fields)
        rows = chain.from_iterable(results)
        return alias, run, run.apply_converters(rows, converters) if converters else rows

    def rows(self, *values) -> list:
        """The tuples of a `values_list` queryset."""
        _alias, _run, rows = self._run(*values)
        return [tuple(row) for row in rows]

    def objects(self, *values) -> list:
        """The model instances (with select_related and annotations) of a model queryset."""
        alias, run, rows = self._run(*values)
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
