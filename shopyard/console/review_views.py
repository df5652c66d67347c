"""Seller console: the shop's reviews (filters: not replied, good / medium / bad,
one star count, hidden) and the one reply to a review and to its follow-up.
The rules (once each, the shop's own reviews only) are reviews.services'."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.core.validation import parse_int
from shopyard.reviews import queries as review_queries
from shopyard.reviews import services as review_services

from .access import seller_required
from .views import _messages_of, _page, _render, _safe_next


@seller_required("reviews")
def review_list(request):
    shop = request.console.shop
    current = review_queries.filter_name(request.GET.get("filter"), review_queries.SHOP_FILTERS)
    stars = parse_int(request.GET.get("stars") or "", min_value=1, max_value=5)
    page = _page(request, review_queries.shop_reviews(shop, filter=current, stars=stars))
    tabs = [(name, review_queries.filter_label(name)) for name in review_queries.SHOP_FILTERS]
    return _render(request, "console/reviews.html", {
        "nav": "reviews", "page": page, "reviews": review_queries.decorate(page.object_list), "tabs": tabs,
        "current": current, "stars": stars, "star_choices": range(5, 0, -1),
        "rating": review_queries.shop_summary(shop.pk)})


@seller_required("reviews")
@require_POST
def review_reply(request, pk):
    service = review_services.reply_to_follow_up if request.POST.get("part") == "follow_up" else review_services.reply
    try:
        service(actor=request.user, shop=request.console.shop, review_id=pk, text=request.POST.get("text", ""))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Your reply is published."))
    return redirect(_safe_next(request, "console:reviews"))
