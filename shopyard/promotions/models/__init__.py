"""Promotion rows, one module per family of kinds (the pipeline sees them only as offers)."""

from .flash import (
    FlashPurchaseCount,
    FlashReservation,
    FlashSale,
    FlashSaleItem,
    FlashSaleStatusChange,
)

__all__ = ["FlashPurchaseCount", "FlashReservation", "FlashSale", "FlashSaleItem", "FlashSaleStatusChange"]
