"""Shipping-fee reads: the one home of the fee rule (docs/shipping.md).

The pricing pipeline (checkout.pricing) asks `quote` for each shop's order, with
the lines, the goods amount each line still costs after its discounts and the
province the parcel goes to. The rule:

- lines are grouped by their product's freight template; each template is
  computed on its own lines and the fees are added (lines of products without a
  template form one more group, charged the shop's flat fee rule as before:
  `shop.shipping_fee`, free when those lines' goods reach `free_shipping_over`);
- a template counts pieces, kilograms (SKU weight × quantity) or cubic metres
  (SKU volume × quantity); fee = first fee, plus the additional fee for each
  further `additional_units` or part of it beyond `first_units`;
- the regional rule listing the address's province replaces the default rule;
- the fee is zero when a free-shipping rule holds (its provinces empty or listing
  the address's province): the template's goods after discounts reach the
  amount, or its pieces reach the quantity;
- a province in `undeliverable` refuses the order (checkout says so);
- without a province (the cart of a shopper with no default address) the
  default rule and the free-shipping rules for every province give an estimate,
  which checkout recomputes for the chosen address.

Every fee is rounded to the currency's minor unit; the shop's fee is the sum.
"""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shopyard.accounts import divisions
from shopyard.core.money import Money, format_price

from .models import (
    Basis,
    FreeShippingKind,
    FreeShippingRule,
    FreightRegionRule,
    FreightTemplate,
    Shipment,
)


@dataclass(frozen=True)
class Rule:
    """First units and fee, then each further step and its fee (a default or regional rule)."""

    first_units: Decimal
    first_fee: Decimal
    additional_units: Decimal
    additional_fee: Decimal


@dataclass(frozen=True)
class FreeRule:
    kind: str
    threshold: Decimal
    provinces: frozenset  # empty: everywhere


@dataclass(frozen=True)
class TemplateRules:
    """A template as the fee rule reads it: plain values, regional rules by province."""

    pk: int
    name: str
    basis: str
    default: Rule
    regions: dict  # province code -> Rule
    undeliverable: frozenset
    free_rules: tuple


@dataclass
class FeePart:
    """The fee of one template's lines (template None: the shop's flat fee rule)."""

    template: TemplateRules | None
    units: Decimal  # pieces, kg or m³ counted
    pieces: int
    goods: Money
    fee: Money
    rule: Rule | None = None  # the regional rule used, None for the default rule
    free_rule: FreeRule | None = None  # the free-shipping rule that made it free
    flat_free_over: Decimal | None = None  # the shop's threshold, when it made the flat fee free
    undeliverable: bool = False

    def describe(self) -> str:
        """"Standard parcel: first 1 piece ¥10.00, 2 more × ¥5.00", in the current language."""
        currency = self.fee.currency
        if self.template is None:
            if self.flat_free_over is not None:
                return _("Shop fee: free over %(amount)s") % {"amount": format_price(self.flat_free_over, currency)}
            return _("Shop fee")
        name = self.template.name
        if self.free_rule is not None:
            if self.free_rule.kind == FreeShippingKind.AMOUNT:
                condition = _("goods reach %(amount)s") % {
                    "amount": format_price(self.free_rule.threshold, currency)}
            else:
                n = int(self.free_rule.threshold)
                condition = ngettext("%(n)s piece or more", "%(n)s pieces or more", n) % {"n": n}
            return _("%(name)s: free shipping (%(condition)s)") % {"name": name, "condition": condition}
        rule = self.rule or self.template.default
        extra = _extra_steps(self.units, rule)
        text = _("%(name)s: first %(units)s %(unit)s %(fee)s") % {
            "name": name, "units": _units(rule.first_units), "unit": unit_label(self.template.basis),
            "fee": format_price(rule.first_fee, currency)}
        if extra:
            text += _(", %(n)s more × %(fee)s") % {"n": extra, "fee": format_price(rule.additional_fee, currency)}
        if self.rule is not None:
            text += _(" (regional rule)")
        return text


@dataclass
class Quote:
    fee: Money
    parts: list = field(default_factory=list)
    province_code: str = ""
    undeliverable: str = ""  # the refusal message, "" when every line can be delivered
    estimated: bool = False  # no address yet: the default rule, recomputed at checkout

    def describe(self) -> str:
        """The parts that used a template, for the price explanation ("" for the flat fee alone)."""
        if all(part.template is None for part in self.parts):
            return ""
        return "; ".join(part.describe() for part in self.parts)


def unit_label(basis) -> str:
    return {Basis.PIECE: _("piece(s)"), Basis.WEIGHT: _("kg"), Basis.VOLUME: _("m³")}.get(basis, "")


def _units(value: Decimal) -> str:
    value = Decimal(value).normalize()
    return f"{value:f}"


def _extra_steps(units: Decimal, rule) -> int:
    """How many additional units (or part of one) lie beyond the first units."""
    beyond = units - rule.first_units
    if beyond <= 0:
        return 0
    return int((beyond / rule.additional_units).to_integral_value(rounding=ROUND_CEILING))


def rule_fee(units: Decimal, rule, currency: str) -> Money:
    """first fee + additional fee × ⌈(units − first units) / additional units⌉, rounded."""
    fee = Money(rule.first_fee, currency) + Money(rule.additional_fee, currency) * _extra_steps(units, rule)
    return fee.quantize()


