"""Coupon pages: the coupon centre, the claim button (also in a strip on product
and shop pages) and the shopper's coupons by tab. Each view parses, calls one
service or query and renders; a refused claim comes back as a message with the
reason."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.accounts.views import safe_next
from shopyard.core.errors import DomainError
from shopyard.core.i18n import localized
from shopyard.core.validation import parse_id
from shopyard.promotions.coupon_queries import (
    TABS,
    claimable_templates,
    held_counts,
    held_coupons,
    tab_counts,
)
from shopyard.promotions.coupon_services import claim_coupon, describe_benefit

PER_PAGE = 20
TAB_LABELS = {"usable": gettext_lazy("Usable"), "used": gettext_lazy("Used"), "expired": gettext_lazy("Expired")}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def decorate_template(template):
    """What a coupon card shows: the benefit, whose it is, until when, on what."""
    zh, en = describe_benefit(template)
    template.benefit_label = en if _english() else zh
    template.title = template.label("en" if _english() else "zh-hans")
    template.owner_label = localized(template.shop, "name") if template.shop_id else _("Platform coupon")
    if template.validity == template.Validity.DAYS:
        template.validity_label = _("Valid for %(n)s days after claiming") % {"n": template.valid_days}
    else:
        template.validity_label = _("Valid %(start)s – %(end)s") % {
            "start": f"{timezone.localtime(template.valid_from):%Y-%m-%d}",
            "end": f"{timezone.localtime(template.valid_until):%Y-%m-%d}"}
    template.scope_label = "" if template.scope == template.Scope.ALL else _("Selected items only")
    return template


def coupon_strip(*, shop_id, limit=6) -> list:
    """The claimable coupons of a shop (and the platform's) for the strip on its pages."""
    return [decorate_template(t) for t in claimable_templates(shop_ids=[shop_id])[:limit]]


def strip(request, shop_id):
    """The strip of claimable coupons on a shop's and its products' pages, loaded by htmx
    after the page (so the cached product page stays the same whatever coupons run)."""
    back = safe_next(request, reverse("storefront:coupons"))  # the page the strip sits on
    return render(request, "storefront/_coupon_strip.html", {"coupon_strip": coupon_strip(shop_id=shop_id),
                                                             "back": back})


def coupon_centre(request):
    """Every claimable coupon, or one shop's and the platform's (?shop=<id>)."""
    shop_id = parse_id(request.GET.get("shop"))
    found = claimable_templates(shop_ids=[shop_id]) if shop_id else claimable_templates()
    templates = [decorate_template(t) for t in found[:200]]
    held = held_counts(request.user, [t.pk for t in templates])
    for t in templates:
        t.held = held.get(t.pk, 0)
        t.at_limit = t.held >= t.per_user_limit
    return render(request, "storefront/coupons.html", {"templates": templates})


@require_POST
def coupon_claim(request, pk):
    back = safe_next(request, reverse("storefront:coupons"))
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    try:
        coupon = claim_coupon(actor=request.user, template_id=pk)
    except DomainError as exc:
        details = [str(m) for v in exc.fields.values() for m in v]
        messages.error(request, details[0] if details else str(exc.message))
    else:
        messages.success(request, _("Coupon claimed: %(name)s. It is in My coupons.") % {
            "name": coupon.template.label("en" if _english() else "zh-hans")})
    return redirect(back)


@login_required
def my_coupons(request):
    current = request.GET.get("tab", "usable")
    if current not in TABS:
        current = "usable"
    page = Paginator(held_coupons(request.user, current), PER_PAGE).get_page(request.GET.get("page"))
    page.link_base = f"?tab={current}&page="
    page.elided = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    now = timezone.now()
    for coupon in page.object_list:
        decorate_template(coupon.template)
        coupon.not_yet = coupon.valid_from > now
        coupon.in_unpaid_order = coupon.status == coupon.Status.LOCKED
    counts = tab_counts(request.user)
    return render(request, "storefront/my_coupons.html", {
        "page": page, "coupons": page.object_list, "current": current,
        "tabs": [(tab, TAB_LABELS[tab], counts[tab]) for tab in TABS]})
