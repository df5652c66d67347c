"""Seller console pages for the shop's group buying (拼团): the campaigns, a
new campaign with its SKUs and group prices (previewed list → group price
before saving), publish, stop (every open group then fails and its paid
members are refunded), and each campaign's groups with their status and how
many joined. Every write is one group_services call."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.catalog.services import parse_price
from shopyard.core.errors import DomainError, NotFound
from shopyard.promotions import group_queries, group_services
from shopyard.promotions.state import Status

from . import queries
from .access import seller_required
from .deal_support import act, default_window, error_context, field_errors, text
from .views import _page, _render

FIELDS = ("name", "name_en", "group_size", "time_limit_hours", "max_quantity", "starts_at", "ends_at")


@seller_required("promotions")
def group_list(request):
    page = _page(request, group_queries.shop_campaigns(request.console.shop))
    return _render(request, "console/group_buys.html", {"page": page, "nav": "promotions", "tab": "groups"})


def _sku_rows(shop, post=None):
    """The shop's SKUs, each with the group price typed for it (blank: not in the campaign)."""
    rows = []
    for sku in queries.promotion_skus(shop):
        typed = text(post, f"price_{sku.pk}") if post is not None else ""
        rows.append({"sku": sku, "price": typed, "errors": []})
    return rows


def _items(rows) -> list:
    return [{"sku_id": row["sku"].pk, "group_price": row["price"]} for row in rows if row["price"]]


def _attach(rows, errors):
    """Put the service's `items[i]...` messages on the SKU row they are about."""
    chosen = [row for row in rows if row["price"]]
    for i, row in enumerate(chosen):
        prefix = f"items[{i}]"
        row["errors"] = [m for key, msgs in errors.items() if key == prefix or key.startswith(prefix + ".")
                         for m in msgs]


def _preview(shop, rows):
    """list → group price of each SKU given a price (nothing is saved); bad prices go on their row."""
    out = []
    for row in rows:
        if not row["price"]:
            continue
        errors = {}
        price = parse_price(row["price"], "group_price", errors, currency=shop.currency)
        if errors:
            row["errors"] = errors["group_price"]
            continue
        out.append({"sku": row["sku"], "list_price": row["sku"].price, "group_price": price,
                    "saving": row["sku"].price - price})
    return out


def _form_context(request, form, rows, *, errors=None, preview=None):
    return {"form": form, "rows": rows, "preview": preview, "nav": "promotions", "tab": "groups",
            **error_context(errors)}


@seller_required("promotions")
@require_http_methods(["GET", "POST"])
def group_create(request):
    shop = request.console.shop
    template = "console/group_form.html"
    if request.method != "POST":
        starts, ends = default_window(7)
        form = {"group_size": "2", "time_limit_hours": "24", "max_quantity": "1", "starts_at": starts, "ends_at": ends}
        return _render(request, template, _form_context(request, form, _sku_rows(shop)))
    form = {name: text(request.POST, name) for name in FIELDS}
    rows = _sku_rows(shop, request.POST)
    if request.POST.get("action") == "preview":
        preview = _preview(shop, rows)
        return _render(request, template, _form_context(request, form, rows, preview=preview))
    try:
        campaign = group_services.create_campaign(actor=request.user, shop=shop, items=_items(rows), **form)
    except DomainError as exc:
        errors = field_errors(exc)
        _attach(rows, errors)
        return _render(request, template, _form_context(request, form, rows, errors=errors), status=exc.status)
    messages.success(request, _("Group buy “%(name)s” saved as a draft: publish it to open groups.")
                     % {"name": campaign.name})
    return redirect("console:group_detail", pk=campaign.pk)


def _own(request, pk):
    try:
        return group_services.shop_campaign(shop=request.console.shop, campaign_id=pk)
    except NotFound:
        raise Http404 from None


@seller_required("promotions")
def group_detail(request, pk):
    campaign = _own(request, pk)
    items = list(campaign.items.select_related("sku__product"))
    preview = [{"sku": i.sku, "list_price": i.sku.price, "group_price": i.group_price,
                "saving": i.sku.price - i.group_price} for i in items]
    return _render(request, "console/group_detail.html", {
        "campaign": campaign, "preview": preview, "groups": queries.campaign_groups(campaign),
        "stoppable": campaign.status != Status.STOPPED, "nav": "promotions", "tab": "groups"})


@seller_required("promotions")
@require_POST
def group_publish(request, pk):
    return act(request, lambda: group_services.publish_campaign(actor=request.user, shop=request.console.shop,
                                                                campaign_id=pk),
               done=_("“%(name)s” is published."), back=reverse("console:group_detail", kwargs={"pk": pk}))


@seller_required("promotions")
@require_POST
def group_stop(request, pk):
    return act(request, lambda: group_services.stop_campaign(actor=request.user, shop=request.console.shop,
                                                             campaign_id=pk),
               done=_("“%(name)s” is stopped: its open groups failed and their paid members are refunded."),
               back=reverse("console:group_detail", kwargs={"pk": pk}))
