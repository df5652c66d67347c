"""Seller console pages for the shop's promotions: the list with each one's
phase, an editor that fits the kind, a preview of the prices it would give
(priced by the checkout pipeline with the promotion alone), and publish / stop.
Every write is one promotions.services call; its refusals (a started promotion
only changes its names and end) are shown as the service words them."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.core.errors import DomainError, NotFound, ValidationFailed
from shopyard.promotions import queries as promotion_queries
from shopyard.promotions import services as promotions
from shopyard.promotions.kinds import Kind
from shopyard.promotions.models import Promotion
from shopyard.promotions.preview import preview as build_preview
from shopyard.promotions.rules import parse
from shopyard.promotions.state import allowed_actions

from . import promotion_forms as pforms
from . import queries
from .access import seller_required
from .views import _messages_of, _page, _render

KIND_HELP = {
    Kind.TIME_DISCOUNT: gettext_lazy("A percentage off or a fixed price on chosen items, for a set time."),
    Kind.SPEND_TIERS: gettext_lazy("Spend ¥200 save ¥20, spend ¥400 save ¥50, or a percentage off above a threshold."),
    Kind.MULTI_BUY: gettext_lazy("The 2nd item half price, or 10 percent off when buying 2 or more."),
    Kind.BUNDLE_PRICE: gettext_lazy("Any N items for a fixed price."),
    Kind.GIFT: gettext_lazy("Spend an amount or buy N items, get a gift from your shop."),
    Kind.ADD_ON: gettext_lazy("Above a spend, one chosen item for a small extra price."),
}


def _summary(promotion) -> str:
    """The rule in the reader's language, e.g. 满¥200.00减¥20.00."""
    try:
        rule = parse(promotion.kind, promotion.rules, currency=promotion.currency)
    except DomainError:
        return ""
    describe = getattr(rule, "describe", None)
    if describe is None:
        return ""
    zh, en = describe(promotion.currency)
    return en if (get_language() or "").startswith("en") else zh


@seller_required("promotions")
def promotion_list(request):
    phase = request.GET.get("phase") or ""
    if phase not in promotion_queries.Phase.values:
        phase = ""
    page = _page(request, promotion_queries.promotions_of(request.console.shop, phase=phase))
    for promotion in page.object_list:
        promotion.summary = _summary(promotion)
        promotion.actions = allowed_actions(promotion.status)
    return _render(request, "console/promotions.html", {
        "page": page, "phase": phase, "phases": promotion_queries.Phase.choices, "nav": "promotions",
    })


def _kinds(shop):
    return [(kind, kind.label, KIND_HELP.get(kind, "")) for kind in promotions.kinds_for(shop)]


def _context(request, form, *, promotion=None, errors=None, preview_rows=None, preview_error=None):
    shop = request.console.shop
    skus = queries.promotion_skus(shop)
    errors = {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in (errors or {}).items()}
    pforms.attach_tier_errors(form, errors)
    return {
        "form": form, "promotion": promotion, "kind_label": Kind(form.kind).label,
        "errors": errors, "error_list": [m for v in errors.values() for m in v],
        "scopes": Promotion.Scope.choices, "categories": queries.category_choices(),
        "products": queries.promotion_products(shop), "skus": skus,
        "preview_rows": preview_rows, "preview_error": preview_error, "nav": "promotions",
        "started": promotion is not None and promotions.started(promotion),
        "max_tiers": pforms.MAX_TIERS,
    }


def _preview_rows(request, form):
    """The preview table of the form as it stands, or (None, message) when its rules do not parse."""
    try:
        payload = pforms.to_payload(form)
        shown = build_preview(shop=request.console.shop, kind=form.kind, rules=payload["rules"],
                              scope=payload["scope"], target_ids=payload["target_ids"], name=form.name)
    except DomainError as exc:
        return None, exc
    return queries.price_examples(shown, lang=get_language() or "zh-hans"), None


def _editor(request, *, kind, promotion=None):
    template = "console/promotion_form.html"
    if request.method != "POST":
        form = pforms.from_promotion(promotion) if promotion else pforms.blank(kind)
        rows, _error = _preview_rows(request, form) if promotion else (None, None)
        return _render(request, template, _context(request, form, promotion=promotion, preview_rows=rows))
    form = pforms.from_post(kind, request.POST)
    action = request.POST.get("action", "save")
    if action == "add_tier":
        pforms.add_tier(form)
        return _render(request, template, _context(request, form, promotion=promotion))
    if action == "preview":
        rows, error = _preview_rows(request, form)
        if error is not None:
            return _render(request, template, _context(request, form, promotion=promotion, errors=error.fields),
                           status=error.status)
        return _render(request, template, _context(request, form, promotion=promotion, preview_rows=rows))
    shop = request.console.shop
    try:
        payload = pforms.to_payload(form)
        if promotion is None:
            saved = promotions.create_promotion(actor=request.user, shop=shop, kind=kind, **payload)
        else:
            changed = pforms.changes(promotion, payload)
            saved = promotions.update_promotion(actor=request.user, shop=shop, promotion_id=promotion.pk,
                                                **changed) if changed else promotion
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        errors = dict(exc.fields)
        if not errors or exc.code == "promotion_started":
            errors = {"__all__": [exc.message]}
        return _render(request, template, _context(request, form, promotion=promotion, errors=errors),
                       status=exc.status)
    messages.success(request, _("Promotion saved."))
    return redirect("console:promotion_edit", pk=saved.pk)


@seller_required("promotions")
@require_http_methods(["GET", "POST"])
def promotion_create(request):
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    allowed = [k.value for k in promotions.kinds_for(request.console.shop)]
    if kind not in allowed:
        if request.method == "POST":
            raise Http404
        return _render(request, "console/promotion_kinds.html", {"kinds": _kinds(request.console.shop),
                                                                 "nav": "promotions"})
    return _editor(request, kind=kind)


def _own(request, pk):
    promotion = promotion_queries.promotion_of(request.console.shop, pk)
    if promotion is None:
        raise Http404
    return promotion


@seller_required("promotions")
@require_http_methods(["GET", "POST"])
def promotion_edit(request, pk):
    promotion = _own(request, pk)
    return _editor(request, kind=promotion.kind, promotion=promotion)


def _act(request, pk, service, done):
    try:
        promotion = service(actor=request.user, shop=request.console.shop, promotion_id=pk)
    except NotFound:
        raise Http404 from None
    except (ValidationFailed, DomainError) as exc:
        messages.error(request, " ".join(_messages_of(exc)))
        return redirect(reverse("console:promotion_edit", kwargs={"pk": pk}))
    messages.success(request, done % {"name": promotion.name})
    return redirect(request.POST.get("next") == "list" and reverse("console:promotions")
                    or reverse("console:promotion_edit", kwargs={"pk": pk}))


@seller_required("promotions")
@require_POST
def promotion_publish(request, pk):
    return _act(request, pk, promotions.publish_promotion, _("“%(name)s” is published."))


@seller_required("promotions")
@require_POST
def promotion_stop(request, pk):
    return _act(request, pk, promotions.stop_promotion, _("“%(name)s” is stopped."))
