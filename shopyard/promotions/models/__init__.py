"""Promotion rows, one module per family of kinds (the pipeline sees them only as offers)."""

from .discounts import Promotion, PromotionStatusChange
from .flash import (
    FlashPurchaseCount,
    FlashReservation,
    FlashSale,
    FlashSaleItem,
    FlashSaleStatusChange,
)

__all__ = ["Promotion", "PromotionStatusChange",
           "FlashPurchaseCount", "FlashReservation", "FlashSale", "FlashSaleItem", "FlashSaleStatusChange"]
