"""The kinds of promotion, the order in which the pricing pipeline applies
them, who pays for each, and which kinds each one stacks with by default.

A promotion row may narrow or widen its own stacking (`stacks_with`); these
defaults are what a seller gets without choosing, and what docs/promotions.md
explains. Stacking is symmetric: two discounts share a line only when each
names the other's kind."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from shopyard.orders.models import OrderAdjustment


class Kind(models.TextChoices):
    MEMBER_PRICE = "member_price", _("Member price")
    TIME_DISCOUNT = "time_discount", _("Limited-time discount")
    FLASH_SALE = "flash_sale", _("Flash sale")
    GROUP_BUY = "group_buy", _("Group buying")
    MULTI_BUY = "multi_buy", _("Multi-buy discount")
    BUNDLE_PRICE = "bundle_price", _("Any N for a fixed price")
    SPEND_TIERS = "spend_tiers", _("Spend and save")
    CROSS_SHOP_TIERS = "cross_shop_tiers", _("Cross-shop spend and save")
    GIFT = "gift", _("Free gift")
    ADD_ON = "add_on", _("Add-on deal")
    SHOP_COUPON = "shop_coupon", _("Shop coupon")
    PLATFORM_COUPON = "platform_coupon", _("Platform coupon")
    SHIPPING_COUPON = "shipping_coupon", _("Free-shipping coupon")


# Who pays for a discount: settlement charges the shop for its own and the platform for its.
# The order's adjustment rows keep it, so the choices live with them.
Funding = OrderAdjustment.Funding


# the step each kind runs in; lower runs first (checkout.pricing walks them in order)
STEP = {
    Kind.MEMBER_PRICE: 10,
    Kind.TIME_DISCOUNT: 20,
    Kind.FLASH_SALE: 20,
    Kind.GROUP_BUY: 20,
    Kind.MULTI_BUY: 30,
    Kind.BUNDLE_PRICE: 30,
    Kind.SPEND_TIERS: 40,
    Kind.CROSS_SHOP_TIERS: 45,
    Kind.GIFT: 50,
    Kind.ADD_ON: 50,
    Kind.SHOP_COUPON: 60,
    Kind.PLATFORM_COUPON: 70,
    Kind.SHIPPING_COUPON: 80,
}

_ORDER_LEVEL = {Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS, Kind.SHOP_COUPON, Kind.PLATFORM_COUPON, Kind.SHIPPING_COUPON}
_ITEM_LEVEL = {Kind.TIME_DISCOUNT, Kind.MULTI_BUY, Kind.BUNDLE_PRICE, Kind.ADD_ON, Kind.MEMBER_PRICE}

# Default stacking: item-level prices stack with order-level discounts and coupons, not with
# each other; a flash-sale or group price stands alone (it is already the lowest price).
DEFAULT_STACKS_WITH = {
    Kind.MEMBER_PRICE: _ORDER_LEVEL | {Kind.TIME_DISCOUNT, Kind.MULTI_BUY, Kind.BUNDLE_PRICE},
    Kind.TIME_DISCOUNT: _ORDER_LEVEL | {Kind.MEMBER_PRICE},
    Kind.FLASH_SALE: set(),
    Kind.GROUP_BUY: set(),
    Kind.MULTI_BUY: _ORDER_LEVEL | {Kind.MEMBER_PRICE},
    Kind.BUNDLE_PRICE: _ORDER_LEVEL | {Kind.MEMBER_PRICE},
    Kind.SPEND_TIERS: _ITEM_LEVEL | {Kind.CROSS_SHOP_TIERS, Kind.SHOP_COUPON, Kind.PLATFORM_COUPON,
                                     Kind.SHIPPING_COUPON},
    Kind.CROSS_SHOP_TIERS: _ITEM_LEVEL | {Kind.SPEND_TIERS, Kind.SHOP_COUPON, Kind.PLATFORM_COUPON,
                                          Kind.SHIPPING_COUPON},
    Kind.GIFT: set(Kind.values),
    Kind.ADD_ON: _ORDER_LEVEL | {Kind.MEMBER_PRICE},
    Kind.SHOP_COUPON: _ITEM_LEVEL | {Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS, Kind.PLATFORM_COUPON,
                                     Kind.SHIPPING_COUPON},
    Kind.PLATFORM_COUPON: _ITEM_LEVEL | {Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS, Kind.SHOP_COUPON,
                                         Kind.SHIPPING_COUPON},
    Kind.SHIPPING_COUPON: set(Kind.values) - {Kind.FLASH_SALE},
}

# A gift (满赠) takes nothing off the lines it counts, so by default it counts every line the
# others price, whatever took something off it (stacking is symmetric, so each side names it);
# a flash-sale or group price still stands alone.
for _kind, _with in DEFAULT_STACKS_WITH.items():
    if _kind not in (Kind.FLASH_SALE, Kind.GROUP_BUY):
        _with.add(Kind.GIFT)


def default_stacks_with(kind) -> frozenset:
    return frozenset(str(k) for k in DEFAULT_STACKS_WITH[Kind(kind)])
