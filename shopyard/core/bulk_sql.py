"""Updating many rows, each with its own values, fast.

Django's `bulk_update` builds one `CASE WHEN pk=… THEN …` expression per
field per row, which costs more in Python than the database spends on the
rows (about 1 ms per row and field: 10,000 SKUs took most of a minute). Here
one parameterised UPDATE is sent for all rows with `executemany`, which
SQLite runs in-process and psycopg 3 pipelines to PostgreSQL.
"""

import functools

from django.db import connections, router
from django.db.models.constants import OnConflict


def update_rows(model, objs, fields) -> int:
    """UPDATE `fields` of `objs` (model instances with their pk) to the values
    they hold, in the caller's transaction. Values go through each field's
    `get_db_prep_save`, as a `save()` would send them. Returns rows sent."""
    objs = [o for o in objs if o.pk is not None]
    if not objs or not fields:
        return 0
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(meta.db_table), ", ".join(f"{quote(c.column)} = %s" for c in columns), quote(meta.pk.column))
    params = [[c.get_db_prep_save(getattr(o, c.attname), connection) for c in columns] + [o.pk] for o in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)


def insert_rows(model, objs) -> int:
    """INSERT `objs` (new instances whose ids nobody needs back: link rows,
    ledger rows) with one `executemany`; defaults and `auto_now_add` are
    filled as `save()` would fill them. Returns rows sent."""
    if not objs:
        return 0
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key or not f.auto_created]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields)))
    params = [[f.get_db_prep_save(f.pre_save(o, True), connection) for f in fields] for o in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)


def create_rows(model, objs, *, ignore_conflicts: bool = False) -> list:
    """INSERT new instances in one statement and set their ids, as `bulk_create`
    would (or `save()` for one), from SQL written once per model, database and
    row count: Django compiled each of an order's eight INSERTs anew (placing the
    columns, quoting, typed arrays for PostgreSQL's UNNEST) for more CPU than
    the database spent on them. No `pre_save`/`post_save` signal is sent (none
    is connected in Shopyard). `ignore_conflicts` skips rows a unique
    constraint refuses, and leaves every id unset."""
    objs = list(objs)
    if not objs:
        return objs
    connection = connections[router.db_for_write(model)]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="create_rows")
    fields = _insert_fields(model)
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    for start in range(0, len(objs), size):
        batch = objs[start:start + size]
        sql, returning = _create_sql(model, connection.alias, len(batch), ignore_conflicts)
        params = [f.get_db_prep_save(f.pre_save(o, True), connection) for o in batch for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = cursor.fetchall() if returning else ()
        if returning and len(ids) != len(batch):
            raise RuntimeError(f"{model.__name__}: {len(batch)} rows sent, {len(ids)} ids back")
        for n, obj in enumerate(batch):
            if returning:
                obj.pk = ids[n][0]
            obj._state.adding = False
            obj._state.db = connection.alias
    return objs


def create_row_with_links(obj, link_model, *, to_row: str, to_other: str, others) -> object:
    """INSERT the new instance `obj` and one `link_model` row (a many-to-many table) per
    id in `others`, whose `to_row` column points at `obj` and `to_other` at that id.
    On PostgreSQL it is one statement (the row's INSERT a data-modifying WITH whose id the
    links read), elsewhere `create_rows` twice. Sets `obj`'s id, as `create_rows` does;
    the links' ids are not read. A checkout writes its payment and the payment's orders so."""
    connection = connections[router.db_for_write(type(obj))]
    others = list(others)
    if connection.vendor != "postgresql" or not others:
        create_rows(type(obj), [obj])
        create_rows(link_model, [link_model(**{f"{to_row}_id": obj.pk, f"{to_other}_id": other}) for other in others])
        return obj
    obj._prepare_related_fields_for_save(operation_name="create_row_with_links")
    fields = _insert_fields(type(obj))
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_row_with_links_sql(type(obj), link_model, to_row, to_other, connection.alias),
                       [*params, others])
        ids = cursor.fetchall()
    if len(ids) != len(others):
        raise RuntimeError(f"{link_model.__name__}: {len(others)} links sent, {len(ids)} written")
    obj.pk = ids[0][0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def create_row_locking(obj, fk: str) -> object:
    """INSERT the new instance `obj` in the statement that locks (FOR UPDATE, until the
    transaction ends) the row its foreign key `fk` points at: the key's value is read from
    that row under the lock. One round trip where a locking SELECT and the INSERT were two:
    a checkout's Idempotency-Key record takes its shopper's row lock so. The row must exist
    (without it the key would be NULL). Where the database has no row locks it is
    `create_rows` (SQLite: a Shopyard transaction holds the whole file's write lock from its
    BEGIN IMMEDIATE, a stronger lock). Sets `obj`'s id, as `create_rows` does."""
    model = type(obj)
    connection = connections[router.db_for_write(model)]
    if not connection.features.has_select_for_update:
        return create_rows(model, [obj])[0]
    obj._prepare_related_fields_for_save(operation_name="create_row_locking")
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in _insert_fields(model)]
    with connection.cursor() as cursor:
        cursor.execute(_row_locking_sql(model, fk, connection.alias), params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


@functools.lru_cache(maxsize=16)
def _row_locking_sql(model, fk, alias) -> str:
    """`INSERT … VALUES (…, (SELECT id FROM target WHERE id = %s FOR UPDATE), …) RETURNING id`:
    the foreign key's parameter where it was, read back through the locking sub-SELECT."""
    q, meta = connections[alias].ops.quote_name, model._meta
    key = meta.get_field(fk)
    target = key.remote_field.model._meta
    to = q(key.target_field.column)
    lock = f"(SELECT {to} FROM {q(target.db_table)} WHERE {to} = %s FOR UPDATE)"
    fields = _insert_fields(model)
    return (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(lock if f is key else '%s' for f in fields)}) RETURNING {q(meta.pk.column)}")


