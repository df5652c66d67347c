"""Two text-index backends behind one interface, chosen by the database vendor.

Both index the same pre-segmented tokens (see `text`): the backends never see
raw user text, and they build their query strings from tokens that hold only
letters, digits and Chinese characters, quoted.

- `Fts5Backend` (SQLite, the embedded default): an FTS5 table `search_fts` of
  the visible products
  (columns title, other, head; rowid = product id; the `ascii` tokenizer, so each
  space-separated token, Chinese ones included, is one term), ranked by bm25.
- `PostgresBackend`: a `tsvector` column on the document table with a GIN
  index (and `title_vector`, head word and title only, with its own GIN index,
  for words that match too much), written as a tsvector literal (head word A,
  title B, the rest C) and
  queried with a tsquery literal: no text-search parser or dictionary touches
  the tokens (the 'simple' behaviour over our own tokens), ranked by ts_rank.
"""

from django.db import connection

from .text import Query

MATCH_COLUMNS = ("product_id", "shop_id", "category_id", "root_category_id", "brand_id", "price_band",
                 "in_stock", "on_promotion", "sales", "min_price", "created_at", "title_terms", "head_terms",
                 "attribute_ids", "rating", "reviews")
# filters pushed into the match: name -> SQL on the document row
WHERE = {"category": "(d.category_id = %s OR d.root_category_id = %s)", "brand": "d.brand_id = %s",
         "shop": "d.shop_id = %s", "price": "d.price_band = %s", "in_stock": "d.in_stock", "on_promotion": "d.on_promotion"}


def _any_value(ids) -> tuple[str, list]:
    """The product has one of these attribute values."""
    return "(" + " OR ".join(["d.attribute_ids LIKE %s"] * len(ids)) + ")", [f"% {int(pk)} %" for pk in ids]


def _where(filters: dict | None) -> tuple[str, list]:
    sql, params = "", []
    for name, value in (filters or {}).items():
        if name == "attributes":  # (ids of one attribute, ...): one value of each attribute
            for ids in value:
                clause, args = _any_value(ids)
                sql += " AND " + clause
                params += args
            continue
        if name == "attributes_but_one":  # the same, but one attribute may be missed (its own facet counts)
            if len(value) > 1:
                cases = [_any_value(ids) for ids in value]
                sql += " AND (" + " + ".join(f"CASE WHEN {c} THEN 1 ELSE 0 END" for c, _a in cases) + ") >= %s"
                params += [a for _c, args in cases for a in args] + [len(value) - 1]
            continue
        clause = WHERE[name]
        sql += " AND " + clause
        params += [value] * clause.count("%s")
    return sql, params


class Backend:
    vendor = ""

    def write(self, cursor, rows) -> None:
        """rows: (product_id, title_terms, other_terms, head_terms); replaces their text index rows."""
        raise NotImplementedError

    def delete(self, cursor, ids) -> None:
        raise NotImplementedError

    def clear(self, cursor) -> None:
        raise NotImplementedError

    def optimise(self, cursor) -> None:
        """After a rebuild: compact the text index and refresh the planner's statistics."""

    def expression(self, query: Query, *, prefix_last=False, titles_only=False, at_least=None) -> str:
        """The backend's query text: every group of `query` required, or with `at_least`,
        any `at_least` of them (an OR of the AND of each combination, see `combinations`)."""
        raise NotImplementedError

    def match(self, query: Query, *, limit: int, prefix_last=False, titles_only=False, filters=None,
              at_least=None, other_terms=False) -> list[tuple]:
        """Visible documents matching `query` (in their titles only, with `titles_only`;
        `at_least` of its words rather than all, with `at_least`, scored as a match of any of
        its words would be) and
        `filters` ({name: value} of WHERE, plus "attributes": a tuple of value-id tuples, one per
        attribute, and "attributes_but_one", the same with one attribute allowed to miss), best
        text match first:
        (score, *MATCH_COLUMNS), and the document's other terms last with `other_terms`."""
        raise NotImplementedError

    def count(self, query: Query, *, cap: int, titles_only=False) -> int:
        """How many visible documents match `query`, counting no further than `cap`
        (cheap: no ranking, no document rows read where the backend can help it)."""
        raise NotImplementedError


def _columns(other_terms: bool) -> str:
    return ", ".join(f"d.{c}" for c in (*MATCH_COLUMNS, *(("other_terms",) if other_terms else ())))


def _quote(token: str, quote: str) -> str:
    return quote + token.replace(quote, "") + quote


def combinations(count: int, at_least: int | None) -> list[tuple[int, ...]]:
    """The groups (by position) an `at_least` match ORs: every group when `at_least` is None
    or covers them all, each group alone for 1, every `at_least`-combination otherwise."""
    from itertools import combinations as choose

    if at_least is None or at_least >= count:
        return [tuple(range(count))]
    return list(choose(range(count), max(1, at_least)))


