"""Every write of the search app: the index (kept current from events, after
commit), the operators' dictionary and synonyms, and the search log.

The index holds what the one visibility rule (`catalog.queries.visible_products`)
says at indexing time, in `is_visible`; the backends only return visible
documents, and the pages load the products of a result page through the rule
again, so a document that is a moment stale can never show a hidden product.
"""

import math
from collections import Counter
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.models import Product
from shopyard.catalog.queries import visible_products
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.validation import check_id
from shopyard.inventory.models import StockLevel
from shopyard.promotions.discounts import listing_badges
from shopyard.reviews.queries import product_ratings

from . import text
from .backends import backend
from .models import (
    AttributeValue,
    DictionaryWord,
    QueryStat,
    SearchDocument,
    SearchLog,
    SearchTerm,
    SuggestPrefix,
    Synonym,
)

PRODUCT_EVENTS = ("product.created", "product.updated", "product.published", "product.unpublished")
SHOP_EVENTS = ("shop.suspended", "shop.reopened", "shop.updated")
STOCK_EVENTS = ("stock.changed",)
BATCH_EVENTS = ("products.changed",)
# a product's rating changes when a review is written, hidden or shown again
REVIEW_EVENTS = ("review.created", "review.hidden", "review.shown")

# lower bounds of the price ranges (in the currency's units); the facet shows each as "a–b"
PRICE_BANDS = (Decimal(0), Decimal(50), Decimal(100), Decimal(200), Decimal(500), Decimal(1000),
               Decimal(2000), Decimal(5000))
BATCH = 1000
PROMOTION_REFRESH_SECONDS = 600
PROMOTION_REFRESH_KEY = "search:promotions-refreshed-at"
PREFIX_REFRESH_SECONDS = 900
PREFIX_REFRESH_KEY = "search:prefixes-refreshed-at"
PREFIX_MAX = 2  # prefixes up to this many characters are answered from SuggestPrefix
PREFIX_KEEP = 10  # products kept per prefix
SYNONYMS_KEY = "search:synonyms"


def price_band(price) -> int:
    """The price range (1-based: 1 is the cheapest) a price falls in."""
    band = 1
    for n, low in enumerate(PRICE_BANDS, 1):
        if price >= low:
            band = n
    return band


def popularity(sales: int) -> float:
    """The ranking boost of sales: grows slowly (log), so a best-seller that matches
    the words weakly never beats a product that matches them well by much."""
    return math.log1p(max(sales, 0))


RATING_PRIOR = Decimal(4)  # what an unreviewed product is assumed to deserve
RATING_PRIOR_WEIGHT = 5  # ...worth this many reviews


def reputation(rating, reviews: int) -> float:
    """The ranking boost of reviews: the average stars pulled towards RATING_PRIOR
    by RATING_PRIOR_WEIGHT imaginary reviews, minus the prior: 0 without reviews,
    about +0.8 for many five-star reviews, down to -3 for many one-star ones, and one
    review moves it little."""
    if rating is None or not reviews:
        return 0.0
    rating = Decimal(str(rating))
    smoothed = (rating * reviews + RATING_PRIOR * RATING_PRIOR_WEIGHT) / (reviews + RATING_PRIOR_WEIGHT)
    return float(smoothed - RATING_PRIOR)


# --- indexing ---------------------------------------------------------------------


def attribute_key(name: str, value: str) -> str:
    """What makes two sellers' attribute values one facet value: the same name and value,
    case and width folded (颜色/红色 of two shops, Colour/Red and colour/red)."""
    return f"{' '.join(text.normalise(name).split())}\x1f{' '.join(text.normalise(value).split())}"[:110]


def attribute_of(key: str) -> str:
    """The attribute an `attribute_key` belongs to (its folded name): a search ORs the
    chosen values of one attribute (红色 or 蓝色) and ANDs attributes; two sellers'
    Colour and colour (case and width folded) are one attribute, as their values are."""
    return key.split("\x1f", 1)[0]


