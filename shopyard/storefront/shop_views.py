"""A shop's decorated home page (its blocks above the shop's listing), the
seller's preview of the draft, following shops and the list of followed shops.

The home page costs a fixed number of queries whatever its blocks hold:
shops.decoration_queries.home_blocks assembles them, the product cards are
decorated in one pass with the page's listing, and a coupon block reads the
shop's claimable coupons once."""

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.catalog import rich_text
from shopyard.core.errors import DomainError
from shopyard.core.i18n import localized
from shopyard.core.validation import page_number
from shopyard.promotions.coupon_queries import claimable_templates
from shopyard.shops import decoration as decoration_services
from shopyard.shops import decoration_queries
from shopyard.shops.models import ShopBlock
from shopyard.shops.queries import active_shops, shop_for_seller

from .coupon_views import decorate_template

FOLLOWED_PER_PAGE = 24


def home_context(request, shop, *, decorate, version=ShopBlock.Version.PUBLISHED) -> dict:
    """What the shop page shows above its listing: profile, follow state and blocks.
    `decorate` is the listing's card decorator (one pass for all the blocks' products);
    `version=None` leaves the blocks out (the listing's later pages)."""
    profile = decoration_queries.profile(shop)
    blocks = decoration_queries.home_blocks(shop, version=version) if version else []
    products = [p for h in blocks for p in h.products]
    if products:
        decorate(list({id(p): p for p in products}.values()))
    coupon_blocks = [h for h in blocks if h.kind == ShopBlock.Kind.COUPONS]
    if coupon_blocks:
        limit = max(h.coupon_limit for h in coupon_blocks)
        coupons = [decorate_template(t) for t in claimable_templates(shop_ids=[shop.pk], platform=False)[:limit]]
        for h in coupon_blocks:
            h.coupons = coupons[: h.coupon_limit]
    for h in blocks:
        if h.kind == ShopBlock.Kind.NOTICE:
            h.html = rich_text.render(h.html)
    return {
        "profile": profile,
        "shop_description": decoration_queries.description(shop, profile),
        "promises": decoration_queries.promise_labels(profile),
        "blocks": blocks,
        "has_coupon_block": bool(coupon_blocks),
        "following": decoration_queries.is_following(request.user, shop),
    }


def preview(request, slug):
    """The draft as shoppers would see it, for the shop's own sellers only (anyone else: 404)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    from .catalog_views import shop_page

    try:
        shop = shop_for_seller(request.user, shop_id=_shop_id_for_slug(slug), perm="shop_settings")
    except DomainError:
        raise Http404 from None
    return shop_page(request, shop, preview=True)


def _shop_id_for_slug(slug):
    from shopyard.shops.models import Shop

    pk = Shop.objects.filter(slug=slug).values_list("pk", flat=True).first()
    if pk is None:
        raise Http404
    return pk


@require_POST
def toggle_follow(request, slug):
    shop = active_shops().filter(slug=slug).first()
    if shop is None:
        raise Http404
    shop_url = reverse("storefront:shop", args=[shop.slug])
    from .catalog_views import _is_htmx, login_redirect  # catalog_views imports this module

    if not request.user.is_authenticated:
        return login_redirect(request, shop_url)
    action = request.POST.get("action")
    if action not in ("follow", "unfollow"):
        action = "unfollow" if decoration_queries.is_following(request.user, shop) else "follow"
    if action == "follow":
        decoration_services.follow_shop(actor=request.user, shop_id=shop.pk)
    else:
        decoration_services.unfollow_shop(actor=request.user, shop_id=shop.pk)
    following = action == "follow"
    if _is_htmx(request):
        return HttpResponse(render_to_string("storefront/_follow_button.html",
                                             {"shop": shop, "following": following}, request=request))
    from django.contrib import messages

    messages.success(request, _("You follow this shop.") if following else _("You no longer follow this shop."))
    nxt = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = shop_url
    return redirect(nxt)


def followed(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    page = Paginator(decoration_queries.followed_shops(request.user), FOLLOWED_PER_PAGE).get_page(
        page_number(request.GET.get("page")))
    page.link_base = "?page="
    page.elided = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    for shop in page.object_list:
        profile = getattr(shop, "profile", None)  # a shop whose seller never wrote a profile has none
        shop.logo_url = profile.logo.url if profile is not None and profile.logo else ""
        shop.label = localized(shop, "name")
    return render(request, "storefront/followed_shops.html", {"page": page, "shops": page.object_list})
