"""Promotion rows, one module per family of kinds (the pipeline sees them only as offers)."""

from .discounts import Promotion, PromotionStatusChange

__all__ = ["Promotion", "PromotionStatusChange"]
