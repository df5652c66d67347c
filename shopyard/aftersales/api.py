"""After-sales cases over HTTP: the buyer opens and follows cases, the seller works the
shop's queue, the operator decides disputes. Handlers parse, authorise, call one service
and serialise; every rule is aftersales.services'. Each case carries the `actions` its
type's state machine allows the caller now."""

from datetime import datetime
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from shopyard.core.access import api_operator
from shopyard.core.api_support import Id, InSchema, PageMeta, bearer, paginate, responses
from shopyard.core.errors import NotFound
from shopyard.core.money import money_str
from shopyard.shops.queries import shop_for_seller

from . import queries, services
from .state import Kind, Role, allowed_actions
from .state import Status as CaseStatus

router = Router(tags=["aftersales"])
seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])


class ReasonOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    window: str
    kinds: list[str] = Field(..., description="the case types it may be given for (empty: every type)")


class CaseLineIn(Schema):
    line_id: int = Field(..., ge=1, le=2**53)
    quantity: int = Field(..., ge=1, le=100000)


class CaseIn(InSchema):
    order_id: int = Field(..., ge=1, le=2**53)
    kind: Kind
    reason_id: int = Field(..., ge=1, le=2**53)
    lines: list[CaseLineIn] = Field(..., min_length=1, max_length=services.MAX_LINES)
    description: str = Field("", max_length=1000)
    amount: str | None = Field(None, max_length=24, description="compensation only: the amount asked")
    compensation: Literal["refund", "credit", ""] = Field("", description="compensation only: paid as")


class NoteIn(InSchema):
    note: str = Field("", max_length=500)


class ReasonNoteIn(InSchema):
    note: str = Field(..., min_length=1, max_length=500)


class CaseShipIn(InSchema):
    carrier: str = Field(..., max_length=20)
    tracking_number: str = Field(..., max_length=40)
    note: str = Field("", max_length=500)


class InspectIn(InSchema):
    resaleable: bool = Field(..., description="true: the goods go back to stock")
    note: str = Field("", max_length=500)


class DecideIn(InSchema):
    decision: Literal["full", "partial", "reject"]
    amount: str | None = Field(None, max_length=24, description="partial only: less than asked")
    note: str = Field(..., min_length=1, max_length=500)


class CaseLineOut(Schema):
    line_id: int
    product_title: str
    sku_name: str
    quantity: int
    amount: str


class CasePhotoOut(Schema):
    id: int
    url: str
    role: str


class EventOut(Schema):
    action: str
    label: str = Field(..., description="the step as the timeline names it, in the request's language")
    from_status: str
    to_status: str
    role: str
    actor: str
    note: str
    at: datetime
    photos: list[CasePhotoOut]


class CaseOut(Schema):
    id: int
    number: str
    order_id: int
    order_number: str
    shop_id: int
    kind: str
    reason: str
    status: str
    currency: str
    requested_amount: str
    approved_amount: str | None
    compensation: str
    deadline: datetime | None = Field(..., description="when the deadline of the current step passes")
    opened_at: datetime
    actions: list[str] = Field(..., description="what the caller may do now")
    lines: list[CaseLineOut]


class CaseDetailOut(CaseOut):
    description: str
    return_carrier: str
    return_tracking: str
    replacement_carrier: str
    replacement_tracking: str
    resaleable: bool | None
    escalated_by: str
    decision: str
    refund_reference: str | None
    refund_status: str | None
    timeline: list[EventOut]


class CasePage(Schema):
    meta: PageMeta
    results: list[CaseOut]


class CaseFilters(Schema):
    status: CaseStatus | None = None
    kind: Kind | None = None
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


