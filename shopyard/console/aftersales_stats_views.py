"""The seller's after-sales statistics (console, the current shop only): counts and rates
by type, reason, product and day for a period, as tables and charts, and the same figures
as CSV. The figures come from aftersales.stats; the period rules and the CSV writer are
the operator page's (aftersales.stats_views)."""

from django.urls import reverse

from shopyard.aftersales import stats
from shopyard.aftersales.stats_views import csv_response, page_context, read_period

from .access import seller_required
from .views import _render


def _statistics(request, *, export):
    period, errors = read_period(request)
    data = None if errors else stats.figures(shop=request.console.shop, period=period)
    if data is not None and export:
        return csv_response(data)
    return _render(request, "console/aftersales_stats.html", {
        **page_context(request, period, errors, data), "shops": None, "nav": "aftersales_stats",
        "export_url": reverse("console:aftersales_stats_export"),
    }, status=422 if errors else 200)


@seller_required("statistics")
def statistics(request):
    return _statistics(request, export=False)


@seller_required("statistics")
def export(request):
    return _statistics(request, export=True)
