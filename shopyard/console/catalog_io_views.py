"""Console pages of the bulk catalogue: import (upload, dry-run report,
confirm), export, and the bulk price and stock editor. The rules live in
catalog.bulk; these views parse the form and render."""

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shopyard.catalog import bulk
from shopyard.catalog.models import Product
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.money import money_str
from shopyard.core.validation import page_number, parse_id

from .access import seller_required
from .views import _messages_of, _render

ERRORS_SHOWN = 500
EDIT_PAGE_SIZE = 50
ITEM_FIELD = re.compile(r"items\[(\d{1,4})\]\.(\w+)")


def _import_page(request, *, plan=None, staged=None, file_errors=None, status=200):
    errors = plan.errors if plan else []
    return _render(request, "console/product_import.html", {
        "nav": "products", "plan": plan, "staged": staged, "file_errors": file_errors or [],
        "errors": [(e, bulk.COLUMN_LABELS.get(e.column, e.column)) for e in errors[:ERRORS_SHOWN]],
        "errors_hidden": max(0, len(errors) - ERRORS_SHOWN), "columns": bulk.COLUMNS,
        "required": bulk.REQUIRED, "max_rows": bulk.MAX_IMPORT_ROWS,
    }, status=status)


@seller_required("catalog")
@require_http_methods(["GET", "POST"])
def product_import(request):
    """GET: the upload form. POST: the dry run of the uploaded file — its
    errors, or what it would do and a button that imports exactly this file."""
    if request.method != "POST":
        return _import_page(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _import_page(request, file_errors=[_("Choose a CSV or XLSX file.")], status=422)
    if upload.size > bulk.MAX_IMPORT_BYTES:
        message = _("The file is larger than %(n)s MB.") % {"n": bulk.MAX_IMPORT_BYTES // (1024 * 1024)}
        return _import_page(request, file_errors=[message], status=422)
    try:
        plan, staged = bulk.stage_import(actor=request.user, shop=request.console.shop,
                                         data=upload.read(), filename=upload.name or "")
    except ValidationFailed as exc:
        return _import_page(request, file_errors=_messages_of(exc), status=422)
    return _import_page(request, plan=plan, staged=staged, status=200 if plan.ok else 422)


@seller_required("catalog")
@require_POST
def product_import_confirm(request):
    try:
        summary = bulk.confirm_import(actor=request.user, shop=request.console.shop,
                                      token=(request.POST.get("token") or "")[:64])
    except (NotFound, Conflict) as exc:
        return _import_page(request, file_errors=[str(exc.message)], status=exc.status)
    except bulk.ImportRefused as exc:
        return _import_page(request, plan=exc.plan, status=422)
    except ValidationFailed as exc:
        return _import_page(request, file_errors=_messages_of(exc), status=422)
    messages.success(request, _(
        "Imported: %(pc)s products created, %(pu)s updated; %(sc)s SKUs created, %(su)s updated.") % {
        "pc": summary["products_created"], "pu": summary["products_updated"],
        "sc": summary["skus_created"], "su": summary["skus_updated"]})
    return redirect("console:products")


@seller_required("catalog")
@require_GET
def product_export(request):
    fmt = request.GET.get("format") or "csv"
    if fmt not in bulk.FORMATS:
        raise Http404
    data, content_type, name = bulk.export_file(shop=request.console.shop, fmt=fmt)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _edit_rows(request):
    """The rows the form posted: [(sku id, {price, stock, stock_seen})]; None when an id is junk."""
    rows = []
    for value in request.POST.getlist("ids")[:bulk.MAX_EDIT_ITEMS + 1]:
        sku_id = parse_id(value)
        if sku_id is None:
            return None
        rows.append((sku_id, {key: (request.POST.get(f"{key}-{sku_id}") or "").strip()[:30]
                              for key in ("price", "stock", "stock_seen")}))
    return rows


@seller_required("catalog")
@require_http_methods(["GET", "POST"])
def sku_bulk_edit(request):
    """A table of the shop's SKUs (filter by text and status) whose prices
    and stock are edited together; saving is all or nothing, with each
    row's errors beside it."""
    shop = request.console.shop
    source = request.POST if request.method == "POST" else request.GET
    q = (source.get("q") or "").strip()[:100]
    status_filter = source.get("status") or ""
    page = Paginator(bulk.shop_skus(shop, q=q, status=status_filter), EDIT_PAGE_SIZE).get_page(
        page_number(source.get("page")))
    errors, typed, status = {}, {}, 200
    if request.method == "POST":
        rows = _edit_rows(request)
        if rows is None:
            raise Http404
        typed = {str(sku_id): values for sku_id, values in rows}
        items = [{"sku_id": sku_id, **values} for sku_id, values in rows]
        try:
            result = bulk.edit_skus(actor=request.user, shop=shop, items=items)
        except NotFound:
            raise Http404 from None
        except ValidationFailed as exc:
            status = 422
            for key, value in exc.fields.items():
                # "items[3].price" -> the row of the fourth SKU posted, its price field
                match = ITEM_FIELD.fullmatch(key)
                index = int(match[1]) if match else None
                target = str(rows[index][0]) if index is not None and index < len(rows) else "__all__"
                errors.setdefault(target, {}).setdefault(match[2] if match else "items", []).extend(
                    str(m) for m in (value if isinstance(value, list | tuple) else [value]))
        else:
            messages.success(request, _("Saved: %(p)s prices and %(s)s stock figures changed.")
                             % {"p": result["prices_changed"], "s": result["stocks_changed"]})
            query = urlencode([(k, v) for k, v in (("q", q), ("status", status_filter),
                                                   ("page", page.number if page.number > 1 else "")) if v])
            return redirect(reverse("console:sku_bulk_edit") + (f"?{query}" if query else ""))
    for sku in page.object_list:
        sku.form = _row_values(sku, typed.get(str(sku.pk)), errors.get(str(sku.pk), {}))
    return _render(request, "console/sku_bulk_edit.html", {
        "nav": "products", "page": page, "q": q, "status_filter": status_filter,
        "statuses": Product.Status.choices, "errors": errors,
        # a flat list: the errors not of one row are keyed "items", which a template's
        # `dict.items` would look up instead of the method
        "general_errors": [m for messages_ in errors.get("__all__", {}).values() for m in messages_],
    }, status=status)


def _row_values(sku, typed, errors):
    """What a row's inputs show: the figures now, or after a refused save what
    the seller typed. A stock the seller did not touch shows the figure now;
    a stock refused because it changed meanwhile keeps the typed figure
    against the figure now, so saving again applies it knowingly."""
    now = sku.stock.quantity if hasattr(sku, "stock") else 0
    price = money_str(sku.price, sku.product.currency)
    if typed is None:
        return {"price": price, "stock": now, "stock_seen": now}
    untouched = typed["stock"] == typed["stock_seen"]
    return {"price": typed["price"], "stock": now if untouched else typed["stock"],
            "stock_seen": now if untouched or "stock" in errors else typed["stock_seen"]}
