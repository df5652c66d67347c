import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shopyard.accounts import divisions
from shopyard.catalog import services as catalog
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import CURRENCY_PRECISION
from shopyard.core.validation import check_id, parse_id

from .models import (
    Basis,
    Carrier,
    FreeShippingKind,
    FreeShippingRule,
    FreightRegionRule,
    FreightTemplate,
    Shipment,
)

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