def case_out(case, role) -> dict:
    c = case.currency
    return {
        "id": case.pk, "number": case.number, "order_id": case.order_id, "order_number": case.order.number,
        "shop_id": case.shop_id, "kind": case.kind, "reason": case.reason.label(), "status": case.status,
        "currency": c, "requested_amount": money_str(case.requested_amount, c),
        "approved_amount": money_str(case.approved_amount, c) if case.approved_amount is not None else None,
        "compensation": case.compensation, "deadline": case.deadline, "opened_at": case.opened_at,
        "actions": sorted(str(a) for a in allowed_actions(case.kind, case.status, role)),
        "lines": [{"line_id": cl.line_id, "product_title": cl.line.product_title, "sku_name": cl.line.sku_name,
                   "quantity": cl.quantity, "amount": money_str(cl.amount, c)} for cl in case.lines.all()],
    }


def case_detail_out(case, role) -> dict:
    return {
        **case_out(case, role), "description": case.description, "return_carrier": case.return_carrier,
        "return_tracking": case.return_tracking, "replacement_carrier": case.replacement_carrier,
        "replacement_tracking": case.replacement_tracking, "resaleable": case.resaleable,
        "escalated_by": case.escalated_by, "decision": case.decision,
        "refund_reference": case.refund.reference if case.refund_id else None,
        "refund_status": case.refund.status if case.refund_id else None,
        "timeline": [{"action": e.action, "label": queries.event_label(e), "from_status": e.from_status, "to_status": e.to_status, "role": e.role,
                      "actor": queries.actor_for(e, role), "note": e.note, "at": e.created_at,
                      "photos": [{"id": p.pk, "url": p.image.url, "role": p.role} for p in e.photos.all()]}
                     for e in case.events.all()],
    }


def _page(qs, filters, role):
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [case_out(c, role) for c in items]})


# ---------------------------------------------------------------------------- buyer


def _buyer_detail(user, case_id):
    case = queries.buyer_case_detail(user, case_id)
    if case is None:
        raise NotFound(_("After-sales case not found."))
    return case_detail_out(case, Role.BUYER)


@router.get("/aftersales/reasons", response=responses({200: list[ReasonOut]}))
def list_reasons(request, kind: Kind | None = None):
    """The reasons a case may give (for `kind` when named)."""
    return Status(200, [{"id": r.pk, "code": r.code, "name": r.name, "name_en": r.name_en, "window": r.window,
                         "kinds": list(r.kinds)} for r in queries.reasons(kind)])


@router.post("/aftersales/cases", response=responses({201: CaseDetailOut}), auth=bearer)
def open_case(request, payload: CaseIn):
    """Open a case on lines of your own paid order: someone else's order is a 404, an unpaid
    or cancelled one a 409, outside the reason's window or above the quantity left a 422."""
    case = services.open_case(actor=request.auth, order_id=payload.order_id, kind=payload.kind.value,
                              reason_id=payload.reason_id, lines=[line.dict() for line in payload.lines],
                              description=payload.description, amount=payload.amount,
                              compensation=payload.compensation)
    return Status(201, _buyer_detail(request.auth, case.pk))


