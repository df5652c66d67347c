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

from datetime import UTC, datetime, timedelta

from django.db import connections, router
from django.db.models.query import get_related_populators

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
        self._prepared = {}  # alias -> (compiler, sql, params, [(position, variable index)], converters, trim)
        self._builders = {}  # alias -> what objects() builds instances with

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
            # what results_iter() works out again on every call: each column's converters
            # (a fifth of a product page's reads), and for model rows how to build the objects
            fields = [s[0] for s in compiler.select[0:compiler.col_count]]
            if compiler.has_composite_fields(fields):
                raise ValueError("composite fields are not supported")
            converters = list(compiler.get_converters(fields).items())
            trim = compiler.col_count if compiler.has_extra_select else None
            prepared = self._prepared[alias] = (compiler, sql, tuple(params), where, converters, trim)
        return prepared

    def _run(self, *values):
        alias = router.db_for_read(self.model)
        compiler, sql, params, where, converters, trim = self._prepare(alias)
        params = list(params)
        adapt = None
        for i, n in where:
            if self.kinds[n] == "moment":
                adapt = adapt or connections[alias].ops.adapt_datetimefield_value
                params[i] = adapt(values[n])
            else:
                params[i] = values[n]
        # what the compiler's execute_sql(MULTI) and results_iter() do, with what _prepare kept
        connection = connections[alias]  # this thread's connection
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if trim is not None:
            rows = [row[:trim] for row in rows]
        if converters:
            rows = list(map(list, rows))
            for row in rows:
                for pos, (convs, expression) in converters:
                    value = row[pos]
                    for converter in convs:
                        value = converter(value, expression, connection)
                    row[pos] = value
        return alias, compiler, rows

    def rows(self, *values) -> list:
        """The tuples of a `values_list` queryset."""
        _alias, _compiler, rows = self._run(*values)
        return [tuple(row) for row in rows]

    def _builder(self, alias, compiler):
        """How `objects()` turns a row into instances: the columns of the model, its joined
        models' populators and the annotations' positions, worked out once per alias."""
        built = self._builders.get(alias)
        if built is None:
            klass_info = compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            init_list = [f[0].target.attname for f in compiler.select[start:end]]
            built = self._builders[alias] = (klass_info["model"], start, end, init_list,
                                             get_related_populators(klass_info, compiler.select, alias),
                                             compiler.annotation_col_map)
        return built

    def objects(self, *values) -> list:
        """The model instances (with select_related and annotations) of a model queryset."""
        alias, compiler, rows = self._run(*values)
        model_cls, start, end, init_list, populators, annotations = self._builder(alias, compiler)
        out = []
        for row in rows:
            obj = model_cls.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            out.append(obj)
        return out


class PreparedReads:
    """A `PreparedRead` whose first variable is a list of ids: one compiled read per count
    of ids. The batch of held events (core.events.dispatch_many) reads its deliveries, the
    buyers it tells and the stock its orders took by lists of up to 16 ids, and Django
    built each such SELECT afresh (subqueries and joins) once per batch: more CPU than
    running it. The ids are kept in the order given (duplicates are harmless: an IN list).

    `build(ids, *variables)` → the QuerySet; `kinds` names the other variables' kinds. A
    list longer than `most` is read by the queryset itself, so the kept reads stay few."""

    def __init__(self, model, build, kinds=(), most=64):
        self.model = model
        self.build = build
        self.kinds = tuple(kinds)
        self.most = most
        self._by_count = {}  # count of ids -> PreparedRead

    def _read(self, count) -> PreparedRead:
        read = self._by_count.get(count)
        if read is None:
            build = self.build
            read = self._by_count[count] = PreparedRead(
                self.model, lambda *values: build(list(values[:count]), *values[count:]),
                kinds=("id",) * count + self.kinds)
        return read

    def objects(self, ids, *values) -> list:
        return self._each(ids, values, lambda read, args: read.objects(*args), list)

    def rows(self, ids, *values) -> list:
        return self._each(ids, values, lambda read, args: read.rows(*args), lambda qs: [tuple(row) for row in qs])

    def _each(self, ids, values, kept, unkept) -> list:
        """Nothing for no ids, the queryset itself (`unkept`) past `most`, else the kept read (`kept`)."""
        ids = list(ids)
        if not ids:
            return []
        if len(ids) > self.most:
            return unkept(self.build(ids, *values))
        return kept(self._read(len(ids)), (*ids, *values))
