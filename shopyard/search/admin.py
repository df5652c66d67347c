"""Operators edit the user dictionary and synonyms (through the services, so
every process reloads them) and read the search log: top queries and queries
that found nothing. The index itself is read-only here: `rebuild_search_index`
rewrites it."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, money_display
from shopyard.core.errors import DomainError

from . import services
from .models import DictionaryWord, QueryStat, SearchDocument, SearchLog, SearchTerm, Synonym


def _errors_to_form(form, exc: DomainError):
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class DictionaryWordForm(forms.ModelForm):
    class Meta:
        model = DictionaryWord
        fields = ["word", "frequency"]

    def clean(self):
        data = super().clean()
        try:
            services.clean_word(data.get("word"))
        except DomainError as exc:
            _errors_to_form(self, exc)
        return data


@admin.register(DictionaryWord)
class DictionaryWordAdmin(admin.ModelAdmin):
    form = DictionaryWordForm
    list_display = ("word", "frequency", "updated_at")
    search_fields = ("word",)

    def save_model(self, request, obj, form, change):
        saved = services.save_dictionary_word(actor=request.user, word=form.cleaned_data["word"],
                                              frequency=form.cleaned_data["frequency"], pk=obj.pk if change else None)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.delete_dictionary_word(actor=request.user, pk=obj.pk)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_dictionary_word(actor=request.user, pk=obj.pk)


class SynonymForm(forms.ModelForm):
    class Meta:
        model = Synonym
        fields = ["terms"]

    def clean(self):
        data = super().clean()
        try:
            services.clean_terms(data.get("terms"))
        except DomainError as exc:
            _errors_to_form(self, exc)
        return data


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    form = SynonymForm
    list_display = ("terms", "updated_at")
    search_fields = ("terms",)

    def save_model(self, request, obj, form, change):
        saved = services.save_synonyms(actor=request.user, terms=form.cleaned_data["terms"],
                                       pk=obj.pk if change else None)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.delete_synonyms(actor=request.user, pk=obj.pk)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_synonyms(actor=request.user, pk=obj.pk)


class ZeroResultsFilter(admin.SimpleListFilter):
    title = _("results")
    parameter_name = "found"

    def lookups(self, request, model_admin):
        return [("none", _("found nothing")), ("some", _("found something"))]

    def queryset(self, request, queryset):
        field = "last_results" if queryset.model is QueryStat else "results"
        if self.value() == "none":
            return queryset.filter(**{field: 0})
        if self.value() == "some":
            return queryset.filter(**{f"{field}__gt": 0})
        return queryset


@admin.register(QueryStat)
class QueryStatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Top queries (sorted by searches) and, filtered, the queries that find nothing."""

    list_display = ("query", "searches", "zero_results", "clicks", "last_results", "last_searched_at")
    list_filter = (ZeroResultsFilter,)
    search_fields = ("query", "pinyin")
    ordering = ("-searches", "query")


@admin.register(SearchLog)
class SearchLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("query", "results", "corrected", "user", "click_position", "clicked_product_id", "created_at")
    list_filter = (ZeroResultsFilter,)
    search_fields = ("query",)
    date_hierarchy = "created_at"


@admin.register(SearchDocument)
class SearchDocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("product_id", "title", "min_price_text", "is_visible", "in_stock", "on_promotion", "sales",
                    "indexed_at")
    list_filter = ("is_visible", "in_stock", "on_promotion")
    search_fields = ("title", "title_en", "pinyin")
    min_price_text = money_display("min_price", _("lowest price"))
    max_price_text = money_display("max_price", _("highest price"))
    fields = ("product", "title", "title_en", "title_terms", "other_terms", "pinyin", "initials", "shop_id",
              "category_id", "root_category_id", "brand_id", ("min_price_text", "max_price_text"), "price_band",
              "in_stock", "on_promotion", "sales", "rating", "is_published", "is_visible", "created_at", "indexed_at")
    readonly_fields = fields[:11] + ("min_price_text", "max_price_text") + fields[12:]


@admin.register(SearchTerm)
class SearchTermAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("term", "documents")
    search_fields = ("term",)
    ordering = ("-documents", "term")
