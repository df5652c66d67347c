"""Review pages for shoppers: a product's reviews (the product page loads their
first lines into a slot with htmx, so the cached product page keeps its query
budget; without JavaScript the slot is a link to the full list), writing a
review of an order line and its one follow-up, and the shopper's own reviews.
Each view parses input, calls one service (shopyard.reviews.services) and renders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shopyard.core.errors import DomainError, NotFound
from shopyard.core.i18n import localized
from shopyard.core.validation import page_number
from shopyard.reviews import queries as review_queries
from shopyard.reviews import services as review_services

PER_PAGE = 10
SLOT_REVIEWS = 3


def _page(request, qs, params):
    paginator = Paginator(qs, PER_PAGE)
    page = paginator.get_page(page_number(request.GET.get("page")))
    page.link_base = f"?{params}&page=" if params else "?page="
    page.elided = list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def product_reviews(request, pk):
    """The full list (paginated), or with `?slot=1` the product page's slot: the
    aggregate, the filters and the first reviews."""
    product = review_queries.visible_product(pk)
    if product is None:
        raise Http404(_("Product not found."))
    current = review_queries.filter_name(request.GET.get("filter"))
    reviews = review_queries.public_reviews(product.pk, filter=current)
    context = {"product": product, "product_label": localized(product, "title"), "current": current,
               "summary": review_queries.product_summary(product.pk)}
    if request.GET.get("slot") == "1":
        context["reviews"] = review_queries.decorate(reviews[:SLOT_REVIEWS])
        return render(request, "storefront/_reviews_slot.html", context)
    page = _page(request, reviews, f"filter={current}" if current != "all" else "")
    context.update({"page": page, "reviews": review_queries.decorate(page.object_list)})
    return render(request, "storefront/product_reviews.html", context)


def _error_fields(exc: DomainError) -> dict:
    return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}


@login_required
@require_http_methods(["GET", "POST"])
def review_line(request, pk, line_id):
    line = review_queries.buyer_line(request.user, order_id=pk, line_id=line_id)
    if line is None:
        raise Http404(_("Order line not found."))
    form, errors, error, status = {"rating": "5", "logistics": "5", "service": "5", "text": "", "anonymous": False}, \
        {}, "", 200
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in ("rating", "logistics", "service", "text")}
        form["anonymous"] = request.POST.get("anonymous") == "on"
        try:
            review_services.create_review(actor=request.user, order_id=pk, line_id=line_id,
                                          photos=request.FILES.getlist("photos"), **form)
        except NotFound:
            raise Http404(_("Order line not found.")) from None
        except DomainError as exc:
            errors, error, status = _error_fields(exc), str(exc.message), exc.status
        else:
            messages.success(request, _("Thank you for your review!"))
            return redirect("storefront:order_detail", pk=pk)
    context = {"line": line, "order": line.order, "title_label": localized(line, "product_title"),
               "sku_label": localized(line, "sku_name"), "form": form, "errors": errors, "error": error,
               "scores": [{"name": name, "label": label, "value": str(form[name]), "errors": errors.get(name, [])}
                          for name, label in (("rating", _("Product")), ("logistics", _("Logistics")),
                                              ("service", _("Service")))],
               "max_photos": review_services.MAX_PHOTOS, "max_text": review_services.MAX_TEXT}
    return render(request, "storefront/review_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def review_follow_up(request, pk):
    review = review_queries.buyer_review(request.user, pk)
    if review is None:
        raise Http404(_("Review not found."))
    text, errors, error, status = "", {}, "", 200
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            review_services.add_follow_up(actor=request.user, review_id=pk, text=text,
                                          photos=request.FILES.getlist("photos"))
        except NotFound:
            raise Http404(_("Review not found.")) from None
        except DomainError as exc:
            errors, error, status = _error_fields(exc), str(exc.message), exc.status
        else:
            messages.success(request, _("Your follow-up is added."))
            return redirect("storefront:order_detail", pk=review.order_id)
    [shown] = review_queries.decorate(review_queries.my_reviews(request.user).filter(pk=review.pk))
    context = {"review": shown, "text": text, "errors": errors, "error": error,
               "max_photos": review_services.MAX_PHOTOS, "max_text": review_services.MAX_TEXT,
               "action_url": reverse("storefront:review_follow_up", args=[review.pk])}
    return render(request, "storefront/review_follow_up.html", context, status=status)


@login_required
def my_reviews(request):
    page = _page(request, review_queries.my_reviews(request.user), "")
    return render(request, "storefront/my_reviews.html", {
        "page": page, "reviews": review_queries.decorate(page.object_list)})
