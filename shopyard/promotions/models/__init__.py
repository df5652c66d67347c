"""Promotion rows, one module per family of kinds (the pipeline sees them only as offers)."""

from .coupons import CouponTemplate, CouponTemplateStatusChange, UserCoupon
from .discounts import Promotion, PromotionStatusChange

__all__ = ["CouponTemplate", "CouponTemplateStatusChange", "Promotion", "PromotionStatusChange", "UserCoupon"]