def _attribute_values(products) -> dict:
    """{product id: [AttributeValue id, ...]} of the options its active SKUs use
    (rows created on first sight; concurrent indexers may both insert: ignore_conflicts)."""
    per_product, wanted = {}, {}
    for p in products:
        options = {o.pk: (a, o) for a in p.attributes.all() for o in a.options.all()}
        used = {o.pk for s in p.skus.all() if s.is_active for o in s.options.all()}
        keys = []
        for pk in sorted(used & options.keys()):
            a, o = options[pk]
            key = attribute_key(a.name, o.value)
            wanted.setdefault(key, AttributeValue(key=key, name=a.name[:50], name_en=a.name_en[:50],
                                                  value=o.value[:50], value_en=o.value_en[:50]))
            keys.append(key)
        per_product[p.pk] = keys
    if not wanted:
        return {pk: [] for pk in per_product}
    AttributeValue.objects.bulk_create(list(wanted.values()), ignore_conflicts=True)
    ids = dict(AttributeValue.objects.filter(key__in=list(wanted)).values_list("key", "pk"))
    return {pk: sorted({ids[k] for k in keys if k in ids}) for pk, keys in per_product.items()}


def _documents(products, *, now):
    ids = [p.pk for p in products]
    visible = set(visible_products().filter(pk__in=ids).values_list("pk", flat=True))
    ratings = product_ratings(ids)
    attributes = _attribute_values(products)
    in_stock = set(StockLevel.objects.filter(sku__product_id__in=ids, sku__is_active=True, quantity__gt=0)
                   .values_list("sku__product_id", flat=True))
    badges = listing_badges([p for p in products if p.pk in visible], now=now)
    docs, rows = [], []
    for p in products:
        cat = p.category
        root = cat.parent if cat.parent_id else cat
        title = text.index_terms(p.title, p.title_en)
        other_texts = [cat.name, cat.name_en, root.name, root.name_en]
        if p.brand_id:
            other_texts += [p.brand.name, p.brand.name_en]
        for attr in p.attributes.all():
            other_texts += [attr.name, attr.name_en, *(o.value for o in attr.options.all()),
                            *(o.value_en for o in attr.options.all())]
        other = text.index_terms(*other_texts)
        title_terms = text.joined(title.all())
        other_terms = text.joined(other.all())
        head_terms = text.joined(text.head_terms(p.title, p.title_en))
        docs.append(SearchDocument(
            product_id=p.pk, shop_id=p.shop_id, category_id=p.category_id, root_category_id=root.pk,
            brand_id=p.brand_id, title=p.title[:200], title_en=p.title_en[:200],
            title_terms=title_terms, other_terms=other_terms, head_terms=head_terms,
            pinyin=text.joined([*title.pinyin, *other.pinyin]), initials=text.joined([*title.initials, *other.initials]),
            currency=p.currency, min_price=p.min_price, max_price=p.max_price, price_band=price_band(p.min_price),
            in_stock=p.pk in in_stock, on_promotion=bool(badges.kinds.get(p.pk)), sales=p.sales_count,
            rating=ratings[p.pk][0] if p.pk in ratings else None, reviews=ratings.get(p.pk, (None, 0))[1],
            attribute_ids="".join(f" {i}" for i in attributes[p.pk]) + (" " if attributes[p.pk] else ""),
            is_published=p.status == Product.Status.PUBLISHED, is_visible=p.pk in visible,
            created_at=p.created_at, indexed_at=now,
        ))
        if p.pk in visible:  # the text index holds visible products only
            rows.append((p.pk, title_terms, other_terms, head_terms))
    return docs, rows


UPSERT_FIELDS = [f.name for f in SearchDocument._meta.concrete_fields if f.name != "product"]


