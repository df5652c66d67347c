"""Which shop a seller acts for: their membership, optionally chosen by id."""

from django.utils.translation import gettext as _

from shopyard.core.errors import PermissionDenied

from .models import Shop, ShopMember


def shop_for_seller(user, shop_id=None) -> Shop:
    memberships = ShopMember.objects.select_related("shop").filter(user=user, shop__status=Shop.Status.ACTIVE)
    if shop_id is not None:
        memberships = memberships.filter(shop_id=shop_id)
    membership = memberships.order_by("shop_id").first()
    if membership is None:
        raise PermissionDenied(_("You are not a member of this shop."))
    return membership.shop
