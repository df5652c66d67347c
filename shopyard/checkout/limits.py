"""Limits against stock hoarding, read by the cart and by place_order.

Both come from settings (SHOPYARD_MAX_UNPAID_ORDERS, SHOPYARD_MAX_UNITS_PER_SKU).
The per-SKU cap is never above core.validation's MAX_LINE_QUANTITY, which bounds
what any quantity field parses to; this is the business cap on what one order
(and so one cart line) may hold.
"""

from django.conf import settings


def max_units_per_sku() -> int:
    return max(1, min(settings.MAX_UNITS_PER_SKU, settings.MAX_LINE_QUANTITY))


def max_unpaid_orders() -> int:
    return max(0, settings.MAX_UNPAID_ORDERS)
