"""Seller console pages for the shop's coupons: the templates with their status
and how many were handed out, a form for a new template (amount off above a
threshold, percentage off with a cap, free shipping; scope; quantities;
validity; claim window), publish / stop, and issuing coupons to named shoppers
with the service's report of who got one and why the others did not.
Every write is one coupon_services call; its field errors sit beside the fields."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.promotions import coupon_services as coupons
from shopyard.promotions.coupon_queries import shop_templates
from shopyard.promotions.coupon_state import TemplateStatus
from shopyard.promotions.models import CouponTemplate

from . import queries
from .access import seller_required
from .deal_support import act, default_window, error_context, field_errors, text
from .views import _page, _render

FIELDS = ("name", "name_en", "benefit", "threshold", "amount_off", "percent_off", "max_off", "scope",
          "total_quantity", "per_user_limit", "validity", "valid_from", "valid_until", "valid_days",
          "claim_starts_at", "claim_ends_at")


def _benefit_text(template) -> str:
    zh, en = coupons.describe_benefit(template)
    return en if (get_language() or "").startswith("en") else zh


@seller_required("promotions")
def coupon_list(request):
    page = _page(request, shop_templates(request.console.shop).order_by("-id"))
    for template in page.object_list:
        template.benefit_text = _benefit_text(template)
    return _render(request, "console/coupons.html", {"page": page, "nav": "promotions", "tab": "coupons"})


def _blank() -> dict:
    opens, closes = default_window(7)
    valid_from, valid_until = default_window(30)
    return {"benefit": CouponTemplate.Benefit.AMOUNT, "scope": CouponTemplate.Scope.ALL, "total_quantity": "100",
            "per_user_limit": "1", "validity": CouponTemplate.Validity.FIXED, "valid_from": valid_from,
            "valid_until": valid_until, "valid_days": "7", "claim_starts_at": opens, "claim_ends_at": closes,
            "targets": set()}


def _from_post(post) -> dict:
    form = {name: text(post, name) for name in FIELDS}
    form["targets"] = {v.strip() for v in post.getlist(f"target_{form['scope']}") if v.strip()}
    return form


def _payload(post, form) -> dict:
    """create_template's keyword arguments from the form as typed (the service checks them all)."""
    data = {name: form[name] for name in FIELDS}
    for name in ("threshold", "amount_off", "percent_off", "max_off", "valid_days"):
        data[name] = data[name] or None
    data["target_ids"] = ([v.strip() for v in post.getlist(f"target_{form['scope']}") if v.strip()][:600]
                          if form["scope"] != CouponTemplate.Scope.ALL else None)
    return data


def _form_context(request, form, errors=None) -> dict:
    return {"form": form, "benefits": CouponTemplate.Benefit.choices, "scopes": CouponTemplate.Scope.choices,
            "categories": queries.category_choices(), "products": queries.promotion_products(request.console.shop),
            "nav": "promotions", "tab": "coupons", **error_context(errors)}


@seller_required("promotions")
@require_http_methods(["GET", "POST"])
def coupon_create(request):
    if request.method != "POST":
        return _render(request, "console/coupon_form.html", _form_context(request, _blank()))
    form = _from_post(request.POST)
    try:
        template = coupons.create_template(actor=request.user, shop=request.console.shop,
                                           **_payload(request.POST, form))
    except DomainError as exc:
        return _render(request, "console/coupon_form.html", _form_context(request, form, field_errors(exc)),
                       status=exc.status)
    messages.success(request, _("Coupon “%(name)s” saved as a draft: publish it to hand it out.")
                     % {"name": template.name})
    return redirect("console:coupon_detail", pk=template.pk)


def _own(request, pk):
    try:
        return coupons.shop_template(shop=request.console.shop, template_id=pk)
    except NotFound:
        raise Http404 from None


def _detail(request, template, *, report=None, usernames="", errors=None, status=200):
    template.benefit_text = _benefit_text(template)
    return _render(request, "console/coupon_detail.html", {
        "template": template, "report": report, "usernames": usernames, "active": template.status == TemplateStatus.ACTIVE,
        "nav": "promotions", "tab": "coupons", **error_context(errors)}, status=status)


@seller_required("promotions")
def coupon_detail(request, pk):
    return _detail(request, _own(request, pk))


@seller_required("promotions")
@require_POST
def coupon_publish(request, pk):
    back = reverse("console:coupon_detail", kwargs={"pk": pk})
    return act(request, lambda: coupons.publish_template(actor=request.user, shop=request.console.shop, template_id=pk),
               done=_("Coupon “%(name)s” is published."), back=back)


@seller_required("promotions")
@require_POST
def coupon_stop(request, pk):
    back = reverse("console:coupon_detail", kwargs={"pk": pk})
    return act(request, lambda: coupons.stop_template(actor=request.user, shop=request.console.shop, template_id=pk),
               done=_("Coupon “%(name)s” is stopped."), back=back)


@seller_required("promotions")
@require_POST
def coupon_issue(request, pk):
    """Issue to the usernames typed one a line; the page then shows the service's report."""
    template = _own(request, pk)
    typed = request.POST.get("usernames", "")
    typed = typed if isinstance(typed, str) else ""
    names = [line.strip() for line in typed.splitlines() if line.strip()]
    try:
        report = coupons.issue_coupons(actor=request.user, shop=request.console.shop, template_id=template.pk,
                                       usernames=names)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        errors = field_errors(exc)
        if "template_id" in errors:  # the coupon is not handing out: said beside the issue box
            errors["usernames"] = errors.pop("template_id")
        return _detail(request, template, usernames=typed, errors=errors, status=exc.status)
    template.refresh_from_db()
    return _detail(request, template, report=report)