AMOUNTS = ("first_units", "first_fee", "additional_units", "additional_fee")


def templates_for(template_ids) -> dict:
    """{id: TemplateRules} with the regional and free-shipping rules, in three queries
    whatever the number of templates (none when `template_ids` is empty). Plain
    values, not model instances: checkout prices every line through them."""
    ids = {i for i in template_ids if i is not None}
    if not ids:
        return {}
    regions: dict = {}
    for template_id, provinces, *amounts in (FreightRegionRule.objects.filter(template_id__in=ids).order_by("id")
                                             .values_list("template_id", "provinces", *AMOUNTS)):
        rule = Rule(*amounts)
        for code in provinces:
            regions.setdefault(template_id, {}).setdefault(code, rule)
    frees: dict = {}
    for template_id, kind, threshold, provinces in (FreeShippingRule.objects.filter(template_id__in=ids)
                                                    .order_by("id")
                                                    .values_list("template_id", "kind", "threshold", "provinces")):
        frees.setdefault(template_id, []).append(FreeRule(kind, threshold, frozenset(provinces or ())))
    rows = FreightTemplate.objects.filter(pk__in=ids).values_list("id", "name", "basis", "undeliverable", *AMOUNTS)
    return {pk: TemplateRules(pk=pk, name=name, basis=basis, default=Rule(*amounts), regions=regions.get(pk, {}),
                              undeliverable=frozenset(undeliverable or ()), free_rules=tuple(frees.get(pk, ())))
            for pk, name, basis, undeliverable, *amounts in rows}


def province_name(code: str) -> str:
    division = divisions.get(code)
    return division.name if division else code


def undeliverable_message(code: str) -> str:
    return _("This shop does not deliver to %(province)s.") % {"province": province_name(code)}


def quote(*, shop, currency: str, lines, province_code: str | None, templates: dict) -> Quote:
    """The shipping fee of one shop's order. `lines` are (sku, quantity, goods) with
    sku.product loaded and `goods` the Money the line costs after its discounts;
    `templates` comes from templates_for; `province_code` None when no address is known."""
    groups: dict = {}
    for sku, quantity, goods in lines:
        template = templates.get(sku.product.freight_template_id)
        groups.setdefault(template.pk if template else None, (template, []))[1].append((sku, quantity, goods))
    parts = []
    for key in sorted(groups, key=lambda k: (k is not None, k or 0)):
        template, own = groups[key]
        parts.append(_part(shop, template, own, currency, province_code))
    fee = Money.zero(currency)
    for part in parts:
        fee = fee + part.fee
    refused = next((p for p in parts if p.undeliverable), None)
    return Quote(fee=fee.quantize(), parts=parts, province_code=province_code or "",
                 undeliverable=undeliverable_message(province_code) if refused else "",
                 estimated=province_code is None and any(p.template is not None for p in parts))


def _part(shop, template, lines, currency, province) -> FeePart:
    goods, pieces, weight, volume = Money.zero(currency), 0, Decimal(0), Decimal(0)
    for sku, quantity, amount in lines:
        goods = goods + amount
        pieces += quantity
        weight += (sku.weight or Decimal(0)) * quantity
        volume += (sku.volume or Decimal(0)) * quantity
    if template is None:  # the shop's flat fee rule, as before templates
        free = shop.free_shipping_over is not None and goods.amount >= shop.free_shipping_over
        fee = Money.zero(currency) if free else Money(shop.shipping_fee, currency)
        return FeePart(template=None, units=Decimal(pieces), pieces=pieces, goods=goods, fee=fee.quantize(),
                       flat_free_over=shop.free_shipping_over if free else None)
    units = {Basis.PIECE: Decimal(pieces), Basis.WEIGHT: weight, Basis.VOLUME: volume}[template.basis]
    part = FeePart(template=template, units=units, pieces=pieces, goods=goods, fee=Money.zero(currency).quantize())
    if province is not None and province in template.undeliverable:
        part.undeliverable = True
        return part
    if province is not None:
        part.rule = template.regions.get(province)
    for free in template.free_rules:
        applies = not free.provinces or (province is not None and province in free.provinces)
        reached = (goods.amount >= free.threshold if free.kind == FreeShippingKind.AMOUNT
                   else pieces >= free.threshold)
        if applies and reached:
            part.free_rule = free
            return part
    part.fee = rule_fee(units, part.rule or template.default, currency)
    return part


def shop_templates(shop) -> list:
    """The shop's templates with their rules, by id (console and seller API lists)."""
    return list(FreightTemplate.objects.filter(shop=shop).prefetch_related("region_rules", "free_rules")
                .order_by("id"))


def shop_template(shop, template_id):
    """The shop's template with this id, or None (another shop's id finds nothing)."""
    return (FreightTemplate.objects.filter(shop=shop, pk=template_id)
            .prefetch_related("region_rules", "free_rules").first())


def province_choices() -> list:
    """Every province (code, name) from the divisions dataset, for the pickers."""
    return [(d.code, d.name) for d in divisions.children("")]


def template_choices(shop) -> list:
    """(id, name) of the shop's templates, for the product editor's select."""
    return list(FreightTemplate.objects.filter(shop=shop).order_by("id").values_list("id", "name"))


def parcels(order):
    """An order's parcels, oldest first, with their lines and timelines prefetched."""
    return Shipment.objects.filter(order=order).prefetch_related("lines", "events").order_by("pk")
