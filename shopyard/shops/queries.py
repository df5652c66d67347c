"""Which shop a seller acts for, and which shops shoppers may visit."""

from django.utils.translation import gettext as _

from shopyard.core.errors import PermissionDenied

from .models import Shop, ShopMember
from .roles import allows, check_area
from .state import can_trade


def active_shops():
    """Shops shoppers may visit (a suspended shop's page is a 404)."""
    return Shop.objects.filter(status=Shop.Status.ACTIVE)


def suspended_message() -> str:
    return _("This shop is suspended: its console is read-only. Contact the platform operators.")


def role_forbidden_message() -> str:
    return _("Your role in this shop does not allow this.")


def shop_for_seller(user, shop_id=None, *, perm, write=False) -> Shop:
    """The shop `user` acts for, if their role there covers the area `perm`
    (shops.roles; 403 otherwise; required, so no endpoint can forget it).
    Reads work on a suspended shop (read-only); `write=True` refuses it with a
    403 that says why."""
    check_area(perm)
    memberships = ShopMember.objects.select_related("shop").filter(user=user)
    if shop_id is not None:
        memberships = memberships.filter(shop_id=shop_id)
    found = list(memberships.order_by("shop_id")[:50])
    # a seller of several shops acts for an active one first
    membership = next((m for m in found if can_trade(m.shop.status)), found[0] if found else None)
    if membership is None:
        raise PermissionDenied(_("You are not a member of this shop."))
    if not allows(membership.role, perm):
        raise PermissionDenied(role_forbidden_message(), code="role_forbidden")
    if write and not can_trade(membership.shop.status):
        raise PermissionDenied(suspended_message(), code="shop_suspended")
    return membership.shop


def membership_of(user, shop) -> ShopMember | None:
    return ShopMember.objects.filter(user=user, shop=shop).first() if getattr(user, "pk", None) else None
