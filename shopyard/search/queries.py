"""Search reads shared by the storefront page and the API.

`search()` costs one or two index queries (titles, then every field when the
titles do not fill the window, unless a capped count says the words alone fill it;
plus, only when nothing matches, the relaxed match or a look-up of the
vocabulary for a spelling correction): the
backend returns the visible documents matching the words and the filters with
their facet and ranking columns, at most WINDOW of them, best text match first;
facet counts, ranking and paging happen on those rows. Facet counts therefore
equal the number of results the same filter gives (each facet is counted with
every other filter applied, so choosing one of its values shows exactly that
many) whenever the window is not full; with a full window (`capped`) they count
the best WINDOW matches.

Attribute values are chosen the way shoppers know from other shops: values of one
attribute are alternatives (颜色: 红色 or 蓝色), attributes are all required (and
尺码: M). The values of an attribute with a choice are counted without that
attribute's own choice (with every other filter and attribute), so each shows the
results it gives in place of the choice; that takes one more match, with the
attributes relaxed to "all but one" (`_loose_rows`).
"""

from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils.translation import get_language

from shopyard.catalog.models import Brand, Category
from shopyard.shops.models import Shop

from . import text
from .backends import backend, combinations
from .models import AttributeValue, QueryStat, SearchDocument, SearchTerm, SuggestPrefix, Synonym
from .services import PREFIX_MAX, PRICE_BANDS, SYNONYMS_KEY, attribute_of, popularity, reputation

WINDOW = 1000  # the best text matches ranked, counted and faceted
PER_PAGE = 24
SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest")
FACETS = ("category", "brand", "shop", "price")
SALES_WEIGHT = 0.05
RATING_WEIGHT = 0.1  # per star above (or below) the prior, see services.reputation
RELAXED_STEP = 10.0  # relaxed matches: each matched word outranks any text score and boost
MAX_ATTRIBUTES = 10  # attribute values one search may require
MAX_COMBINATIONS = 20  # relaxed match: word combinations ORed in one text-index query
LITERAL_BONUS = 1.0
HEAD_BONUS = 0.5


@dataclass
class Filters:
    category: int | None = None
    brand: int | None = None
    shop: int | None = None
    price: int | None = None  # a price range, 1-based (services.price_band)
    in_stock: bool = False
    on_promotion: bool = False
    attributes: tuple = ()  # AttributeValue ids: one of each attribute's chosen values required

    def active(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None and v is not False and v != ()}


@dataclass
class SearchResult:
    q: str = ""
    corrected: str = ""
    total: int = 0
    page: int = 1
    pages: int = 0
    per_page: int = PER_PAGE
    ids: list = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    capped: bool = False
    relaxed: bool = False  # no product had every word: these match most of them

    @property
    def first_position(self) -> int:
        return (self.page - 1) * self.per_page + 1


def synonym_groups() -> list:
    groups = cache.get(SYNONYMS_KEY)
    if groups is None:
        groups = [text.synonym_tokens(s.term_list()) for s in Synonym.objects.all()]
        cache.set(SYNONYMS_KEY, groups, 300)
    return groups


def parse(q: str) -> text.Query:
    return text.parse(text.clean_query(q), synonym_groups())


# --- spelling tolerance -------------------------------------------------------------


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def correct(query: text.Query) -> text.Query | None:
    """The query with each word the index does not know replaced by the nearest
    indexed word (edit distance 1, or 2 for words of six letters or more; a
    Chinese word by its pinyin, so a homophone typo still finds the product),
    or None when nothing could be corrected."""
    words = [g[0][0] for g in query.groups if len(g[0]) == 1]
    if words and all(text.is_cjk(w) for w in words):  # 耳鸡 (two characters to jieba) sounds like 耳机: erji
        sound = text.stem(text.pinyin_full("".join(words)))
        if sound and SearchTerm.objects.filter(term=sound).exists():
            return text.Query(groups=(((sound,),),), text=sound)
    known = set(SearchTerm.objects.filter(term__in=words).values_list("term", flat=True))
    changed, groups = False, []
    for group in query.groups:
        word = group[0][0] if len(group[0]) == 1 else None
        if word is None or word in known or len(group) > 1:
            groups.append(group)
            continue
        replacement = None
        if text.is_cjk(word):
            candidate = text.stem(text.pinyin_full(word))
            if candidate and SearchTerm.objects.filter(term=candidate).exists():
                replacement = candidate
        elif len(word) >= 3:
            limit = 1 if len(word) < 6 else 2
            best = None
            for term, docs in SearchTerm.objects.filter(
                    length__gte=len(word) - limit, length__lte=len(word) + limit,
                    first__in=[word[0], word[1]]).values_list("term", "documents"):
                d = edit_distance(word, term, limit)
                if d <= limit and (best is None or (d, -docs) < best[:2]):
                    best = (d, -docs, term)
            replacement = best[2] if best else None
        if replacement:
            changed = True
            groups.append(((replacement,),))
        else:
            groups.append(group)
    if not changed:
        return None
    return text.Query(groups=tuple(groups), text=" ".join(g[0][0] for g in groups if len(g[0]) == 1))


