"""Who may use the console and on which shop.

A seller is a user with a ShopMember row. The console works on one "current
shop" at a time: the user's only membership, or the one picked with
`?shop=<id>` (validated against the memberships and kept in the session).
Anonymous visitors go to the login page; logged-in non-members get 403.

Every view names the area it belongs to (`@seller_required("orders")`); a
member whose role lacks it (shops.roles.PERMISSIONS) gets 403. A bare
`@seller_required` is refused at import time, so no page can forget its area.

A suspended shop's console is read-only: pages still show its products and
orders (with a banner saying why nothing can change), and every POST answers
403 with the reason, whatever the view, so no write path can be forgotten.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from shopyard.core.validation import parse_id
from shopyard.shops.models import Shop, ShopMember
from shopyard.shops.queries import suspended_message
from shopyard.shops.roles import allows, areas_of, check_area
from shopyard.shops.state import can_trade

SESSION_KEY = "console_shop_id"


@dataclass
class ConsoleContext:
    shop: Shop
    membership: ShopMember
    memberships: list

    @property
    def read_only(self) -> bool:
        return not can_trade(self.shop.status)

    @property
    def areas(self) -> frozenset:
        """The areas the current member's role covers (the navigation shows only these)."""
        return areas_of(self.membership.role)

    def can(self, area) -> bool:
        """Whether the current member's role covers `area` (navigation hides the rest)."""
        return allows(self.membership.role, area)


def seller_required(area):
    """Decorator for console views of `area` (a name in shops.roles.AREAS)."""
    if callable(area):
        raise TypeError(f"{area.__qualname__}: use @seller_required(\"<area>\"); areas are in shopyard.shops.roles")
    check_area(area)

    def decorate(view):
        wrapped = _guard(view, area)
        wrapped.seller_area = area
        return wrapped

    return decorate


def _guard(view, area):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        memberships = list(
            ShopMember.objects.filter(user=request.user).select_related("shop").order_by("shop_id")
        )
        if not memberships:
            return render(request, "console/forbidden.html", status=403)
        by_shop = {m.shop_id: m for m in memberships}
        wanted = request.GET.get("shop")
        if wanted is not None and wanted != "":
            shop_id = parse_id(wanted)
            if shop_id not in by_shop:
                raise Http404
            request.session[SESSION_KEY] = shop_id
        membership = by_shop.get(request.session.get(SESSION_KEY)) or memberships[0]
        request.console = ConsoleContext(shop=membership.shop, membership=membership, memberships=memberships)
        if not allows(membership.role, area):
            context = {"console": request.console, "shop": membership.shop, "area": area}
            return render(request, "console/role_forbidden.html", context, status=403)
        if request.console.read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
            context = {"console": request.console, "shop": membership.shop, "message": suspended_message()}
            return render(request, "console/suspended.html", context, status=403)
        return view(request, *args, **kwargs)

    return wrapper
