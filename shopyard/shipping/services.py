import logging
import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.accounts import divisions
from shopyard.catalog import services as catalog
from shopyard.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import CURRENCY_PRECISION
from shopyard.core.statemachine import next_state
from shopyard.core.validation import check_id, check_quantity, parse_id
from shopyard.orders.models import Order
from shopyard.orders.services import check_not_held, transition
from shopyard.orders.state import PARCEL_STATUSES, TRANSITIONS, Action, Status, statuses_allowing

from . import carriers
from .models import (
    EXCEPTION_CODES,
    Basis,
    Carrier,
    FreeShippingKind,
    FreeShippingRule,
    FreightRegionRule,
    FreightTemplate,
    ParcelStatus,
    Shipment,
    ShipmentLine,
    TrackingCode,
    TrackingEvent,
)

log = logging.getLogger("shopyard.shipping")


# --- parcels and tracking (docs/shipping.md, "Parcels and tracking") ----------
#
# Lock order (docs/architecture.md): the order row first, then its parcels. Every
# write to an order's parcels (shipping one, recording its tracking) holds the order
# row, so two sellers' parcels cannot together ship more than was ordered and two
# pushes cannot both move the order on.


def check_carrier(carrier, tracking_number, errors) -> tuple[str, str]:
    """Cleaned (carrier, tracking number); field messages go into `errors`."""
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip()
    if carrier not in Carrier.values:
        errors["carrier"] = [_("Choose a carrier from the list.")]
        if not carriers.GENERIC_FORMAT.match(tracking_number):
            errors["tracking_number"] = [_("Enter 6 to 40 letters, digits or dashes.")]
    else:
        message = carriers.tracking_number_error(carrier, tracking_number)
        if message:
            errors["tracking_number"] = [str(message)]
    return carrier, tracking_number


def _parcel_lines(lines, errors) -> dict | None:
    """{line id: quantity} from [{"line_id", "quantity"}], or None (every line left)."""
    if lines is None:
        return None
    wanted = {}
    if not isinstance(lines, list | tuple) or not lines:
        errors["lines"] = [_("Choose at least one line to put in the parcel.")]
        return wanted
    for row in lines:
        try:
            line_id = check_id((row or {}).get("line_id"), "line_id")
            quantity = check_quantity(row.get("quantity"), "quantity")
        except (ValidationFailed, AttributeError):
            errors["lines"] = [_("Each parcel line needs a line id and a quantity of at least 1.")]
            return wanted
        wanted[line_id] = wanted.get(line_id, 0) + quantity
    return wanted


def shipped_quantities(order) -> dict:
    """{order line id: units already in a parcel}."""
    rows = ShipmentLine.objects.filter(line__order=order).values("line_id").annotate(n=Sum("quantity"))
    return {row["line_id"]: row["n"] for row in rows}


