"""Header data every page needs: the category menu, the cart count and the
unread-message count.

All are cheap: the menu is cached for a minute, the cart count costs one
query only when the visitor has a cart (a logged-in user or a session), and
the unread count one indexed count, only for a signed-in user, once per
request however often a template asks (anonymous pages, the only ones the
page cache keeps, never run it)."""

from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache

from shopyard.core.i18n import localized

TREE_KEY = "storefront:category-menu"


class MenuCategory(NamedTuple):
    """A category as the menus show it (the header's, the home page's tree, a listing's
    siblings): kept as plain values, which the cache gives back in a fraction of the time
    that Category rows took (a product page read the menu's rows on every view)."""

    pk: int
    slug: str
    name: str
    name_en: str
    child_list: tuple = ()

    @property
    def label(self) -> str:
        return localized(self, "name")


def _categories():
    from shopyard.catalog.queries import category_tree

    tree = cache.get(TREE_KEY)
    if tree is None:
        tree = tuple(MenuCategory(root.pk, root.slug, root.name, root.name_en,
                                  tuple(MenuCategory(c.pk, c.slug, c.name, c.name_en) for c in root.child_list))
                     for root in category_tree())
        cache.set(TREE_KEY, tree, 60)
    return tree


def forget_category_tree() -> None:
    cache.delete(TREE_KEY)


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


def _unread_messages(request):
    from shopyard.notifications.queries import unread_count

    if not hasattr(request, "_unread_messages"):
        request._unread_messages = unread_count(request.user)
    return request._unread_messages


def storefront(request):
    if request.path.startswith(("/api/", "/admin/")):
        return {}
    return {
        "nav_categories": _categories,
        "cart_count": lambda: _cart_count(request),
        "unread_messages": lambda: _unread_messages(request),
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
    }
