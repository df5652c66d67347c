"""Console writes that span several orders. Each order still goes through
orders.services.ship, in its own transaction, so one order's bad tracking
number or changed status never undoes or blocks the others."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from shopyard.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from shopyard.orders import services as order_services


@dataclass
class BulkShipResult:
    shipped: list = field(default_factory=list)  # Order instances now shipped
    errors: dict = field(default_factory=dict)  # order id -> {"field": [messages]} or {"order": [message]}


def _messages(exc: DomainError) -> dict:
    if isinstance(exc, ValidationFailed) and exc.fields:
        return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}
    return {"order": [str(exc.message)]}


def ship_orders(*, actor, shop, shipments: list[dict]) -> BulkShipResult:
    """Ship each {"order_id", "carrier", "tracking_number"} in order id order."""
    result = BulkShipResult()
    for row in sorted(shipments, key=lambda r: r["order_id"]):
        try:
            order = order_services.ship(actor=actor, shop=shop, order_id=row["order_id"],
                                        carrier=row["carrier"], tracking_number=row["tracking_number"])
        except NotFound:
            result.errors[row["order_id"]] = {"order": [_("Order not found.")]}
        except ValidationFailed as exc:
            result.errors[row["order_id"]] = _messages(exc)
        except Conflict as exc:
            current = order_services.shop_order(shop=shop, order_id=row["order_id"])
            if exc.code == "order_on_hold":
                result.errors[row["order_id"]] = {"order": [
                    _("Order %(number)s: %(reason)s") % {"number": current.number, "reason": exc.message}]}
                continue
            result.errors[row["order_id"]] = {"order": [
                _("Order %(number)s: only paid orders can be shipped; this order is “%(status)s”.")
                % {"number": current.number, "status": current.get_status_display()}]}
        except DomainError as exc:
            result.errors[row["order_id"]] = _messages(exc)
        else:
            result.shipped.append(order)
    return result