class Fts5Backend(Backend):
    vendor = "sqlite"

    def write(self, cursor, rows):
        rows = list(rows)
        self.delete(cursor, [r[0] for r in rows])
        cursor.executemany("INSERT INTO search_fts(rowid, title, other, head) VALUES (%s, %s, %s, %s)", rows)

    def delete(self, cursor, ids):
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            cursor.execute(f"DELETE FROM search_fts WHERE rowid IN ({','.join(['%s'] * len(chunk))})", chunk)

    def clear(self, cursor):
        cursor.execute("DELETE FROM search_fts")

    def optimise(self, cursor):
        cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")

    def expression(self, query, *, prefix_last=False, titles_only=False, at_least=None):
        groups = []
        last = len(query.groups) - 1
        for n, group in enumerate(query.groups):
            alts = []
            for alt in group:
                terms = [_quote(t, '"') + ("*" if prefix_last and n == last and i == len(alt) - 1 else "")
                         for i, t in enumerate(alt)]
                alts.append("(" + " AND ".join(terms) + ")")
            groups.append(("{title head} : " if titles_only else "") + "(" + " OR ".join(alts) + ")")
        # bm25 of a row counts the words of the branches it matches, so a combination's
        # score is that of the same row matched by any of the words
        return " OR ".join("(" + " AND ".join(groups[n] for n in combo) + ")"
                           for combo in combinations(len(groups), at_least))

    def match(self, query, *, limit, prefix_last=False, titles_only=False, filters=None, at_least=None,
              other_terms=False):
        cols = _columns(other_terms)
        where, params = _where(filters)
        if not filters:  # rank in the text index alone, then join the few rows kept
            sql = (f"SELECT m.score, {cols} FROM (SELECT rowid AS id, -bm25(search_fts, 4.0, 1.0, 4.0) AS score "
                   "FROM search_fts WHERE search_fts MATCH %s ORDER BY bm25(search_fts, 4.0, 1.0, 4.0) LIMIT %s) m "
                   "JOIN search_searchdocument d ON d.product_id = m.id WHERE d.is_visible ORDER BY m.score DESC")
            with connection.cursor() as cursor:
                cursor.execute(sql, [self.expression(query, prefix_last=prefix_last, titles_only=titles_only,
                                                     at_least=at_least), limit])
                return cursor.fetchall()
        sql = (f"SELECT -bm25(search_fts, 4.0, 1.0, 4.0) AS score, {cols} FROM search_fts "
               "JOIN search_searchdocument d ON d.product_id = search_fts.rowid "
               f"WHERE search_fts MATCH %s AND d.is_visible{where} ORDER BY bm25(search_fts, 4.0, 1.0, 4.0) LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.expression(query, prefix_last=prefix_last, titles_only=titles_only,
                                                 at_least=at_least), *params, limit])
            return cursor.fetchall()

    def count(self, query, *, cap, titles_only=False):
        with connection.cursor() as cursor:  # the text index holds visible products only
            cursor.execute("SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH %s LIMIT %s)",
                           [self.expression(query, titles_only=titles_only), cap])
            return cursor.fetchone()[0]


class PostgresBackend(Backend):
    vendor = "postgresql"

    @staticmethod
    def vector(title_terms: str, other_terms: str, head_terms: str = "") -> str:
        parts, pos = [], 0
        for weight, text in (("A", head_terms), ("B", title_terms), ("C", other_terms)):
            for token in text.split():
                pos = min(pos + 1, 16383)
                parts.append(f"{_quote(token, chr(39))}:{pos}{weight}")
        return " ".join(parts)

    def write(self, cursor, rows):
        rows = [(pk, self.vector(title, other, head), self.vector(title, "", head)) for pk, title, other, head in rows]
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            values = ", ".join(["(%s::bigint, %s::tsvector, %s::tsvector)"] * len(chunk))
            cursor.execute(f"UPDATE search_searchdocument d SET vector = v.vec, title_vector = v.tvec "
                           f"FROM (VALUES {values}) AS v(id, vec, tvec) "
                           "WHERE d.product_id = v.id", [x for row in chunk for x in row])

    def delete(self, cursor, ids):
        pass  # the vector lives on the document row, deleted with it

    def clear(self, cursor):
        pass

    def optimise(self, cursor):
        cursor.execute("ANALYZE search_searchdocument")

    def expression(self, query, *, prefix_last=False, titles_only=False, at_least=None):
        groups = []
        last = len(query.groups) - 1
        for n, group in enumerate(query.groups):
            alts = []
            for alt in group:
                terms = [_quote(t, "'") + (":*" if prefix_last and n == last and i == len(alt) - 1 else "")
                         for i, t in enumerate(alt)]
                alts.append("(" + " & ".join(terms) + ")")
            groups.append("(" + " | ".join(alts) + ")")
        return " | ".join("(" + " & ".join(groups[n] for n in combo) + ")"
                          for combo in combinations(len(groups), at_least))

    def match(self, query, *, limit, prefix_last=False, titles_only=False, filters=None, at_least=None,
              other_terms=False):
        cols = _columns(other_terms)
        where, params = _where(filters)
        vector = "d.title_vector" if titles_only else "d.vector"  # titles only: the smaller index of titles
        # an at-least match is ranked as a match of any of the words (ts_rank counts only those present)
        sql = (f"SELECT ts_rank({vector}, r) AS score, {cols} FROM search_searchdocument d, "
               f"CAST(%s AS tsquery) q, CAST(%s AS tsquery) r WHERE {vector} @@ q AND d.is_visible{where} "
               "ORDER BY score DESC LIMIT %s")
        expression = self.expression(query, prefix_last=prefix_last, titles_only=titles_only, at_least=at_least)
        rank = self.expression(query, prefix_last=prefix_last, at_least=1) if at_least else expression
        with connection.cursor() as cursor:
            cursor.execute(sql, [expression, rank, *params, limit])
            return cursor.fetchall()

    def count(self, query, *, cap, titles_only=False):
        vector = "title_vector" if titles_only else "vector"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM search_searchdocument WHERE {vector} @@ "
                           "CAST(%s AS tsquery) AND is_visible LIMIT %s) x", [self.expression(query), cap])
            return cursor.fetchone()[0]


BACKENDS = {b.vendor: b for b in (Fts5Backend(), PostgresBackend())}


def backend() -> Backend:
    """The backend for the database in use."""
    return BACKENDS[connection.vendor]
