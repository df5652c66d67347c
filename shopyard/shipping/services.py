import re

from django.utils.translation import gettext as _

from shopyard.core.errors import ValidationFailed

from .models import Carrier, Shipment

TRACKING_RE = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def create_shipment(*, order, carrier, tracking_number, actor) -> Shipment:
    errors = {}
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip()
    if carrier not in Carrier.values:
        errors["carrier"] = [_("Choose a carrier from the list.")]
    if not TRACKING_RE.match(tracking_number):
        errors["tracking_number"] = [_("Enter 6 to 40 letters, digits or dashes.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return Shipment.objects.create(order=order, carrier=carrier, tracking_number=tracking_number, shipped_by=actor)