@functools.lru_cache(maxsize=64)
def _row_with_links_sql(model, link_model, to_row, to_other, alias) -> str:
    q, meta = connections[alias].ops.quote_name, link_model._meta
    insert, _returning = _create_sql(model, alias, 1, False)  # … RETURNING the new row's id
    row, other = (q(meta.get_field(name).column) for name in (to_row, to_other))
    return (f"WITH new_row AS ({insert}) INSERT INTO {q(meta.db_table)} ({row}, {other}) "
            f"SELECT new_row.{q(model._meta.pk.column)}, others.id FROM new_row, unnest(%s::bigint[]) AS others(id) "
            f"RETURNING {row}")


@functools.cache
def _insert_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.generated and not (f.primary_key and f.auto_created)]


@functools.lru_cache(maxsize=512)
def _create_sql(model, alias, rows, ignore_conflicts):
    connection = connections[alias]
    ops, quote, meta = connection.ops, connection.ops.quote_name, model._meta
    fields = _insert_fields(model)
    returning = not ignore_conflicts and connection.features.can_return_rows_from_bulk_insert
    if not returning and not ignore_conflicts:
        raise NotImplementedError(f"{connection.vendor} cannot return the ids of inserted rows")
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    row = "({})".format(", ".join(["%s"] * len(fields)))
    sql = "{} {} ({}) VALUES {}".format(
        ops.insert_statement(on_conflict=on_conflict), quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields), ", ".join([row] * rows))
    suffix = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    if suffix:
        sql += " " + suffix
    if returning:
        # the ids come back in the order of the VALUES rows on PostgreSQL and SQLite, as bulk_create relies on
        sql += f" RETURNING {quote(meta.pk.column)}"
    return sql, returning


def create_row_with_children(obj, children) -> object:
    """INSERT the new instance `obj` and its new child rows: `children` is a list of
    (`fk`, instances) where every instance of a group is of one model whose foreign key
    `fk` points at `obj` (set or not). On PostgreSQL it is one statement (the row's
    INSERT a data-modifying WITH whose id each child's VALUES read), elsewhere
    `create_rows` once per model, as before. Sets the ids of `obj` and of every child,
    and each child's `fk` to `obj`, as `create_rows` does. An order is placed so with
    its line(s) and its first history row: one round trip where three were, and no
    statement compiled per call (the SQL is written once per shape)."""
    connection = connections[router.db_for_write(type(obj))]
    children = [(fk, list(objs)) for fk, objs in children]
    if connection.vendor != "postgresql":
        create_rows(type(obj), [obj])
        for fk, objs in children:
            for child in objs:
                setattr(child, fk, obj)
            if objs:
                create_rows(type(objs[0]), objs)
        return obj
    children = [(fk, objs) for fk, objs in children if objs]
    obj._prepare_related_fields_for_save(operation_name="create_row_with_children")
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in _insert_fields(type(obj))]
    shape = []
    for fk, objs in children:
        model = type(objs[0])
        column = model._meta.get_field(fk).attname
        fields = [f for f in _insert_fields(model) if f.attname != column]
        shape.append((model, fk, len(objs)))
        for child in objs:
            # the parent's id is not known yet: only the other fields are sent (and checked)
            params += [f.get_db_prep_save(f.pre_save(child, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_row_with_children_sql(type(obj), tuple(shape), connection.alias), params)
        row = cursor.fetchone()
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    for (fk, objs), ids in zip(children, row[1:], strict=True):
        if len(ids) != len(objs):
            raise RuntimeError(f"{type(objs[0]).__name__}: {len(objs)} rows sent, {len(ids)} ids back")
        for child, pk in zip(objs, ids, strict=True):
            setattr(child, fk, obj)
            child.pk = pk
            child._state.adding = False
            child._state.db = connection.alias
    return obj


@functools.lru_cache(maxsize=64)
def _row_with_children_sql(model, shape, alias) -> str:
    """`WITH new_row AS (INSERT … RETURNING id), c0 AS (INSERT … VALUES ((SELECT id FROM
    new_row), …), … RETURNING id), … SELECT new_row's id, then each child group's ids` as
    arrays in the order of their VALUES rows (ids of one INSERT are drawn in row order)."""
    q = connections[alias].ops.quote_name
    insert, _returning = _create_sql(model, alias, 1, False)  # … RETURNING the new row's id
    parent = f"(SELECT {q(model._meta.pk.column)} FROM new_row)"
    ctes, outs = [f"new_row AS ({insert})"], [parent]
    for n, (child, fk, count) in enumerate(shape):
        meta = child._meta
        column = meta.get_field(fk).column
        fields = [f for f in _insert_fields(child) if f.column != column]
        row = "({}, {})".format(parent, ", ".join(["%s"] * len(fields)))
        pk = q(meta.pk.column)
        ctes.append(f"c{n} AS (INSERT INTO {q(meta.db_table)} ({q(column)}, {', '.join(q(f.column) for f in fields)}) "
                    f"VALUES {', '.join([row] * count)} RETURNING {pk})")
        outs.append(f"ARRAY(SELECT {pk} FROM c{n} ORDER BY {pk})")
    return f"WITH {', '.join(ctes)} SELECT {', '.join(outs)}"
