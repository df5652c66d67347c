"""The operator's after-sales statistics page (beside the disputes page, at
/disputes/statistics/): every shop or one (`?shop_id=`), for a period, as tables and
charts, and the same figures as CSV. The seller console's page (console/
aftersales_stats_views.py) shares `read_period` and `csv_response` from here."""

import csv

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from shopyard.core import access
from shopyard.core.errors import NotFound, ValidationFailed

from . import stats

# one home for "who is an operator": core.access (kept importable from here)
operator_required = access.operator_required


def read_period(request):
    """(period, errors): the period the query string asks for, or the field errors."""
    try:
        return stats.parse_period(days=request.GET.get("days"), date_from=request.GET.get("from"),
                                  date_to=request.GET.get("to")), {}
    except ValidationFailed as exc:
        return None, {k: [str(m) for m in v] for k, v in exc.fields.items()}


def csv_response(data) -> HttpResponse:
    """The figures as a CSV download: UTF-8 with a byte-order mark, so that Excel reads the
    Chinese names right, named after the shop and the period."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stats.csv_filename(data)}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerows(stats.csv_rows(data))
    return response


def page_context(request, period, errors, data) -> dict:
    """What both statistics templates need (the form, the figures, the export link)."""
    query = {k: v for k, v in request.GET.items() if k in ("days", "from", "to", "shop_id", "shop") and v}
    return {
        "data": data, "period": period, "errors": errors, "form": request.GET,
        "presets": stats.PRESET_DAYS, "max_days": stats.MAX_DAYS,
        "custom": bool(request.GET.get("from") or request.GET.get("to")),
        "export_query": urlencode(query), "chart_data": data.chart_data() if data else None,
    }


def _statistics(request, *, export):
    errors, status, shop = {}, 200, None
    try:
        shop = stats.operator_shop(request.user, request.GET.get("shop_id"))
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
    period, period_errors = read_period(request)
    errors.update(period_errors)
    data = None
    if errors:
        status = 422
    else:
        data = stats.figures(shop=shop, period=period)
        if export:
            return csv_response(data)
    return render(request, "aftersales/stats.html", {
        **admin.site.each_context(request), "title": _("After-sales statistics"),
        **page_context(request, period, errors, data), "shops": stats.shops_for_filter(),
        "shop": shop, "export_url": reverse("aftersales:statistics_export"),
    }, status=status)


@operator_required
def statistics(request):
    return _statistics(request, export=False)


@operator_required
def statistics_export(request):
    return _statistics(request, export=True)
