"""Ticket categories: the codes come from settings.SERVICE_TICKET_CATEGORIES
(configurable per deployment), their labels from here."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

CATEGORY_LABELS = {
    "product": _("Product quality or description"),
    "delivery": _("Delivery"),
    "refund": _("Refund or return"),
    "seller_conduct": _("Seller conduct"),
    "payment": _("Payment"),
    "account": _("Account"),
    "other": _("Other"),
}


def categories() -> list[tuple[str, str]]:
    """(code, label) of every category shoppers may choose, in the configured order."""
    return [(code, str(CATEGORY_LABELS.get(code, code))) for code in settings.SERVICE_TICKET_CATEGORIES]


def category_label(code) -> str:
    return str(CATEGORY_LABELS.get(code, code))
