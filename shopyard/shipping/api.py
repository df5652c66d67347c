"""Freight templates (运费模板) over HTTP for sellers: parse, authorise, call a
service. Every rule (negative fees, zero units, unknown or repeated provinces,
another shop's template or product) is shipping.services.clean_template's and
assign_template's; this module only shapes the JSON."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from shopyard.core.api_support import Id, InSchema, ascii_digits_only, bearer, responses
from shopyard.core.errors import NotFound
from shopyard.core.money import money_str
from shopyard.orders import services as order_services
from shopyard.shops.queries import shop_for_seller

from . import queries, services

seller_router = Router(tags=["seller"])

_AMOUNTS = ("first_units", "first_fee", "additional_units", "additional_fee")


class RuleIn(Schema):
    first_units: Decimal = Field(..., description="pieces, kg or m³ the first fee covers (> 0)")
    first_fee: Decimal = Field(..., description="≥ 0, in the shop's currency")
    additional_units: Decimal = Field(..., description="each further step (> 0)")
    additional_fee: Decimal = Field(..., description="≥ 0, per further step or part of one")

    _ascii = field_validator(*_AMOUNTS, mode="before")(ascii_digits_only)


class RegionRuleIn(RuleIn):
    provinces: list[str] = Field(..., max_length=40, description="GB/T 2260 province codes, each in one rule only")


class FreeRuleIn(Schema):
    kind: Literal["amount", "quantity"]
    threshold: Decimal = Field(..., description="goods amount after discounts, or number of pieces")
    provinces: list[str] = Field([], max_length=40, description="empty: everywhere")

    _ascii = field_validator("threshold", mode="before")(ascii_digits_only)


class FreightTemplateIn(RuleIn, InSchema):
    name: str = Field(..., max_length=60)
    basis: Literal["piece", "weight", "volume"] = "piece"
    region_rules: list[RegionRuleIn] = Field([], max_length=50)
    undeliverable: list[str] = Field([], max_length=40, description="province codes not delivered to")
    free_rules: list[FreeRuleIn] = Field([], max_length=50)


class RegionRuleOut(Schema):
    provinces: list[str]
    first_units: str
    first_fee: str
    additional_units: str
    additional_fee: str


class FreeRuleOut(Schema):
    kind: str
    threshold: str
    provinces: list[str]


class FreightTemplateOut(Schema):
    id: int
    name: str
    basis: str
    currency: str
    first_units: str
    first_fee: str
    additional_units: str
    additional_fee: str
    region_rules: list[RegionRuleOut]
    undeliverable: list[str]
    free_rules: list[FreeRuleOut]
    product_count: int


class AssignIn(InSchema):
    template_id: int | None = Field(..., ge=1, le=2**53, description="one of your templates; null: the flat fee")
    product_ids: list[int] = Field(..., min_length=1, max_length=500)


class AssignOut(Schema):
    updated: int


def _units(value) -> str:
    return f"{Decimal(value).normalize():f}"


def _rule(rule, currency) -> dict:
    return {"first_units": _units(rule.first_units), "first_fee": money_str(rule.first_fee, currency),
            "additional_units": _units(rule.additional_units),
            "additional_fee": money_str(rule.additional_fee, currency)}


def _out(template) -> dict:
    currency = template.shop.currency
    return {
        "id": template.pk, "name": template.name, "basis": template.basis, "currency": currency,
        **_rule(template, currency),
        "region_rules": [{"provinces": r.provinces, **_rule(r, currency)} for r in template.region_rules.all()],
        "undeliverable": list(template.undeliverable),
        "free_rules": [{"kind": r.kind, "provinces": r.provinces,
                        "threshold": money_str(r.threshold, currency) if r.kind == "amount" else _units(r.threshold)}
                       for r in template.free_rules.all()],
        "product_count": template.products.count(),
    }


def _data(payload: FreightTemplateIn) -> dict:
    return payload.dict()  # amounts stay Decimal: services.clean_template applies the rules


def _own(shop, template_id):
    template = queries.shop_template(shop, template_id)
    if template is None:
        raise NotFound()
    return template


@seller_router.get("/freight-templates", response=responses({200: list[FreightTemplateOut]}), auth=bearer)
def list_templates(request):
    shop = shop_for_seller(request.auth, perm="shipping")
    return Status(200, [_out(t) for t in queries.shop_templates(shop)])


@seller_router.post("/freight-templates", response=responses({201: FreightTemplateOut}), auth=bearer)
def create_template(request, payload: FreightTemplateIn):
    shop = shop_for_seller(request.auth, write=True, perm="shipping")
    template = services.create_template(actor=request.auth, shop=shop, data=_data(payload))
    return Status(201, _out(_own(shop, template.pk)))


@seller_router.post("/freight-templates/assign", response=responses({200: AssignOut}), auth=bearer)
def assign_template(request, payload: AssignIn):
    """Make products use a template (template_id null: the shop's flat fee again)."""
    shop = shop_for_seller(request.auth, write=True, perm="shipping")
    count = services.assign_template(actor=request.auth, shop=shop, template_id=payload.template_id,
                                     product_ids=payload.product_ids)
    return Status(200, {"updated": count})


@seller_router.get("/freight-templates/{template_id}", response=responses({200: FreightTemplateOut}), auth=bearer)
def get_template(request, template_id: Id):
    shop = shop_for_seller(request.auth, perm="shipping")
    return Status(200, _out(_own(shop, template_id)))


@seller_router.put("/freight-templates/{template_id}", response=responses({200: FreightTemplateOut}), auth=bearer)
def update_template(request, template_id: Id, payload: FreightTemplateIn):
    shop = shop_for_seller(request.auth, write=True, perm="shipping")
    services.update_template(actor=request.auth, shop=shop, template_id=template_id, data=_data(payload))
    return Status(200, _out(_own(shop, template_id)))


@seller_router.delete("/freight-templates/{template_id}", response=responses({204: None}), auth=bearer)
def delete_template(request, template_id: Id):
    """Its products go back to the shop's flat fee."""
    shop = shop_for_seller(request.auth, write=True, perm="shipping")
    services.delete_template(actor=request.auth, shop=shop, template_id=template_id)
    return Status(204, None)


# --- parcels and tracking -------------------------------------------------------

router = Router(tags=["shipping"])


class ParcelLineIn(Schema):
    line_id: int = Field(..., ge=1, description="an order line of this order")
    quantity: int = Field(..., ge=1, description="units of that line in this parcel (no more than are left)")


class ParcelIn(Schema):
    carrier: str = Field(..., max_length=20, description="sf, zto, yto, sto, yunda, jd, ems, deppon, jt, other")
    tracking_number: str = Field(..., max_length=40, description="in the carrier's format (docs/shipping.md)")
    lines: list[ParcelLineIn] | None = Field(None, max_length=200,
                                             description="what the parcel holds; omitted: every unit not shipped yet")


class TrackingEventOut(Schema):
    occurred_at: datetime
    location: str
    code: str
    status: str = Field(..., description="the code's label in the request's language")
    description_zh: str
    description_en: str


class ParcelLineOut(Schema):
    line_id: int
    quantity: int


class ParcelOut(Schema):
    id: int
    carrier: str
    carrier_name: str
    tracking_number: str
    shipped_at: datetime
    status: str = Field(..., description="in_transit, delivered or exception")
    exception: str = Field(..., description="lost, returned or refused while status is exception")
    delivered_at: datetime | None
    lines: list[ParcelLineOut]
    events: list[TrackingEventOut] = Field(..., description="the timeline, oldest first")


class PushOut(Schema):
    added: int


def parcel_out(parcel) -> dict:
    """A parcel with its lines and timeline (also the buyer's order detail's `parcels`)."""
    return {
        "id": parcel.pk, "carrier": parcel.carrier, "carrier_name": str(parcel.get_carrier_display()),
        "tracking_number": parcel.tracking_number, "shipped_at": parcel.shipped_at, "status": parcel.status,
        "exception": parcel.exception, "delivered_at": parcel.delivered_at,
        "lines": [{"line_id": row.line_id, "quantity": row.quantity} for row in parcel.lines.all()],
        "events": [{"occurred_at": e.occurred_at, "location": e.location, "code": e.code,
                    "status": str(e.get_code_display()), "description_zh": e.description_zh,
                    "description_en": e.description_en} for e in parcel.events.all()],
    }


@seller_router.get("/orders/{order_id}/parcels", response=responses({200: list[ParcelOut]}), auth=bearer)
def list_parcels(request, order_id: Id):
    order = order_services.shop_order(shop=shop_for_seller(request.auth, perm="orders"), order_id=order_id)
    return Status(200, [parcel_out(p) for p in queries.parcels(order)])


@seller_router.post("/orders/{order_id}/parcels", response=responses({201: ParcelOut}), auth=bearer)
def ship_parcel(request, order_id: Id, payload: ParcelIn):
    """Send a parcel with some lines and quantities; the first parcel ships the order."""
    shop = shop_for_seller(request.auth, write=True, perm="orders")
    order = order_services.shop_order(shop=shop, order_id=order_id)
    lines = None if payload.lines is None else [row.dict() for row in payload.lines]
    parcel = services.ship_parcel(actor=request.auth, order=order, carrier=payload.carrier,
                                  tracking_number=payload.tracking_number, lines=lines)
    return Status(201, parcel_out(queries.parcels(order).get(pk=parcel.pk)))


@router.post("/shipping/tracking/{adapter}", response=responses({200: PushOut}), auth=None)
def tracking_push(request, adapter: str):
    """A carrier's tracking push, authenticated by its signature (no bearer, no CSRF):
    bad signature or stale timestamp 403, unknown tracking number 404, a replay 409."""
    added = services.receive_push(adapter_name=adapter, body=request.body, headers=request.headers)
    return Status(200, {"added": added})