# --- the search ---------------------------------------------------------------------

# a match row: (score, product, shop, category, top category, brand, price band, in stock,
# on promotion, sales, lowest price, created at, title terms, head-word terms)


def attribute_choice(ids) -> tuple:
    """The chosen attribute values by attribute: ((attribute, (id, ...)), ...), attributes in
    a fixed order. An id that names no value is an attribute of its own that no product
    has, so it finds nothing (as an unknown category or brand does)."""
    if not ids:
        return ()
    ids = list(dict.fromkeys(ids))
    keys = dict(AttributeValue.objects.filter(pk__in=ids).values_list("pk", "key"))
    groups = {}
    for pk in ids:
        groups.setdefault(attribute_of(keys[pk]) if pk in keys else f"#{pk}", []).append(pk)
    return tuple((name, tuple(sorted(group))) for name, group in sorted(groups.items()))


def _has_one_of(row, ids) -> bool:
    own = row[14] or ""
    return any(f" {pk} " in own for pk in ids)


def _failures(row, filters: Filters, groups=()) -> tuple:
    """The filters a match row fails, by facet name ("attributes" when it misses a chosen
    attribute), stopping at two: one is all a facet count forgives (its own)."""
    failed = ()
    if filters.category is not None and filters.category not in (row[3], row[4]):
        failed += ("category",)
    if filters.brand is not None and row[5] != filters.brand:
        failed += ("brand",)
    if filters.shop is not None and row[2] != filters.shop:
        failed += ("shop",)
    if len(failed) < 2 and filters.price is not None and row[6] != filters.price:
        failed += ("price",)
    if len(failed) < 2 and filters.in_stock and not row[7]:
        failed += ("in_stock",)
    if len(failed) < 2 and filters.on_promotion and not row[8]:
        failed += ("on_promotion",)
    if groups and len(failed) < 2 and not all(_has_one_of(row, ids) for _name, ids in groups):
        failed += ("attributes",)
    return failed


def _keep(row, filters: Filters, groups=(), skip: str = "") -> bool:
    """Whether a match row passes the filters but `skip` (a facet name) and has one value of
    each attribute in `groups` (attribute_choice; an attribute left out is not required)."""
    return all(name == skip for name in _failures(row, filters, groups))


def _attribute_counts(rows, filters: Filters, groups, loose) -> list:
    """[(value id, count)]: for a value of an attribute without a choice, the results that
    have it; for a value of an attribute with one, the results if it replaced that choice
    (the other filters and attributes kept). `loose` holds the matches with every filter
    but the attributes, which need only all but one chosen attribute: a row that has every
    chosen attribute counts for all its values, a row that misses one attribute only for
    its values of that attribute. The chosen values are listed even at 0, to be unticked."""
    counts, missed = {}, {}
    for row in (loose if groups else rows):
        if not row[14] or not _keep(row, filters):
            continue
        misses = [name for name, ids in groups if not _has_one_of(row, ids)]
        if not misses:
            for pk in row[14].split():
                counts[int(pk)] = counts.get(int(pk), 0) + 1
        elif len(misses) == 1:
            missed.setdefault(misses[0], []).append(row)
    if missed:  # which of those rows' values belong to the attribute they missed
        ids = {int(pk) for batch in missed.values() for row in batch for pk in row[14].split()}
        keys = {}
        chunk = sorted(ids)
        for start in range(0, len(chunk), 500):
            keys.update(AttributeValue.objects.filter(pk__in=chunk[start:start + 500]).values_list("pk", "key"))
        for name, batch in missed.items():
            for row in batch:
                for pk in map(int, row[14].split()):
                    if pk in keys and attribute_of(keys[pk]) == name:
                        counts[pk] = counts.get(pk, 0) + 1
    for _name, ids in groups:
        for pk in ids:
            counts.setdefault(pk, 0)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _facets(rows, filters: Filters, groups=(), loose=()) -> dict:
    """Each facet value counted on the rows that pass every other filter (`_keep` with
    the facet skipped), in one pass over the rows."""
    cols = {"category": 3, "brand": 5, "shop": 2, "price": 6}
    counts = {name: {} for name in cols}
    in_stock = on_promotion = 0
    for row in rows:
        failed = _failures(row, filters, groups)
        if len(failed) > 1:
            continue
        for name, col in cols.items():
            value = row[col]
            if value is not None and (not failed or failed[0] == name):
                counts[name][value] = counts[name].get(value, 0) + 1
        if row[7] and (not failed or failed[0] == "in_stock"):
            in_stock += 1
        if row[8] and (not failed or failed[0] == "on_promotion"):
            on_promotion += 1
    out = {name: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for name, c in counts.items()}
    out["attributes"] = _attribute_counts(rows, filters, groups, loose)
    out["in_stock"] = in_stock
    out["on_promotion"] = on_promotion
    return out


