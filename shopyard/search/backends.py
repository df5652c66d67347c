"""Two text-index backends behind one interface, chosen by the database vendor.

Both index the same pre-segmented tokens (see `text`): the backends never see
raw user text, and they build their query strings from tokens that hold only
letters, digits and Chinese characters, quoted.

- `Fts5Backend` (SQLite, the embedded default): an FTS5 table `search_fts`
  (columns title, other, head; rowid = product id; the `ascii` tokenizer, so each
  space-separated token, Chinese ones included, is one term), ranked by bm25.
- `PostgresBackend`: a `tsvector` column on the document table with a GIN
  index, written as a tsvector literal (head word A, title B, the rest C) and
  queried with a tsquery literal: no text-search parser or dictionary touches
  the tokens (the 'simple' behaviour over our own tokens), ranked by ts_rank.
"""

from django.db import connection

from .text import Query

MATCH_COLUMNS = ("product_id", "shop_id", "category_id", "root_category_id", "brand_id", "price_band",
                 "in_stock", "on_promotion", "sales", "min_price", "created_at")


class Backend:
    vendor = ""

    def write(self, cursor, rows) -> None:
        """rows: (product_id, title_terms, other_terms, head_terms); replaces their text index rows."""
        raise NotImplementedError

    def delete(self, cursor, ids) -> None:
        raise NotImplementedError

    def clear(self, cursor) -> None:
        raise NotImplementedError

    def expression(self, query: Query, *, prefix_last=False, titles_only=False) -> str:
        raise NotImplementedError

    def match(self, query: Query, *, limit: int, prefix_last=False, titles_only=False) -> list[tuple]:
        """Visible documents matching `query` (in their titles only, with `titles_only`),
        best text match first: (score, *MATCH_COLUMNS, score of the head word alone)."""
        raise NotImplementedError


def _quote(token: str, quote: str) -> str:
    return quote + token.replace(quote, "") + quote


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

    def expression(self, query, *, prefix_last=False, titles_only=False):
        groups = []
        last = len(query.groups) - 1
        for n, group in enumerate(query.groups):
            alts = []
            for alt in group:
                terms = [_quote(t, '"') + ("*" if prefix_last and n == last and i == len(alt) - 1 else "")
                         for i, t in enumerate(alt)]
                alts.append("(" + " AND ".join(terms) + ")")
            groups.append(("{title head} : " if titles_only else "") + "(" + " OR ".join(alts) + ")")
        return " AND ".join(groups)

    def match(self, query, *, limit, prefix_last=False, titles_only=False):
        cols = ", ".join(f"d.{c}" for c in MATCH_COLUMNS)
        sql = (f"SELECT -bm25(search_fts, 4.0, 1.0, 4.0) AS score, {cols}, -bm25(search_fts, 0.0, 0.0, 1.0) "
               "FROM search_fts "
               "JOIN search_searchdocument d ON d.product_id = search_fts.rowid "
               "WHERE search_fts MATCH %s AND d.is_visible ORDER BY bm25(search_fts, 4.0, 1.0, 4.0) LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.expression(query, prefix_last=prefix_last, titles_only=titles_only), limit])
            return cursor.fetchall()


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
        rows = [(pk, self.vector(title, other, head)) for pk, title, other, head in rows]
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            values = ", ".join(["(%s::bigint, %s::tsvector)"] * len(chunk))
            cursor.execute(f"UPDATE search_searchdocument d SET vector = v.vec FROM (VALUES {values}) AS v(id, vec) "
                           "WHERE d.product_id = v.id", [x for row in chunk for x in row])

    def delete(self, cursor, ids):
        pass  # the vector lives on the document row, deleted with it

    def clear(self, cursor):
        pass

    def expression(self, query, *, prefix_last=False, titles_only=False):
        groups = []
        last = len(query.groups) - 1
        for n, group in enumerate(query.groups):
            alts = []
            for alt in group:
                terms = [_quote(t, "'") + ":" + ("*" if prefix_last and n == last and i == len(alt) - 1 else "")
                         + ("AB" if titles_only else "") for i, t in enumerate(alt)]
                terms = [t.rstrip(":") for t in terms]
                alts.append("(" + " & ".join(terms) + ")")
            groups.append("(" + " | ".join(alts) + ")")
        return " & ".join(groups)

    def match(self, query, *, limit, prefix_last=False, titles_only=False):
        cols = ", ".join(f"d.{c}" for c in MATCH_COLUMNS)
        sql = (f"SELECT ts_rank(d.vector, q) AS score, {cols}, ts_rank('{{0, 0, 0, 1}}', d.vector, q) "
               "FROM search_searchdocument d, "
               "CAST(%s AS tsquery) q WHERE d.vector @@ q AND d.is_visible ORDER BY score DESC LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.expression(query, prefix_last=prefix_last, titles_only=titles_only), limit])
            return cursor.fetchall()


BACKENDS = {b.vendor: b for b in (Fts5Backend(), PostgresBackend())}


def backend() -> Backend:
    """The backend for the database in use."""
    return BACKENDS[connection.vendor]
