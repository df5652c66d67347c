"""Seller console: campaign links (short code + full URL to copy) and the channel
report for the seller's shop; the operators' report for every shop. The rules
(tag values, the link's target, the period) are channels.services/queries'."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shopyard.catalog.queries import visible_products
from shopyard.channels import queries as channel_queries
from shopyard.channels import services as channel_services
from shopyard.channels.api import links_out
from shopyard.core.access import operator_required
from shopyard.core.errors import DomainError
from shopyard.core.i18n import localized

from .access import seller_required
from .deal_support import error_context, field_errors
from .views import _render

LINK_FIELDS = ("name", "source", "medium", "campaign", "target", "product_id")
SUGGESTED_CHANNELS = ("wechat", "weibo", "douyin", "xiaohongshu", "bilibili", "email", "sms")
PRODUCT_CHOICES_MAX = 500


def _report(request, shop=None):
    """The report for the period in the query string; a bad date shows its message and the default period."""
    try:
        period = channel_queries.parse_period(request.GET.get("start"), request.GET.get("end"))
        errors = {}
    except DomainError as exc:
        period, errors = channel_queries.parse_period(), field_errors(exc)
    return channel_queries.channel_report(period=period, shop=shop), errors


@seller_required("channels")
@require_http_methods(["GET", "POST"])
def channels(request):
    shop = request.console.shop
    values, errors, status = {"target": "product"}, {}, 200
    if request.method == "POST":
        values = {name: str(request.POST.get(name, ""))[:300] for name in LINK_FIELDS}
        try:
            link = channel_services.create_campaign_link(actor=request.user, shop=shop, data=values)
        except DomainError as exc:
            errors, status = field_errors(exc), exc.status
        else:
            messages.success(request, _("Campaign link “%(name)s” created: %(code)s.") % {"name": link.name,
                                                                                           "code": link.code})
            return redirect("console:channels")
    report, period_errors = _report(request, shop)
    links = links_out(request, channel_queries.links_for_shop(shop).select_related("shop")[:200])
    products = [(p.pk, localized(p, "title")) for p in
                visible_products().filter(shop=shop).order_by("-id").only("pk", "title", "title_en")[:PRODUCT_CHOICES_MAX]]
    return _render(request, "console/channels.html", {
        "nav": "channels", "links": links, "values": values, "products": products, "report": report,
        "period_errors": period_errors, "channels": SUGGESTED_CHANNELS, **error_context(errors)}, status=status)


@operator_required
def platform_channels(request):
    report, period_errors = _report(request)
    return render(request, "console/channels_platform.html", {"report": report, "period_errors": period_errors})