def _sort_key(sort: str, top: float):
    top = top or 1.0
    if sort == "sales":
        return lambda r: (not r[7], -r[9], -r[1])
    if sort == "price_asc":
        return lambda r: (not r[7], r[10], r[1])
    if sort == "price_desc":
        return lambda r: (not r[7], -r[10], -r[1])
    return lambda r: (not r[7], -(r[0] / top + SALES_WEIGHT * popularity(r[9]) + RATING_WEIGHT * reputation(r[15], r[16])),
                      -r[1])


def _rescored(query, rows) -> list:
    """Text scores scaled to (0, 1], plus LITERAL_BONUS for documents whose title holds
    the words as typed (not only a synonym, the inner words of a long Chinese word, or
    words of the category or brand), plus HEAD_BONUS when the title's head word matches
    (a 手机 rather than a 手机壳 for 手机)."""
    top = max(r[0] for r in rows) or 1.0
    # tokens space-wrapped, found in the row's space-wrapped terms (no set per row)
    literal = [f" {t} " for g in query.groups for t in g[0]]
    tokens = [f" {t} " for t in query.tokens()]
    out = []
    for r in rows:
        title, head = f" {r[12] or ''} ", f" {r[13] or ''} "
        bonus = ((LITERAL_BONUS if all(t in title for t in literal) else 0)
                 + (HEAD_BONUS if any(t in head for t in tokens) else 0))
        out.append((r[0] / top + bonus, *r[1:]))
    return out


def _match(engine, query, where) -> tuple[list, bool]:
    """The WINDOW best matches: in titles first (cheap: the smaller index); when the
    titles alone fill the window the word is broad and those are the results,
    otherwise every field is searched (brand, category, attributes too).

    Broad is said of the words, not of the filters: a word whose titles fill the window
    without filters (a cheap count that stops at WINDOW) keeps to titles with filters
    too, as long as some title passes them, rather than ranking every field of tens of
    thousands of documents to fill the window again."""
    rows = engine.match(query, limit=WINDOW, titles_only=True, filters=where)
    if len(rows) >= WINDOW:
        return rows, True
    if where and rows and engine.count(query, cap=WINDOW, titles_only=True) >= WINDOW:
        return rows, True
    return engine.match(query, limit=WINDOW, filters=where), False


def _relaxed(engine, query, where) -> list:
    """When no product has every word: products with most of them (more than half, so
    never one word of two), scored so that more matched words always rank first.

    Words the index does not hold at all cannot match: with too few known words there
    is nothing to relax (the spelling correction runs next); with exactly enough, the
    known words together are the query (one ordinary match); otherwise one match of
    enough of the known words (every field: the text index ORs the combinations of
    `need` words when there are at most MAX_COMBINATIONS of them, which keeps a broad
    word alone from being ranked; any one known word beyond that), the WINDOW best
    text matches, each row's words counted against its terms."""
    need = len(query.groups) // 2 + 1
    tokens = {t for group in query.groups for alt in group for t in alt}
    indexed = set(SearchTerm.objects.filter(term__in=tokens).values_list("term", flat=True))
    known = tuple(group for group in query.groups if any(set(alt) <= indexed for alt in group))
    if len(known) < need:
        return []
    if len(known) == need:
        rows, _broad = _match(engine, text.Query(groups=known, text=query.text), where)
        top = max((r[0] for r in rows), default=1.0) or 1.0
        return [(r[0] / top + RELAXED_STEP * need, *r[1:]) for r in rows]
    at_least = need if len(combinations(len(known), need)) <= MAX_COMBINATIONS else 1
    rows = engine.match(text.Query(groups=known, text=query.text), limit=WINDOW, filters=where, at_least=at_least,
                        other_terms=True)
    # each group as its alternatives' space-wrapped tokens, found in a row's space-wrapped terms
    wanted = [[[f" {t} " for t in alt] for alt in group] for group in known]
    out = []
    for r in rows:
        terms = f" {r[12] or ''} {r[13] or ''} {r[17] or ''} "
        matched = sum(1 for group in wanted if any(all(t in terms for t in alt) for alt in group))
        if matched >= need:
            out.append((r[0], matched, r[:17]))
    if not out:
        return []
    top = max(score for score, _m, _r in out) or 1.0
    return [(score / top + RELAXED_STEP * matched, *r[1:]) for score, matched, r in out]