def _load(ids):
    return list(Product.objects.filter(pk__in=ids).select_related("category", "category__parent", "brand")
                .prefetch_related("attributes__options", "skus__options").order_by("pk"))


def _add_terms(docs, counts=None) -> None:
    counts = counts if counts is not None else Counter(
        t for d in docs for t in set(f"{d.title_terms} {d.other_terms}".split()))
    SearchTerm.objects.bulk_create(
        [SearchTerm(term=t[:64], first=t[0], length=len(t), documents=n) for t, n in counts.items()],
        ignore_conflicts=True, batch_size=2000)


def index_products(*, product_ids, now=None) -> int:
    """(Re)index these products; a product that no longer exists leaves the index. Idempotent."""
    ids = sorted({int(i) for i in product_ids})
    now = now or timezone.now()
    text.ensure_dictionary()
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        products = _load(chunk)
        docs, rows = _documents(products, now=now)
        with transaction.atomic(), connection.cursor() as cursor:
            gone = set(chunk) - {p.pk for p in products}
            backend().delete(cursor, chunk)
            SearchDocument.objects.filter(product_id__in=gone).delete()
            # an upsert, so two deliveries indexing one product at once both succeed
            SearchDocument.objects.bulk_create(docs, update_conflicts=True, unique_fields=["product"],
                                               update_fields=UPSERT_FIELDS)
            backend().write(cursor, rows)
            _add_terms(docs)
        done += len(docs) + len(gone)
    return done


def rebuild_index(*, batch=BATCH, now=None, progress=None) -> int:
    """Empty the index and index every product again; returns the documents written."""
    now = now or timezone.now()
    text.ensure_dictionary()
    with transaction.atomic(), connection.cursor() as cursor:
        backend().clear(cursor)
        SearchDocument.objects.all().delete()
        SearchTerm.objects.all().delete()
    counts = Counter()
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), batch):
        products = _load(ids[start:start + batch])
        docs, rows = _documents(products, now=now)
        with transaction.atomic(), connection.cursor() as cursor:
            SearchDocument.objects.bulk_create(docs, batch_size=1000)
            backend().write(cursor, rows)
        counts.update(t for d in docs for t in set(f"{d.title_terms} {d.other_terms}".split()))
        written += len(docs)
        if progress:
            progress(written, len(ids))
    with transaction.atomic(), connection.cursor() as cursor:
        _add_terms([], counts)
        backend().optimise(cursor)
    refresh_suggest_prefixes()
    return written


def refresh_suggest_prefixes() -> int:
    """Rewrite SuggestPrefix: for every one- and two-character prefix of a word of a
    visible product's title (words, pinyin, initials), the PREFIX_KEEP products a shopper
    typing it is offered, in stock first, then by sales and reviews. Such a prefix
    matches too much of the text index (`s` matches most of it) to rank while a
    shopper types; this table answers it with one indexed look-up. Run by the rebuild
    and by the periodic job every PREFIX_REFRESH_SECONDS; a product hidden since is
    dropped at read time (suggestions join the visible documents). Returns rows written."""
    import heapq

    best: dict[str, list] = {}
    docs = SearchDocument.objects.filter(is_visible=True).values_list(
        "product_id", "title_terms", "head_terms", "sales", "in_stock", "rating", "reviews").iterator(chunk_size=5000)
    for pk, title_terms, head_terms, sales, in_stock, rating, reviews in docs:
        key = (bool(in_stock), popularity(sales) + reputation(rating, reviews), pk)
        prefixes = {t[:n] for t in f"{title_terms} {head_terms}".split() for n in range(1, PREFIX_MAX + 1)
                    if len(t) >= n}
        for prefix in prefixes:
            heap = best.setdefault(prefix, [])
            if len(heap) < PREFIX_KEEP:
                heapq.heappush(heap, key)
            elif key > heap[0]:
                heapq.heapreplace(heap, key)
    rows = [SuggestPrefix(prefix=prefix, rank=rank, product_id=key[2])
            for prefix, heap in best.items() for rank, key in enumerate(sorted(heap, reverse=True), 1)]
    with transaction.atomic():
        SuggestPrefix.objects.all().delete()
        SuggestPrefix.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def on_product_event(payload) -> None:
    index_products(product_ids=[payload["product_id"]])


