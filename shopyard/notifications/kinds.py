"""What notifies whom: the kinds of notification, the channels, the defaults a
user starts with, and which event becomes which kind for which audience.

One table, so the preferences page, the API and the event handler agree."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ORDER_PLACED = "order_placed", _("Order placed")
    ORDER_PAID = "order_paid", _("Order paid")
    ORDER_SHIPPED = "order_shipped", _("Order shipped")
    ORDER_DELIVERED = "order_delivered", _("Order delivered")
    ORDER_COMPLETED = "order_completed", _("Order completed")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    REFUND_SUCCEEDED = "refund_succeeded", _("Refund completed")
    ORDER_TO_SHIP = "order_to_ship", _("New paid order to ship (sellers)")
    SHOP_APPLICATION = "shop_application", _("Decisions on your shop application")


class Channel(models.TextChoices):
    INBOX = "inbox", _("Message centre")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Audience(models.TextChoices):
    BUYER = "buyer", _("the shopper")
    SHOP = "shop", _("the shop's members")


# channels a user receives a kind on until they choose otherwise: everything in
# the message centre, e-mail for the milestones, SMS only where it is urgent
DEFAULTS = {
    Kind.ORDER_PLACED: {Channel.INBOX, Channel.EMAIL},
    Kind.ORDER_PAID: {Channel.INBOX, Channel.EMAIL},
    Kind.ORDER_SHIPPED: {Channel.INBOX, Channel.EMAIL, Channel.SMS},
    Kind.ORDER_DELIVERED: {Channel.INBOX, Channel.SMS},
    Kind.ORDER_COMPLETED: {Channel.INBOX},
    Kind.ORDER_CANCELLED: {Channel.INBOX, Channel.EMAIL},
    Kind.REFUND_SUCCEEDED: {Channel.INBOX, Channel.EMAIL, Channel.SMS},
    Kind.ORDER_TO_SHIP: {Channel.INBOX, Channel.EMAIL},
    Kind.SHOP_APPLICATION: {Channel.INBOX, Channel.EMAIL, Channel.SMS},
}

# event name -> [(kind, audience)]; `order.delivered` is emitted once parcels are tracked
ROUTES = {
    "order.placed": [(Kind.ORDER_PLACED, Audience.BUYER)],
    "order.paid": [(Kind.ORDER_PAID, Audience.BUYER), (Kind.ORDER_TO_SHIP, Audience.SHOP)],
    "order.shipped": [(Kind.ORDER_SHIPPED, Audience.BUYER)],
    "order.delivered": [(Kind.ORDER_DELIVERED, Audience.BUYER)],
    "order.completed": [(Kind.ORDER_COMPLETED, Audience.BUYER)],
    "order.cancelled": [(Kind.ORDER_CANCELLED, Audience.BUYER)],
    "refund.succeeded": [(Kind.REFUND_SUCCEEDED, Audience.BUYER)],
    # the applicant (the event's user_id) learns the operator's decision and its reason
    "shop_application.approved": [(Kind.SHOP_APPLICATION, Audience.BUYER)],
    "shop_application.rejected": [(Kind.SHOP_APPLICATION, Audience.BUYER)],
    "shop_application.returned": [(Kind.SHOP_APPLICATION, Audience.BUYER)],
}

# the events an integrator may subscribe a webhook endpoint to
WEBHOOK_EVENTS = (
    "order.placed", "order.paid", "order.shipped", "order.delivered", "order.completed", "order.cancelled",
    "order.held", "order.released", "payment.succeeded", "payment.failed", "payment.cancelled",
    "refund.requested", "refund.succeeded", "refund.failed", "product.created", "product.updated",
    "product.published", "product.unpublished", "shop.updated", "shop.suspended", "shop.reopened",
)