def _sql_filters(filters: Filters, groups, *, loose=False) -> dict:
    """The filters for the match: the attributes as value-id tuples, one per attribute (all
    required; with `loose`, all but one, and none when only one is chosen)."""
    where = {name: value for name, value in filters.active().items() if name != "attributes"}
    if groups and not loose:
        where["attributes"] = tuple(ids for _name, ids in groups)
    elif len(groups) > 1:
        where["attributes_but_one"] = tuple(ids for _name, ids in groups)
    return where


def _loose_rows(engine, query, filters: Filters, groups, *, relaxed: bool) -> list:
    """The matches an attribute with a choice is counted on (see _attribute_counts): the
    same query, the same way (relaxed or not), with the attributes loosened."""
    if not groups:
        return []
    where = _sql_filters(filters, groups, loose=True)
    if relaxed:
        return _relaxed(engine, query, where)
    return _match(engine, query, where)[0]


def search(q, *, filters: Filters | None = None, sort="relevance", page=1, per_page=PER_PAGE) -> SearchResult:
    """Visible products matching `q`, filtered, faceted, ranked and paged. An empty
    query, one of punctuation only, or a page past the end give an empty page.

    A query whose words fill the window from titles alone is matched in titles only;
    either way the WINDOW best text matches (filters applied) are ranked, counted and
    faceted, and `capped` tells the window was full."""
    filters = filters or Filters()
    sort = sort if sort in SORTS else "relevance"
    cleaned = text.clean_query(q)
    result = SearchResult(q=cleaned, per_page=per_page, page=max(1, page or 1))
    query = parse(cleaned)
    if not query:
        return result
    engine = backend()
    groups = attribute_choice(filters.attributes)
    where = _sql_filters(filters, groups)
    rows, broad = _match(engine, query, where)
    relaxed = []
    if not rows and len(query.groups) > 1:
        relaxed = _relaxed(engine, query, where)
        result.relaxed = bool(relaxed)
    if not rows and not relaxed:
        fixed = correct(query)
        if fixed:
            rows, broad = _match(engine, fixed, where)
            if rows:
                query, result.corrected = fixed, fixed.text
    result.capped = broad or len(rows) >= WINDOW
    if not rows and not relaxed:
        return result
    if relaxed:
        rows, result.capped = relaxed, len(relaxed) >= WINDOW
    else:
        rows = _rescored(query, rows)
    result.facets = _facets(rows, filters, groups, _loose_rows(engine, query, filters, groups, relaxed=bool(relaxed)))
    kept = [r for r in rows if _keep(r, filters, groups)]
    if sort == "newest":  # created_at is text on SQLite, a datetime on PostgreSQL: both order correctly
        kept.sort(key=lambda r: (r[11], r[1]), reverse=True)
        kept.sort(key=lambda r: not r[7])
    else:
        kept.sort(key=_sort_key(sort, 1.0))
    result.total = len(kept)
    result.pages = (len(kept) + per_page - 1) // per_page
    start = (result.page - 1) * per_page
    result.ids = [r[1] for r in kept[start:start + per_page]]
    return result


def facet_labels(result: SearchResult) -> dict:
    """Names for the facet values of a result (one query per facet with values); an attribute
    value's is (attribute name, value, attribute: what attribute_choice groups it by)."""
    lang_en = (get_language() or "").startswith("en")

    def pick(name, name_en):
        return name_en if lang_en and name_en else name

    labels = {"price": {n: price_label(n) for n, _c in result.facets.get("price", [])}}
    for key, model in (("category", Category), ("brand", Brand), ("shop", Shop)):
        ids = [i for i, _c in result.facets.get(key, [])]
        labels[key] = {pk: pick(n, ne) for pk, n, ne in model.objects.filter(pk__in=ids).values_list(
            "pk", "name", "name_en")} if ids else {}
    ids = [i for i, _c in result.facets.get("attributes", [])]
    labels["attributes"] = {pk: (pick(n, ne), pick(v, ve), attribute_of(key)) for pk, n, ne, v, ve, key in
                            AttributeValue.objects.filter(pk__in=ids).values_list(
                                "pk", "name", "name_en", "value", "value_en", "key")} if ids else {}
    return labels


