"""What each shop role may do: the one permission table.

A seller's request names the *area* it touches (console pages through
`console.access.seller_required("orders")`, the seller API through
`shops.queries.shop_for_seller(..., perm="orders")`); a member whose role
lacks the area gets 403. Adding an area is adding it to AREAS and to the roles
that get it; adding a role is adding one row to PERMISSIONS.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    PRODUCT_EDITOR = "product_editor", _("Product editor")
    ORDER_CLERK = "order_clerk", _("Order clerk")
    CS_AGENT = "cs_agent", _("Customer-service agent")


class Area(models.TextChoices):
    OVERVIEW = "overview", _("Overview and shop messages")
    CATALOG = "catalog", _("Products")
    ORDERS = "orders", _("Orders")
    SHIPPING = "shipping", _("Shipping fees")
    AFTERSALES = "aftersales", _("After-sales")
    SERVICE = "service", _("Customer service")
    REVIEWS = "reviews", _("Reviews")
    PROMOTIONS = "promotions", _("Promotions")
    CHANNELS = "channels", _("Channels")
    STATISTICS = "statistics", _("Statistics")
    FINANCE = "finance", _("Finance and statements")
    SHOP_SETTINGS = "shop_settings", _("Shop settings, decoration and webhooks")
    STAFF = "staff", _("Staff")


AREAS = frozenset(Area.values)

PERMISSIONS: dict[str, frozenset] = {
    Role.OWNER: AREAS,
    # everything but deciding who works for the shop
    Role.MANAGER: AREAS - {Area.STAFF},
    Role.PRODUCT_EDITOR: frozenset({Area.OVERVIEW, Area.CATALOG, Area.SHIPPING}),
    Role.ORDER_CLERK: frozenset({Area.OVERVIEW, Area.ORDERS, Area.SHIPPING, Area.AFTERSALES}),
    Role.CS_AGENT: frozenset({Area.OVERVIEW, Area.SERVICE, Area.AFTERSALES, Area.REVIEWS}),
}


def check_area(area) -> str:
    """`area` itself; an unknown name is a programming error, caught at import or first call."""
    if area not in AREAS:
        raise ValueError(f"unknown shop permission area {area!r}; known: {sorted(AREAS)}")
    return area


def allows(role, area) -> bool:
    """Whether a member with `role` may work in `area` (unknown roles may do nothing)."""
    return check_area(area) in PERMISSIONS.get(role, frozenset())


def areas_of(role) -> frozenset:
    return PERMISSIONS.get(role, frozenset())
