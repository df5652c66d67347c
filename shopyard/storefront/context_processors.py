"""Header data every page needs: the category tree and the cart count.

Both are cheap: the tree is cached for a minute, and the cart count costs one
query only when the visitor has a cart (a logged-in user or a session)."""

from django.conf import settings
from django.core.cache import cache


def _categories():
    from shopyard.catalog.queries import category_tree

    tree = cache.get("storefront:category-tree")
    if tree is None:
        tree = category_tree()
        cache.set("storefront:category-tree", tree, 60)
    return tree


def _cart_count(request):
    from shopyard.cart.models import CartLine

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        qs = CartLine.objects.filter(cart__user=user)
    else:
        key = request.session.session_key if hasattr(request, "session") else None
        if not key:
            return 0
        qs = CartLine.objects.filter(cart__session_key=key, cart__user__isnull=True)
    from shopyard.catalog.queries import visible_skus

    # lines that can no longer be bought are shown apart and not counted (as on the cart page)
    return sum(qs.filter(sku__in=visible_skus()).values_list("quantity", flat=True))


def storefront(request):
    if request.path.startswith(("/api/", "/admin/")):
        return {}
    return {
        "nav_categories": _categories,
        "cart_count": lambda: _cart_count(request),
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
    }
