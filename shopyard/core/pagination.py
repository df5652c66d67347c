"""One page of a sorted listing, read from whichever end of the listing is nearer.

OFFSET costs what it skips: the database walks (and, for a catalogue listing,
checks the visibility of) every row before the page. Page 300 of a category
of 8,000 products walked 7,200 rows; the last page of the API's 100,000
products walked all of them. When the page lies in the second half of the
listing, the same rows are the first ones of the listing in the opposite
order, so they are read that way (`ORDER BY` reversed, a small OFFSET from the
end) and put back in the listing's order. A page thus never walks more than
half the listing, the last pages walk almost nothing, and `?page=N` links stay
what they were (a shopper's bookmark of page 40 is still page 40).

This needs a total order: reversed, ties must come out exactly mirrored, which
only holds when the ordering ends with the primary key (every catalogue sort
does: catalog.queries.SORTS). Any other queryset is read forwards as before.
"""

from functools import cached_property

_KEYS = {"id", "-id", "pk", "-pk"}


def _ends_with_key(qs) -> bool:
    order = qs.query.order_by or (qs.query.get_meta().ordering if qs.query.default_ordering else ())
    return bool(order) and isinstance(order[-1], str) and order[-1] in _KEYS


class LazyRows:
    """Rows that `read()` gives, read on first use: a page whose rows are kept elsewhere
    (the storefront's fragment cache) never builds the query that would read them."""

    def __init__(self, read):
        self._read = read

    @cached_property
    def _rows(self):
        return list(self._read())

    def __iter__(self):
        return iter(self._rows)

    def __len__(self):
        return len(self._rows)

    def __getitem__(self, index):
        return self._rows[index]


class _FromTheEnd(LazyRows):
    """Rows [start:stop) of `qs` (whose `count` rows are known), read as the first rows of
    the reversed listing and returned in `qs`'s order. Lazy, as a sliced queryset is: no
    query until the rows are used (a kept page never reads them)."""

    def __init__(self, qs, start, stop, count):
        reversed_rows = qs.reverse()[count - stop : count - start]
        super().__init__(lambda: list(reversed_rows)[::-1])


def page_rows(qs, start: int, stop: int, count: int):
    """Rows [start:stop) of the ordered queryset `qs`, which holds `count` rows: `qs[start:stop]`,
    read from the nearer end of the listing (lazy either way)."""
    stop = min(stop, count)
    if start >= stop:
        return qs.none()
    if start > count - stop and _ends_with_key(qs):
        return _FromTheEnd(qs, start, stop, count)
    return qs[start:stop]
