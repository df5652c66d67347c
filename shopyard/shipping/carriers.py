"""Carriers: tracking-number formats, and the adapter interface a carrier's
tracking service is reached through.

An adapter subscribes a tracking number (so the carrier pushes its events to our
webhook), verifies and parses a push, and queries a parcel's events (the periodic
poll). Adapters map the carrier's own status codes onto models.TrackingCode. The
simulated carrier stands in for every carrier in the demo and the tests; a real
adapter is a subclass registered in ADAPTERS (docs/shipping.md).
"""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Carrier, TrackingCode

# Tracking-number formats per carrier (sources in docs/shipping.md, "Tracking-number
# formats"); each with the message a seller sees when a number does not match.
TRACKING_FORMATS = {
    Carrier.SF: (re.compile(r"^(SF\d{12,13}|\d{12})$"),
                 _("An SF Express number is SF followed by 12 or 13 digits (or 12 digits).")),
    Carrier.ZTO: (re.compile(r"^\d{12,14}$"), _("A ZTO number is 12 to 14 digits.")),
    Carrier.YTO: (re.compile(r"^YT\d{13,15}$"), _("A YTO number is YT followed by 13 to 15 digits.")),
    Carrier.STO: (re.compile(r"^\d{12,13}$"), _("An STO number is 12 or 13 digits.")),
    Carrier.YUNDA: (re.compile(r"^\d{13,15}$"), _("A Yunda number is 13 to 15 digits.")),
    Carrier.JD: (re.compile(r"^JD[0-9A-Z]{13,15}$"), _("A JD Logistics number is JD followed by 13 to 15 letters or digits.")),
    Carrier.EMS: (re.compile(r"^([A-Z]{2}\d{9}[A-Z]{2}|\d{13})$"),
                  _("An EMS number is 13 digits, or two letters, 9 digits and two letters (e.g. EA123456789CN).")),
    Carrier.DEPPON: (re.compile(r"^(DPK\d{12}|\d{8,10})$"), _("A Deppon number is DPK followed by 12 digits, or 8 to 10 digits.")),
    Carrier.JT: (re.compile(r"^JT\d{13}$"), _("A J&T number is JT followed by 13 digits.")),
    Carrier.OTHER: (re.compile(r"^[A-Za-z0-9-]{6,40}$"), _("Enter 6 to 40 letters, digits or dashes.")),
}

GENERIC_FORMAT = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def tracking_number_error(carrier, number):
    """The field message when `number` is not a tracking number of `carrier`, else None."""
    if not GENERIC_FORMAT.match(number):
        return _("Enter 6 to 40 letters, digits or dashes.")
    pattern, message = TRACKING_FORMATS[Carrier(carrier)]
    return None if pattern.match(number) else message


@dataclass(frozen=True)
class TrackingUpdate:
    """One event as an adapter reports it (its `tracking_number` finds the parcel)."""

    tracking_number: str
    event_id: str
    occurred_at: datetime
    code: str
    location: str = ""
    description_zh: str = ""
    description_en: str = ""


class PushRejected(Exception):
    """A push that is not the carrier's (bad signature) or too old to trust."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class CarrierAdapter:
    """The interface; `name` is the adapter's URL segment (/shipping/tracking/<name>/)."""

    name = ""

    def subscribe(self, shipment) -> None:
        """Ask the carrier to push `shipment`'s events to our webhook."""
        raise NotImplementedError

    def parse_push(self, *, body: bytes, headers, now=None) -> list[TrackingUpdate]:
        """Verify a push (raise PushRejected) and return its events."""
        raise NotImplementedError

    def query(self, shipment, *, now=None) -> list[TrackingUpdate]:
        """Every event the carrier knows for `shipment` (the poll)."""
        raise NotImplementedError


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex (the simulated carrier's scheme)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class SimulatedCarrier(CarrierAdapter):
    """A carrier that needs no network. Pushes carry `X-Carrier-Timestamp` (Unix
    seconds) and `X-Carrier-Signature` (see `sign`) over a JSON body
    {"tracking_number", "events": [{"id", "time" (ISO 8601), "code", "location",
    "description_zh", "description_en"}]}. A query returns the journey so far of a
    parcel that is delivered 30 hours after it was shipped (SCHEDULE)."""

    name = "simulated"
    SCHEDULE = [
        (timedelta(0), TrackingCode.ACCEPTED, "深圳", "快件已揽收", "Picked up"),
        (timedelta(hours=6), TrackingCode.IN_TRANSIT, "广州转运中心", "快件已到达转运中心", "Arrived at the sorting centre"),
        (timedelta(hours=24), TrackingCode.OUT_FOR_DELIVERY, "上海", "快件派送中", "Out for delivery"),
        (timedelta(hours=30), TrackingCode.DELIVERED, "上海", "快件已签收", "Delivered"),
    ]

    def __init__(self):
        self.subscribed: list[str] = []

    @property
    def secret(self) -> str:
        return settings.CARRIER_WEBHOOK_SECRETS.get(self.name, "")

    def subscribe(self, shipment) -> None:
        self.subscribed.append(shipment.tracking_number)

    def push_headers(self, body: bytes, *, timestamp=None) -> dict:
        """The headers the simulated carrier sends with `body` (used by the demo and tests)."""
        stamp = str(int(timestamp if timestamp is not None else timezone.now().timestamp()))
        return {"X-Carrier-Timestamp": stamp, "X-Carrier-Signature": sign(self.secret, stamp, body)}

    def parse_push(self, *, body: bytes, headers, now=None) -> list[TrackingUpdate]:
        secret = self.secret
        stamp = headers.get("X-Carrier-Timestamp", "")
        given = headers.get("X-Carrier-Signature", "")
        if not secret or not given or not hmac.compare_digest(sign(secret, stamp, body), given):
            raise PushRejected("bad_signature")
        try:
            sent = int(stamp)
        except ValueError:
            raise PushRejected("bad_timestamp") from None
        now = now or timezone.now()
        if abs(now.timestamp() - sent) > settings.CARRIER_WEBHOOK_TOLERANCE_SECONDS:
            raise PushRejected("stale_timestamp")
        try:
            data = json.loads(body)
            return [TrackingUpdate(
                tracking_number=str(data["tracking_number"]), event_id=str(item["id"])[:80],
                occurred_at=datetime.fromisoformat(item["time"]), code=TrackingCode(item["code"]),
                location=str(item.get("location", ""))[:100], description_zh=str(item.get("description_zh", ""))[:300],
                description_en=str(item.get("description_en", ""))[:300],
            ) for item in data["events"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("malformed push") from exc

    def query(self, shipment, *, now=None) -> list[TrackingUpdate]:
        now = now or timezone.now()
        return [TrackingUpdate(
            tracking_number=shipment.tracking_number, event_id=f"sim-{code}", occurred_at=shipment.shipped_at + after,
            code=code, location=where, description_zh=zh, description_en=en,
        ) for after, code, where, zh, en in self.SCHEDULE if shipment.shipped_at + after <= now]


ADAPTERS = {SimulatedCarrier.name: SimulatedCarrier()}


def adapter(name: str | None = None) -> CarrierAdapter | None:
    """The adapter called `name`, or the one every carrier uses (SHOPYARD_TRACKING_ADAPTER)."""
    return ADAPTERS.get(name or settings.TRACKING_ADAPTER)
