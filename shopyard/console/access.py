"""Who may use the console and on which shop.

A seller is a user with a ShopMember row. The console works on one "current
shop" at a time: the user's only membership, or the one picked with
`?shop=<id>` (validated against the memberships and kept in the session).
Anonymous visitors go to the login page; logged-in non-members get 403.

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


def seller_required(view):
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
        if request.console.read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
            context = {"console": request.console, "shop": membership.shop, "message": suspended_message()}
            return render(request, "console/suspended.html", context, status=403)
        return view(request, *args, **kwargs)

    return wrapper