def attribute_groups(result: SearchResult, labels: dict, chosen=()) -> list[dict]:
    """The attribute facet grouped by attribute (as the search ORs them) for the page:
    [{"name": "颜色", "values": [(id, "红色", count, chosen?), ...]}, ...], biggest first;
    the name shown is that of the attribute's first value."""
    groups, names = {}, {}
    for pk, count in result.facets.get("attributes", []):
        if pk in labels.get("attributes", {}):
            name, value, attribute = labels["attributes"][pk]
            names.setdefault(attribute, name)
            groups.setdefault(attribute, []).append((pk, value, count, pk in chosen))
    return [{"name": names[attribute], "values": values} for attribute, values in
            sorted(groups.items(), key=lambda kv: (-sum(v[2] for v in kv[1]), names[kv[0]]))]


def price_label(band: int) -> str:
    """"100–200" for a 1-based price range; the last is open: "5000+"."""
    low = PRICE_BANDS[band - 1]
    if band < len(PRICE_BANDS):
        return f"{low:.0f}–{PRICE_BANDS[band]:.0f}"
    return f"{low:.0f}+"


# --- suggestions and the no-results page -----------------------------------------------------------


def suggest(q, *, limit=8) -> list[dict]:
    """What to offer while a shopper types: popular earlier queries starting with
    the text (or its pinyin) that found something, then product names whose words
    start with it (the last word as a prefix, so `shou` finds 手机)."""
    cleaned = text.clean_query(q)
    if not cleaned:
        return [{"kind": "query", "text": s} for s in top_queries(limit=limit)]
    key = text.normalise(cleaned)
    flat = key.replace(" ", "")
    from django.db.models import Q

    queries = list(QueryStat.objects.filter(Q(query__startswith=key) | Q(pinyin__startswith=flat), last_results__gt=0)
                   .order_by("-searches", "query").values_list("query", flat=True)[: limit // 2])
    out = [{"kind": "query", "text": s} for s in queries]
    query = parse(cleaned)
    if query:
        short = _short_prefix(query)
        if short:  # one indexed look-up of the precomputed best products (services.refresh_suggest_prefixes)
            ids = list(SuggestPrefix.objects.filter(prefix=short).order_by("rank")
                       .values_list("product_id", flat=True)[: limit - len(out)])
        else:
            ids = live_suggestion_ids(query, limit=limit - len(out))
        lang_en = (get_language() or "").startswith("en")
        docs = {d[0]: d for d in SearchDocument.objects.filter(pk__in=ids, is_visible=True).values_list(
            "product_id", "title", "title_en", "product__slug")}
        seen = set(queries)
        for pk in ids:
            if pk in docs:
                title = docs[pk][2] if lang_en and docs[pk][2] else docs[pk][1]
                if title not in seen:
                    seen.add(title)
                    out.append({"kind": "product", "text": title, "product_id": pk, "slug": docs[pk][3] or ""})
    return out[:limit]


def live_suggestion_ids(query, *, limit) -> list[int]:
    """Products whose title words start with the query's (the last word a prefix), from
    the text index: the 50 best text matches re-ranked by stock and sales."""
    rows = backend().match(query, limit=50, prefix_last=True, titles_only=True)
    top = max((r[0] for r in rows), default=1.0) or 1.0
    rows.sort(key=lambda r: (not r[7], -(r[0] / top + SALES_WEIGHT * popularity(r[9]))))
    return [r[1] for r in rows[:limit]]


def _short_prefix(query) -> str:
    """The one word of at most PREFIX_MAX characters a query is (then suggestions come
    from SuggestPrefix), or ""."""
    if len(query.groups) == 1 and len(query.groups[0]) == 1 and len(query.groups[0][0]) == 1:
        word = query.groups[0][0][0]
        return word if len(word) <= PREFIX_MAX else ""
    return ""


def top_queries(*, limit=8) -> list[str]:
    return list(QueryStat.objects.filter(last_results__gt=0).order_by("-searches", "query")
                .values_list("query", flat=True)[:limit])


def popular_product_ids(*, limit=8) -> list[int]:
    return list(SearchDocument.objects.filter(is_visible=True, in_stock=True).order_by("-sales", "-product_id")
                .values_list("product_id", flat=True)[:limit])


def products_in_order(ids) -> list:
    """The products of a result page, in its order, through the one visibility rule
    (a document indexed a moment before its product was hidden shows nothing)."""
    from shopyard.catalog.queries import visible_products, with_cover

    if not ids:
        return []
    found = {p.pk: p for p in with_cover(visible_products().filter(pk__in=ids))}
    return [found[i] for i in ids if i in found]
