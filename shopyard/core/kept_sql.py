"""Fixed-shape reads whose SQL is compiled once per process, not once per request.

Turning a queryset into SQL (joins, selected columns, ordering, quoting) costs
Django far more CPU than the database spends on a small indexed read: a
product's four reads for the catalogue API spent about two thirds of a request
compiling. A read whose shape never changes, only one id in it, can keep what
the compiler made: `KeptRead(make)` calls `make(id)` (a `values_list`
queryset) once per database alias with a marker id, keeps the SQL, the
positions of the marker among the parameters and the compiler's converters
(dates and decimals on SQLite, for instance), and after that each `rows(id)`
is one cursor execute with the id put in. The rows are the tuples the
queryset itself would give, in the same order, through the same database
alias the router picks (replicas included) and the same instrumented cursor
(query counts, Prometheus).
"""

from django.db import connections, router

# an id no table holds, to find where the real one goes among the compiled parameters
_MARKER = 7_340_032_918_273_645


class KeptRead:
    def __init__(self, make):
        """`make(id)`: a values_list queryset of plain fields (no annotations, no extra),
        where `id` appears as a parameter."""
        self._make = make
        self._model = None  # known on first use (the app registry is ready by then)
        self._compiled = {}

    def _compile(self, alias):
        qs = self._make(_MARKER)
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        positions = [i for i, p in enumerate(params) if p == _MARKER]
        if not positions or qs.query.annotation_select or qs.query.extra_select:
            raise ValueError("a kept read takes the id as a parameter, and plain fields only")
        converters = compiler.get_converters([col for col, _sql, _alias in compiler.select])
        entry = self._compiled[alias] = (sql, tuple(params), positions, list(converters.items()))
        return entry

    def rows(self, id_) -> list[tuple]:
        if self._model is None:
            self._model = self._make(_MARKER).model
        alias = router.db_for_read(self._model)
        sql, params, positions, converters = self._compiled.get(alias) or self._compile(alias)
        params = list(params)
        for i in positions:
            params[i] = id_
        connection = connections[alias]  # this thread's; the compiled parts hold none
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        out = []
        for row in rows:
            row = list(row)
            for pos, (convs, expression) in converters:
                value = row[pos]
                for convert in convs:
                    value = convert(value, expression, connection)
                row[pos] = value
            out.append(tuple(row))
        return out