def ship_parcel(*, actor, order, carrier, tracking_number, lines=None) -> Shipment:
    """Send a parcel of `order` (an instance the caller found for its shop): `lines` is
    [{"line_id", "quantity"}], or None for everything not shipped yet. The first parcel
    ships the order (orders' ship action: paid → shipped); later parcels leave while it is
    shipped. Refused with field messages, writing nothing: an unknown carrier, a tracking
    number not in the carrier's format, a line of another order, more units than are left."""

    errors = {}
    carrier, tracking_number = check_carrier(carrier, tracking_number, errors)
    wanted = _parcel_lines(lines, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status not in PARCEL_STATUSES:
            next_state(TRANSITIONS, locked.status, Action.SHIP)  # the table's 409 names the status
        check_not_held(locked, Action.SHIP)
        ordered = {line.pk: line.quantity for line in locked.lines.all()}
        shipped = shipped_quantities(locked)
        left = {pk: qty - shipped.get(pk, 0) for pk, qty in ordered.items()}
        if wanted is None:
            wanted = {pk: qty for pk, qty in left.items() if qty > 0}
            if not wanted:
                raise Conflict(_("Every item of this order has already shipped."), code="nothing_to_ship")
        foreign = sorted(set(wanted) - set(ordered))
        if foreign:
            raise ValidationFailed(fields={"lines": [
                _("Line %(ids)s is not a line of this order.") % {"ids": ", ".join(map(str, foreign))}]})
        over = [pk for pk in sorted(wanted) if wanted[pk] > left[pk]]
        if over:
            raise ValidationFailed(fields={"lines": [
                _("Line %(id)s has %(left)s left to ship; %(wanted)s is too many.")
                % {"id": pk, "left": left[pk], "wanted": wanted[pk]} for pk in over]})
        shipment = Shipment.objects.create(order=locked, carrier=carrier, tracking_number=tracking_number,
                                           shipped_by=actor)
        ShipmentLine.objects.bulk_create([ShipmentLine(shipment=shipment, line_id=pk, quantity=qty)
                                          for pk, qty in sorted(wanted.items())])
        emit("shipment.shipped", order_id=locked.pk, shipment_id=shipment.pk, carrier=carrier,
             tracking_number=tracking_number, lines={str(pk): qty for pk, qty in sorted(wanted.items())})
        if locked.status == Status.PAID:
            transition(locked, Action.SHIP, actor=actor, note=f"{shipment.get_carrier_display()} {tracking_number}")
        transaction.on_commit(lambda: _subscribe(shipment))
    return shipment


def _subscribe(shipment):
    try:
        carriers.adapter().subscribe(shipment)
    except Exception:  # the poll still finds its events
        log.warning("could not subscribe parcel %s to tracking pushes", shipment.pk, exc_info=True)


def record_tracking(*, shipment_id, updates, source) -> int:
    """Store the new events of one parcel (an event id seen before changes nothing),
    move the parcel on (delivered, or an exception: `shipment.failed`, the after-sales
    hook) and the order (shipped → delivered once every unit shipped and every parcel is
    delivered). Returns how many events were new."""

    with transaction.atomic():
        order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).get()
        order = Order.objects.select_for_update().get(pk=order_id)
        shipment = Shipment.objects.select_for_update().get(pk=shipment_id)
        known = set(shipment.events.values_list("event_id", flat=True))
        fresh = []
        for update in sorted(updates, key=lambda u: u.occurred_at):
            if update.event_id in known:
                continue
            known.add(update.event_id)
            fresh.append(TrackingEvent(
                shipment=shipment, event_id=update.event_id, occurred_at=update.occurred_at, code=update.code,
                location=update.location, description_zh=update.description_zh,
                description_en=update.description_en, source=source))
        if not fresh:
            return 0
        TrackingEvent.objects.bulk_create(fresh)
        for event in fresh:
            if event.code == TrackingCode.DELIVERED and shipment.status != ParcelStatus.DELIVERED:
                shipment.status, shipment.exception, shipment.delivered_at = ParcelStatus.DELIVERED, "", event.occurred_at
            elif event.code in EXCEPTION_CODES and shipment.status != ParcelStatus.EXCEPTION:
                shipment.status, shipment.exception = ParcelStatus.EXCEPTION, event.code
                emit("shipment.failed", order_id=order.pk, shipment_id=shipment.pk, exception=str(event.code),
                     carrier=shipment.carrier, tracking_number=shipment.tracking_number,
                     occurred_at=event.occurred_at.isoformat(), description=event.description_en)
        shipment.save(update_fields=["status", "exception", "delivered_at"])
        if delivered_all(order) and order.status == Status.SHIPPED:
            transition(order, Action.DELIVER, actor=None, note=str(shipment))
    return len(fresh)


def delivered_all(order) -> bool:
    """Every unit of `order` is in a parcel, and every parcel is delivered."""
    parcels = list(order.shipments.values_list("status", flat=True))
    if not parcels or any(status != ParcelStatus.DELIVERED for status in parcels):
        return False
    shipped = shipped_quantities(order)
    return all(shipped.get(line.pk, 0) >= line.quantity for line in order.lines.all())