def on_products_event(payload) -> None:
    """A batch of products changed at once (bulk catalogue import or edit): one event, indexed in batches."""
    index_products(product_ids=payload["product_ids"])


def on_shop_event(payload) -> None:
    index_products(product_ids=Product.objects.filter(shop_id=payload["shop_id"]).values_list("pk", flat=True))


def on_stock_event(payload) -> None:
    index_products(product_ids=[payload["product_id"]])


def on_review_event(payload) -> None:
    if payload.get("product_id"):
        index_products(product_ids=[payload["product_id"]])


def refresh_signals(now=None) -> int:
    """The periodic job: bring sales and stock flags (changed by orders, which emit
    no per-unit event) up to date in two UPDATEs, and every PROMOTION_REFRESH_SECONDS
    the on-promotion flags (promotions start and end by the clock). Returns rows changed."""
    now = now or timezone.now()
    sales = Subquery(Product.objects.filter(pk=OuterRef("product_id")).values("sales_count")[:1])
    changed = SearchDocument.objects.annotate(s=sales).exclude(sales=F("s")).filter(s__isnull=False).update(sales=sales)
    stocked = Exists(StockLevel.objects.filter(sku__product_id=OuterRef("product_id"), sku__is_active=True,
                                               quantity__gt=0))
    changed += SearchDocument.objects.filter(Q(in_stock=True) & ~stocked | Q(in_stock=False) & stocked).update(
        in_stock=stocked)
    last = cache.get(PREFIX_REFRESH_KEY)
    if last is None or (now.timestamp() - last) >= PREFIX_REFRESH_SECONDS:
        cache.set(PREFIX_REFRESH_KEY, now.timestamp(), None)
        refresh_suggest_prefixes()
    last = cache.get(PROMOTION_REFRESH_KEY)
    if last is None or (now.timestamp() - last) >= PROMOTION_REFRESH_SECONDS:
        cache.set(PROMOTION_REFRESH_KEY, now.timestamp(), None)
        ids = list(SearchDocument.objects.filter(is_visible=True).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            products = list(Product.objects.filter(pk__in=ids[start:start + BATCH]))
            kinds = listing_badges(products, now=now).kinds
            promoted = {pk for pk, k in kinds.items() if k}
            chunk = ids[start:start + BATCH]
            changed += SearchDocument.objects.filter(product_id__in=promoted, on_promotion=False).update(on_promotion=True)
            changed += SearchDocument.objects.filter(product_id__in=set(chunk) - promoted, on_promotion=True).update(
                on_promotion=False)
    return changed


# --- dictionary and synonyms --------------------------------------------------------


def clean_word(word) -> str:
    word = " ".join(str(word or "").split())
    if not word:
        raise ValidationFailed(fields={"word": [_("Enter a word.")]})
    if len(word) > 50 or "\x00" in word:
        raise ValidationFailed(fields={"word": [_("Use at most 50 characters.")]})
    return word


def save_dictionary_word(*, actor, word, frequency=100000, pk=None) -> DictionaryWord:
    """Add or change a word of the user dictionary; every process reloads it before its next search."""
    word = clean_word(word)
    with transaction.atomic():
        if pk is None:
            obj = DictionaryWord(word=word, frequency=frequency)
        else:
            obj = DictionaryWord.objects.select_for_update().filter(pk=check_id(pk, "id")).first()
            if obj is None:
                raise NotFound(_("Word not found."))
            if obj.word != word:
                text.forget_word(obj.word)
            obj.word, obj.frequency = word, frequency
        if DictionaryWord.objects.filter(word=word).exclude(pk=obj.pk).exists():
            raise ValidationFailed(fields={"word": [_("This word is already in the dictionary.")]})
        obj.save()
        transaction.on_commit(text.dictionary_changed)
    return obj


def delete_dictionary_word(*, actor, pk) -> None:
    with transaction.atomic():
        obj = DictionaryWord.objects.filter(pk=check_id(pk, "id")).first()
        if obj is None:
            raise NotFound(_("Word not found."))
        text.forget_word(obj.word)
        obj.delete()
        transaction.on_commit(text.dictionary_changed)


def clean_terms(terms) -> list[str]:
    raw = str(terms or "")
    if len(raw) > 500 or "\x00" in raw:
        raise ValidationFailed(fields={"terms": [_("Use at most 500 characters.")]})
    listed = Synonym(terms=raw).term_list()
    if len(listed) < 2:
        raise ValidationFailed(fields={"terms": [_("Give at least two terms, separated by commas.")]})
    return listed


def save_synonyms(*, actor, terms, pk=None) -> Synonym:
    """Save a synonym group (comma-separated terms, at least two)."""
    listed = clean_terms(terms)
    obj = Synonym()
    with transaction.atomic():
        if pk is not None:
            obj = Synonym.objects.select_for_update().filter(pk=check_id(pk, "id")).first()
            if obj is None:
                raise NotFound(_("Synonym group not found."))
        obj.terms = ", ".join(listed)
        obj.save()
        transaction.on_commit(lambda: cache.delete(SYNONYMS_KEY))
    return obj


def delete_synonyms(*, actor, pk) -> None:
    with transaction.atomic():
        deleted, _n = Synonym.objects.filter(pk=check_id(pk, "id")).delete()
        if not deleted:
            raise NotFound(_("Synonym group not found."))
        transaction.on_commit(lambda: cache.delete(SYNONYMS_KEY))


# --- the search log ------------------------------------------------------------------


def log_search(*, query, results, corrected="", user=None, session_key="", now=None) -> SearchLog | None:
    """Record one search (page one of a query) and count it for the query's statistics."""
    query = text.clean_query(query)
    if not query:
        return None
    now = now or timezone.now()
    key = text.normalise(query)[:200]
    with transaction.atomic():
        entry = SearchLog.objects.create(query=query, results=results, corrected=corrected[:200],
                                         user=user if getattr(user, "is_authenticated", False) else None,
                                         session_key=(session_key or "")[:40])
        updated = QueryStat.objects.filter(query=key).update(
            searches=F("searches") + 1, zero_results=F("zero_results") + (0 if results else 1),
            last_results=results, last_searched_at=now)
        if not updated:
            QueryStat.objects.bulk_create([QueryStat(
                query=key, pinyin=text.pinyin_full(key)[:400] if text.CJK.search(key) else key.replace(" ", "")[:400],
                searches=1, zero_results=0 if results else 1, last_results=results, last_searched_at=now)],
                ignore_conflicts=True)
    return entry


def record_click(*, log_id, product_id, position, now=None) -> bool:
    """Note which result (1-based position) a search led to; only the first click of a
    log entry is recorded (the caller checked the link came from that results page)."""
    log_id, product_id = check_id(log_id, "log"), check_id(product_id, "product")
    try:
        position = max(1, min(int(position), 10_000))
    except (TypeError, ValueError):
        position = None
    now = now or timezone.now()
    with transaction.atomic():
        entry = SearchLog.objects.select_for_update().filter(pk=log_id, clicked_at__isnull=True).first()
        if entry is None:
            return False
        SearchLog.objects.filter(pk=entry.pk).update(clicked_product_id=product_id, click_position=position,
                                                     clicked_at=now)
        QueryStat.objects.filter(query=text.normalise(entry.query)[:200]).update(clicks=F("clicks") + 1)
    return True
