"""Promotion rows, one module per family of kinds (the pipeline sees them only as offers)."""

from .coupons import CouponTemplate, CouponTemplateStatusChange, UserCoupon
from .discounts import Promotion, PromotionStatusChange
from .flash import (
    FlashPurchaseCount,
    FlashReservation,
    FlashSale,
    FlashSaleItem,
    FlashSaleStatusChange,
)
from .groups import (
    Group,
    GroupBuy,
    GroupBuyItem,
    GroupBuyStatusChange,
    GroupMember,
    GroupStatusChange,
)

__all__ = ["CouponTemplate", "CouponTemplateStatusChange",
           "FlashPurchaseCount", "FlashReservation", "FlashSale", "FlashSaleItem", "FlashSaleStatusChange",
           "Group", "GroupBuy", "GroupBuyItem", "GroupBuyStatusChange", "GroupMember", "GroupStatusChange",
           "Promotion", "PromotionStatusChange", "UserCoupon"]