def receive_push(*, adapter_name, body: bytes, headers, now=None) -> int:
    """A carrier's tracking push: verified by its adapter (PushRejected → 403), for a
    known parcel (else 404), with at least one event not seen before (else 409, a
    replay). Returns the number of new events."""
    adapter = carriers.adapter(adapter_name) if adapter_name in carriers.ADAPTERS else None
    if adapter is None:
        raise NotFound(_("Unknown carrier adapter."))
    try:
        updates = adapter.parse_push(body=body, headers=headers, now=now)
    except carriers.PushRejected as exc:
        log.warning("tracking push refused (%s) for adapter %s", exc.reason, adapter_name)
        raise PermissionDenied(_("This push is not signed by the carrier, or is too old."),
                               code=exc.reason) from None
    except ValueError:
        raise ValidationFailed(fields={"body": [_("This push could not be read.")]}) from None
    if not updates:
        raise ValidationFailed(fields={"events": [_("This push has no events.")]})
    by_parcel = {}
    for update in updates:
        parcel = (Shipment.objects.filter(tracking_number=update.tracking_number)
                  .order_by("-pk").values_list("pk", flat=True).first())
        if parcel is None:
            raise NotFound(_("No parcel has the tracking number %(number)s.") % {"number": update.tracking_number})
        by_parcel.setdefault(parcel, []).append(update)
    added = sum(record_tracking(shipment_id=pk, updates=rows, source="push") for pk, rows in sorted(by_parcel.items()))
    if not added:
        raise Conflict(_("These tracking events were already received."), code="replayed_push")
    return added


def poll_tracking(*, now=None) -> int:
    """The periodic poll: ask the adapter for the events of every parcel still on its
    way (in transit, on an order that is shipped). Idempotent: known events are skipped."""

    adapter = carriers.adapter()
    ids = list(Shipment.objects.filter(status=ParcelStatus.IN_TRANSIT, order__status=Status.SHIPPED)
               .order_by("pk").values_list("pk", flat=True)[:500])
    added = 0
    for shipment in Shipment.objects.filter(pk__in=ids).order_by("pk"):
        try:
            updates = adapter.query(shipment, now=now)
        except Exception:  # one carrier's outage never stops the others' parcels
            log.warning("tracking query failed for parcel %s", shipment.pk, exc_info=True)
            continue
        added += record_tracking(shipment_id=shipment.pk, updates=updates, source="poll")
    return added


def auto_confirm_delivered(*, now=None) -> int:
    """Confirm receipt of orders delivered SHOPYARD_AUTO_CONFIRM_DAYS ago or more. Each
    order is re-checked under its lock, so a shopper's own confirmation (or a second run)
    wins and nothing happens twice."""

    cutoff = (now or timezone.now()) - timedelta(days=settings.AUTO_CONFIRM_DAYS)
    confirmable = statuses_allowing(Action.AUTO_CONFIRM)
    ids = list(Order.objects.filter(status__in=confirmable, delivered_at__lte=cutoff)
               .order_by("pk").values_list("pk", flat=True)[:1000])
    done = 0
    for order_id in ids:
        with transaction.atomic():
            if Order.objects.select_for_update().filter(pk=order_id, status__in=confirmable).exists():
                transition(order_id, Action.AUTO_CONFIRM, actor=None,
                           note=_("Confirmed automatically %(days)s days after delivery") % {"days": settings.AUTO_CONFIRM_DAYS})
                done += 1
    return done


# --- freight templates (运费模板) ----------------------------------------------
# Writes of a shop's templates; the fee rule itself is shipping.queries.quote.

MAX_RULES = 50
MAX_FEE = Decimal("100000")
MAX_UNITS = Decimal("1000000")
_DECIMAL = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")


def _decimal(value, field, errors, *, places, positive, integer=False, limit=MAX_UNITS):
    """A plain ASCII decimal (an int or a str like "12.5"): at most `places` decimals,
    > 0 when `positive` else ≥ 0, a whole number when `integer`; None with a message on error."""
    if isinstance(value, bool) or value is None:
        value = ""
    text = str(value).strip() if isinstance(value, int | str | Decimal) else ""
    if not _DECIMAL.fullmatch(text):
        errors[field] = [_("Enter a number such as 10 or 2.5 (no minus sign).")]
        return None
    amount = Decimal(text)
    if integer and amount != amount.to_integral_value():
        errors[field] = [_("Enter a whole number.")]
    elif amount != amount.quantize(Decimal(1).scaleb(-places)):
        errors[field] = [_("Use at most %(n)s decimal places.") % {"n": places}]
    elif positive and amount <= 0:
        errors[field] = [_("Enter a number greater than zero.")]
    elif amount > limit:
        errors[field] = [_("Enter at most %(n)s.") % {"n": limit}]
    else:
        return amount
    return None


