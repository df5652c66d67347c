"""The search index (one row per product), the operators' dictionary and
synonyms, and the search log.

`SearchDocument` is a denormalised copy the search backends read: the text as
pre-segmented tokens (jieba words, stemmed English, pinyin full and initials)
and the facet and ranking columns. Only `services` writes it, after commit,
from catalogue, shop and stock events; `rebuild_search_index` rewrites it.
Beside it each backend keeps its text index: an FTS5 table on SQLite, a
tsvector column with a GIN index on PostgreSQL (see migrations/0002).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchDocument(models.Model):
    product = models.OneToOneField("catalog.Product", primary_key=True, verbose_name=_("product"),
                                   on_delete=models.CASCADE, related_name="+")
    shop_id = models.BigIntegerField(_("shop"), db_index=True)
    category_id = models.BigIntegerField(_("category"))
    root_category_id = models.BigIntegerField(_("top category"))
    brand_id = models.BigIntegerField(_("brand"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    # space-separated tokens: the title's (weighted high) and the rest (brand, category, attributes)
    title_terms = models.TextField(_("title terms"), blank=True)
    other_terms = models.TextField(_("other terms"), blank=True)
    head_terms = models.TextField(_("head word terms"), blank=True)
    pinyin = models.TextField(_("pinyin"), blank=True)
    initials = models.TextField(_("pinyin initials"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    min_price = models.DecimalField(_("lowest price"), max_digits=20, decimal_places=4)
    max_price = models.DecimalField(_("highest price"), max_digits=20, decimal_places=4)
    price_band = models.PositiveSmallIntegerField(_("price range"), default=0)
    in_stock = models.BooleanField(_("in stock"), default=False)
    on_promotion = models.BooleanField(_("on promotion"), default=False)
    sales = models.PositiveIntegerField(_("sales"), default=0)
    rating = models.DecimalField(_("rating"), max_digits=3, decimal_places=2, null=True, blank=True)
    reviews = models.PositiveIntegerField(_("reviews"), default=0)
    # the AttributeValue ids of its active SKUs, space-separated and space-wrapped (" 3 17 "),
    # so one LIKE '% 17 %' filters on a value in either backend
    attribute_ids = models.TextField(_("attribute values"), blank=True, default="")
    is_published = models.BooleanField(_("published"), default=False)
    is_visible = models.BooleanField(_("visible"), default=False, db_index=True)
    created_at = models.DateTimeField(_("created at"))
    indexed_at = models.DateTimeField(_("indexed at"))

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        ordering = ["-product_id"]

    def __str__(self):
        return self.title


class AttributeValue(models.Model):
    """One attribute value across shops (颜色: 红色), the unit of the attribute facets.
    Sellers name attributes per product; values whose normalised name and value are
    equal share one row (`key`), so "红色" of two shops is one facet value."""

    key = models.CharField(_("key"), max_length=110, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)
    value = models.CharField(_("value"), max_length=50)
    value_en = models.CharField(_("English value"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        ordering = ["name", "value"]

    def __str__(self):
        return f"{self.name}: {self.value}"


class SuggestPrefix(models.Model):
    """The best products for a one- or two-character prefix of a title word, kept
    by the rebuild and the periodic job: what suggestions read for the prefixes that
    would match too much of the text index to rank while a shopper types."""

    prefix = models.CharField(_("prefix"), max_length=2)
    rank = models.PositiveSmallIntegerField(_("rank"))
    product_id = models.BigIntegerField(_("product"))

    class Meta:
        verbose_name = _("suggestion prefix")
        verbose_name_plural = _("suggestion prefixes")
        ordering = ["prefix", "rank"]
        constraints = [models.UniqueConstraint(fields=["prefix", "rank"], name="uniq_suggest_prefix_rank")]

    def __str__(self):
        return self.prefix


class SearchTerm(models.Model):
    """The vocabulary of the index: what the spelling-tolerant fallback and
    suggestions compare a query's words against."""

    term = models.CharField(_("term"), max_length=64, unique=True)
    first = models.CharField(_("first character"), max_length=1)
    length = models.PositiveSmallIntegerField(_("length"))
    documents = models.PositiveIntegerField(_("documents"), default=0)

    class Meta:
        verbose_name = _("search term")
        verbose_name_plural = _("search terms")
        ordering = ["term"]
        indexes = [models.Index(fields=["first", "length"], name="search_term_shape")]

    def __str__(self):
        return self.term


class DictionaryWord(models.Model):
    """A word jieba must keep whole (a brand, a product word): the operators' user dictionary."""

    word = models.CharField(_("word"), max_length=50, unique=True)
    frequency = models.PositiveIntegerField(_("frequency"), default=100000,
                                            help_text=_("Higher keeps the word together more strongly."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("dictionary word")
        verbose_name_plural = _("dictionary words")
        ordering = ["word"]

    def __str__(self):
        return self.word


class Synonym(models.Model):
    """Terms that mean the same, expanded at query time: 手机, mobile phone, cellphone."""

    terms = models.CharField(_("terms"), max_length=500,
                             help_text=_("Comma-separated, e.g. 手机, mobile phone, cellphone"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["id"]

    def __str__(self):
        return self.terms

    def term_list(self) -> list[str]:
        return [t.strip() for t in self.terms.replace("，", ",").split(",") if t.strip()]


class QueryStat(models.Model):
    """One row per normalised query: how often it is searched, how often it
    found nothing and was clicked; feeds suggestions and the operators' reports."""

    query = models.CharField(_("query"), max_length=200, unique=True)
    pinyin = models.CharField(_("pinyin"), max_length=400, blank=True, db_index=True)
    searches = models.PositiveIntegerField(_("searches"), default=0)
    zero_results = models.PositiveIntegerField(_("searches with no results"), default=0)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)
    last_results = models.PositiveIntegerField(_("results last time"), default=0)
    last_searched_at = models.DateTimeField(_("last searched at"))

    class Meta:
        verbose_name = _("query statistic")
        verbose_name_plural = _("query statistics")
        ordering = ["-searches", "query"]
        indexes = [models.Index(fields=["-searches"], name="search_querystat_top")]

    def __str__(self):
        return self.query


class SearchLog(models.Model):
    query = models.CharField(_("query"), max_length=200)
    results = models.PositiveIntegerField(_("results"))
    corrected = models.CharField(_("corrected query"), max_length=200, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("user"),
                             on_delete=models.SET_NULL, related_name="+")
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("searched at"), auto_now_add=True, db_index=True)
    clicked_product_id = models.BigIntegerField(_("clicked product"), null=True, blank=True)
    click_position = models.PositiveIntegerField(_("click position"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("search log entry")
        verbose_name_plural = _("search log")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.query
