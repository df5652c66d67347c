from django import template

from shopyard.core.money import format_price

register = template.Library()


@register.filter
def price(amount, currency="CNY"):
    """{{ order.total|price:order.currency }} -> ¥59.90 (rounded to the currency's unit)."""
    if amount is None or amount == "":
        return ""
    return format_price(amount, currency or "CNY")