def _provinces(value, field, errors, *, required) -> list:
    """A list of known province codes (accounts.divisions), each once."""
    if value is None:
        value = []
    if not isinstance(value, list | tuple) or len(value) > 40:
        errors[field] = [_("Give a list of province codes.")]
        return []
    codes = []
    for code in value:
        code = str(code).strip() if isinstance(code, str | int) and not isinstance(code, bool) else ""
        division = divisions.get(code)
        if division is None or division.parent:
            errors[field] = [_("Unknown province code: %(code)s.") % {"code": code or "?"}]
            return []
        if code not in codes:
            codes.append(code)
    if required and not codes:
        errors[field] = [_("Choose at least one province.")]
    return codes


def _rule(data, prefix, errors, *, integer, places) -> dict:
    out = {}
    for key, positive in (("first_units", True), ("first_fee", False), ("additional_units", True),
                          ("additional_fee", False)):
        field = f"{prefix}{key}"
        if key.endswith("fee"):
            out[key] = _decimal(data.get(key), field, errors, places=places, positive=False, limit=MAX_FEE)
        else:
            out[key] = _decimal(data.get(key), field, errors, places=3, positive=positive, integer=integer)
    return out


def clean_template(data, *, shop, instance=None) -> dict:
    """Every field of a template checked at once: ValidationFailed names each bad
    field (negative fees, zero units, unknown or repeated provinces), nothing written."""
    if not isinstance(data, dict):
        raise ValidationFailed(fields={"template": [_("Give the template's fields.")]})
    errors: dict = {}
    places = CURRENCY_PRECISION.get(shop.currency, 2)
    name = data.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 60:
        errors["name"] = [_("Use at most %(n)s characters.") % {"n": 60}]
    elif FreightTemplate.objects.filter(shop=shop, name=name).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["name"] = _name_taken().fields["name"]
    basis = data.get("basis", Basis.PIECE)
    if basis not in Basis.values:
        errors["basis"] = [_("Choose piece, weight or volume.")]
        basis = Basis.PIECE
    cleaned = {"name": name, "basis": basis,
               **_rule(data, "", errors, integer=basis == Basis.PIECE, places=places)}
    seen: dict = {}  # province -> the field that named it first
    cleaned["undeliverable"] = _provinces(data.get("undeliverable"), "undeliverable", errors, required=False)
    for code in cleaned["undeliverable"]:
        seen[code] = "undeliverable"
    regions = data.get("region_rules") or []
    if not isinstance(regions, list) or len(regions) > MAX_RULES:
        errors["region_rules"] = [_("Give at most %(n)s rules.") % {"n": MAX_RULES}]
        regions = []
    cleaned["region_rules"] = []
    for i, region in enumerate(regions):
        prefix = f"region_rules[{i}]."
        if not isinstance(region, dict):
            errors[f"region_rules[{i}]"] = [_("Give the rule's fields.")]
            continue
        rule = _rule(region, prefix, errors, integer=basis == Basis.PIECE, places=places)
        rule["provinces"] = _provinces(region.get("provinces"), f"{prefix}provinces", errors, required=True)
        for code in rule["provinces"]:
            if code in seen:
                errors[f"{prefix}provinces"] = [_("%(province)s is already in another rule.") % {
                    "province": divisions.get(code).name}]
                break
            seen[code] = prefix
        cleaned["region_rules"].append(rule)
    frees = data.get("free_rules") or []
    if not isinstance(frees, list) or len(frees) > MAX_RULES:
        errors["free_rules"] = [_("Give at most %(n)s rules.") % {"n": MAX_RULES}]
        frees = []
    cleaned["free_rules"] = []
    for i, free in enumerate(frees):
        prefix = f"free_rules[{i}]."
        if not isinstance(free, dict):
            errors[f"free_rules[{i}]"] = [_("Give the rule's fields.")]
            continue
        kind = free.get("kind")
        if kind not in FreeShippingKind.values:
            errors[f"{prefix}kind"] = [_("Choose amount or quantity.")]
            kind = FreeShippingKind.AMOUNT
        threshold = _decimal(free.get("threshold"), f"{prefix}threshold", errors, positive=True,
                             integer=kind == FreeShippingKind.QUANTITY,
                             places=places if kind == FreeShippingKind.AMOUNT else 0, limit=MAX_FEE * 1000)
        provinces = _provinces(free.get("provinces"), f"{prefix}provinces", errors, required=False)
        cleaned["free_rules"].append({"kind": kind, "threshold": threshold, "provinces": provinces})
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _write(template, cleaned) -> FreightTemplate:
    for key in ("name", "basis", "first_units", "first_fee", "additional_units", "additional_fee", "undeliverable"):
        setattr(template, key, cleaned[key])
    template.save()
    template.region_rules.all().delete()
    template.free_rules.all().delete()
    FreightRegionRule.objects.bulk_create([FreightRegionRule(template=template, **rule)
                                           for rule in cleaned["region_rules"]])
    FreeShippingRule.objects.bulk_create([FreeShippingRule(template=template, **rule)
                                          for rule in cleaned["free_rules"]])
    return template