@router.get("/aftersales/cases", response=responses({200: CasePage}), auth=bearer)
def buyer_cases(request, filters: Query[CaseFilters]):
    qs = queries.buyer_cases(request.auth, status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return _page(qs, filters, Role.BUYER)


@router.get("/aftersales/cases/{case_id}", response=responses({200: CaseDetailOut}), auth=bearer)
def buyer_case(request, case_id: Id):
    return Status(200, _buyer_detail(request.auth, case_id))


@router.post("/aftersales/cases/{case_id}/cancel", response=responses({200: CaseDetailOut}), auth=bearer)
def cancel_case(request, case_id: Id, payload: NoteIn):
    services.cancel_case(actor=request.auth, case_id=case_id, note=payload.note)
    return Status(200, _buyer_detail(request.auth, case_id))


@router.post("/aftersales/cases/{case_id}/ship-return", response=responses({200: CaseDetailOut}), auth=bearer)
def ship_return(request, case_id: Id, payload: CaseShipIn):
    """Send the goods back with a carrier code (sf, zto, …) and tracking number."""
    services.ship_return(actor=request.auth, case_id=case_id, carrier=payload.carrier,
                         tracking_number=payload.tracking_number, note=payload.note)
    return Status(200, _buyer_detail(request.auth, case_id))


@router.post("/aftersales/cases/{case_id}/confirm", response=responses({200: CaseDetailOut}), auth=bearer)
def confirm_case(request, case_id: Id):
    """The replacement or repaired item arrived."""
    services.confirm_case(actor=request.auth, case_id=case_id)
    return Status(200, _buyer_detail(request.auth, case_id))


@router.post("/aftersales/cases/{case_id}/escalate", response=responses({200: CaseDetailOut}), auth=bearer)
def buyer_escalate(request, case_id: Id, payload: ReasonNoteIn):
    services.escalate(actor=request.auth, case_id=case_id, note=payload.note)
    return Status(200, _buyer_detail(request.auth, case_id))


@router.post("/aftersales/cases/{case_id}/photos", response=responses({200: CaseDetailOut}), auth=bearer)
def buyer_photo(request, case_id: Id, photo: File[UploadedFile]):
    """Add a photo as evidence (JPEG, PNG, WebP or GIF, at most SHOPYARD_MAX_UPLOAD_BYTES)."""
    services.add_photos(actor=request.auth, case_id=case_id, photos=[photo], field="photo")
    return Status(200, _buyer_detail(request.auth, case_id))


# ---------------------------------------------------------------------------- seller


def _seller_detail(shop, case_id):
    case = queries.shop_case_detail(shop, case_id)
    if case is None:
        raise NotFound(_("After-sales case not found."))
    return case_detail_out(case, Role.SELLER)


@seller_router.get("/aftersales/cases", response=responses({200: CasePage}), auth=bearer)
def seller_cases(request, filters: Query[CaseFilters]):
    """The shop's cases, the nearest deadline first."""
    shop = shop_for_seller(request.auth, perm="aftersales")
    return _page(queries.shop_cases(shop, status=filters.status, kind=filters.kind), filters, Role.SELLER)


@seller_router.get("/aftersales/cases/{case_id}", response=responses({200: CaseDetailOut}), auth=bearer)
def seller_case(request, case_id: Id):
    return Status(200, _seller_detail(shop_for_seller(request.auth, perm="aftersales"), case_id))


@seller_router.post("/aftersales/cases/{case_id}/approve", response=responses({200: CaseDetailOut}), auth=bearer)
def seller_approve(request, case_id: Id, payload: NoteIn):
    """Approve: a refund-only or compensation case pays at once; a return waits for the goods."""
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.approve(actor=request.auth, shop=shop, case_id=case_id, note=payload.note)
    return Status(200, _seller_detail(shop, case_id))


@seller_router.post("/aftersales/cases/{case_id}/reject", response=responses({200: CaseDetailOut}), auth=bearer)
def seller_reject(request, case_id: Id, payload: ReasonNoteIn):
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.reject(actor=request.auth, shop=shop, case_id=case_id, note=payload.note)
    return Status(200, _seller_detail(shop, case_id))


@seller_router.post("/aftersales/cases/{case_id}/receive", response=responses({200: CaseDetailOut}), auth=bearer)
def seller_receive(request, case_id: Id, payload: NoteIn):
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.receive(actor=request.auth, shop=shop, case_id=case_id, note=payload.note)
    return Status(200, _seller_detail(shop, case_id))


@seller_router.post("/aftersales/cases/{case_id}/inspect", response=responses({200: CaseDetailOut}), auth=bearer)
def seller_inspect(request, case_id: Id, payload: InspectIn):
    """Inspect the returned goods: resaleable ones go back to stock; a return refunds."""
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.inspect(actor=request.auth, shop=shop, case_id=case_id, resaleable=payload.resaleable,
                     note=payload.note)
    return Status(200, _seller_detail(shop, case_id))


@seller_router.post("/aftersales/cases/{case_id}/ship-replacement", response=responses({200: CaseDetailOut}),
                    auth=bearer)
def seller_ship(request, case_id: Id, payload: CaseShipIn):
    """Ship the replacement (exchange) or the repaired item (repair)."""
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.ship_replacement(actor=request.auth, shop=shop, case_id=case_id, carrier=payload.carrier,
                              tracking_number=payload.tracking_number, note=payload.note)
    return Status(200, _seller_detail(shop, case_id))


@seller_router.post("/aftersales/cases/{case_id}/escalate", response=responses({200: CaseDetailOut}), auth=bearer)
def seller_escalate(request, case_id: Id, payload: ReasonNoteIn):
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.escalate(actor=request.auth, shop=shop, case_id=case_id, note=payload.note)
    return Status(200, _seller_detail(shop, case_id))


@seller_router.post("/aftersales/cases/{case_id}/photos", response=responses({200: CaseDetailOut}), auth=bearer)
def seller_photo(request, case_id: Id, photo: File[UploadedFile]):
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.add_photos(actor=request.auth, shop=shop, case_id=case_id, photos=[photo], field="photo")
    return Status(200, _seller_detail(shop, case_id))


class PolicyIn(InSchema):
    changed_mind_days: int | None = Field(None, description="empty: the platform default")
    quality_days: int | None = None
    warranty_days: int | None = None
    price_protection_days: int | None = None
    respond_hours: int | None = None
    return_ship_days: int | None = None
    inspect_days: int | None = None


class PolicyOut(Schema):
    changed_mind: int
    quality: int
    warranty: int
    price_protection: int
    respond_hours: int
    return_ship_days: int
    inspect_days: int


@seller_router.get("/aftersales/policy", response=responses({200: PolicyOut}), auth=bearer)
def seller_policy(request):
    """The shop's windows (days) and deadlines in force: its own values, else the platform's."""
    return Status(200, services.policy_for(shop_for_seller(request.auth, perm="aftersales")))


@seller_router.put("/aftersales/policy", response=responses({200: PolicyOut}), auth=bearer)
def seller_set_policy(request, payload: PolicyIn):
    """Set the shop's windows and deadlines; null takes the platform default."""
    shop = shop_for_seller(request.auth, write=True, perm="aftersales")
    services.save_policy(actor=request.auth, shop=shop, data=payload.dict())
    return Status(200, services.policy_for(shop))


# ---------------------------------------------------------------------------- operator


def _operator(request):
    return api_operator(request)


@operator_router.get("/aftersales/disputes", response=responses({200: CasePage}), auth=bearer)
def disputes(request, filters: Query[CaseFilters]):
    """Cases either side asked the platform to decide, the longest waiting first."""
    user = _operator(request)
    return _page(queries.operator_cases(user, status=filters.status or CaseStatus.DISPUTED), filters, Role.OPERATOR)


@operator_router.get("/aftersales/cases/{case_id}", response=responses({200: CaseDetailOut}), auth=bearer)
def operator_case(request, case_id: Id):
    case = queries.operator_case_detail(_operator(request), case_id)
    if case is None:
        raise NotFound(_("After-sales case not found."))
    return Status(200, case_detail_out(case, Role.OPERATOR))


@operator_router.post("/aftersales/cases/{case_id}/decide", response=responses({200: CaseDetailOut}), auth=bearer)
def decide(request, case_id: Id, payload: DecideIn):
    """Decide a dispute: refund in full, in part (`amount`, less than asked) or reject; the
    system carries it out."""
    user = _operator(request)
    services.decide(actor=user, case_id=case_id, decision=payload.decision, amount=payload.amount,
                    note=payload.note)
    return operator_case(request, case_id)


__all__ = ["operator_router", "router", "seller_router"]