def _name_taken():
    return ValidationFailed(fields={"name": [_("Another template of this shop has this name.")]})


def create_template(*, actor, shop, data) -> FreightTemplate:
    """A new freight template for `shop` (the caller checked `actor` may write for it)."""
    cleaned = clean_template(data, shop=shop)
    try:
        with transaction.atomic():
            template = _write(FreightTemplate(shop=shop), cleaned)
            emit("freight_template.created", template_id=template.pk, shop_id=shop.pk, actor_id=actor.pk)
    except IntegrityError:  # a concurrent request took the name after the check
        raise _name_taken() from None
    return template


def _own_template(shop, template_id, *, field=None) -> FreightTemplate:
    template_id = parse_id(template_id)
    template = (FreightTemplate.objects.select_for_update().filter(shop=shop, pk=template_id).first()
                if template_id else None)
    if template is None:
        if field:
            raise ValidationFailed(fields={field: [_("Choose one of your shop's freight templates.")]})
        raise NotFound(_("Freight template not found."))
    return template


def update_template(*, actor, shop, template_id, data) -> FreightTemplate:
    """Replace a template's fields and rules; orders already placed keep their fee."""
    try:
        with transaction.atomic():
            template = _own_template(shop, template_id)
            cleaned = clean_template(data, shop=shop, instance=template)
            _write(template, cleaned)
            emit("freight_template.updated", template_id=template.pk, shop_id=shop.pk, actor_id=actor.pk)
    except IntegrityError:  # a concurrent request took the name after the check
        raise _name_taken() from None
    return template


def delete_template(*, actor, shop, template_id) -> None:
    """Delete a template; its products go back to the shop's flat fee."""
    with transaction.atomic():
        template = _own_template(shop, template_id)
        pk = template.pk
        catalog.set_freight_template(actor=actor, shop=shop, product_ids=list(template.products.values_list(
            "pk", flat=True)), template_id=None)
        template.delete()
        emit("freight_template.deleted", template_id=pk, shop_id=shop.pk, actor_id=actor.pk)


def assign_template(*, actor, shop, template_id, product_ids) -> int:
    """Make `product_ids` (the shop's own) use the template (None: the shop's flat fee);
    a foreign template or product id is a field error and nothing changes. Returns
    how many products were set."""
    if not isinstance(product_ids, list | tuple) or not product_ids or len(product_ids) > 500:
        raise ValidationFailed(fields={"product_ids": [_("Choose 1 to 500 products.")]})
    ids = sorted({check_id(p, f"product_ids[{i}]") for i, p in enumerate(product_ids)})
    with transaction.atomic():
        template = None
        if template_id not in (None, ""):
            template = _own_template(shop, template_id, field="template_id")
        count = catalog.set_freight_template(actor=actor, shop=shop, product_ids=ids,
                                             template_id=template.pk if template else None)
    return count
