"""Seller onboarding and shop staff in the API.

- `/shop-applications` (any logged-in user): apply (multipart: the fields and
  the document files), list and read your applications, resubmit after an
  operator asked for more.
- `/operator/shop-applications`: the review queue, one application, and
  approve / reject / request-info (operators only, core.access).
- `/seller/staff`: the shop's staff; invite, change role, remove (the owner:
  area "staff" in shops.roles).

Handlers parse, authorise and call one service (applications.py, staff.py)."""

from datetime import datetime

from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from shopyard.core.api_support import Id, InSchema, PageMeta, bearer, paginate, responses

from . import applications, staff
from .application_state import operator_actions
from .models import ShopApplication
from .queries import (
    application_for_applicant,
    application_for_operator,
    applications_for_operator,
    applications_of,
    shop_for_seller,
    shop_members,
)

router = Router(tags=["shop applications"])
operator_router = Router(tags=["operator"])
seller_router = Router(tags=["seller"])


class ApplicationFieldsIn(Schema):
    kind: str = Field(..., description="individual (C2C) or company (B2C)", max_length=20)
    shop_name: str = Field(..., max_length=200)
    business_category: str = Field(..., max_length=20)
    contact_name: str = Field(..., max_length=200)
    contact_phone: str = Field(..., max_length=50)
    contact_email: str = Field("", max_length=300)
    id_number: str = Field(..., description="identity card number (individual) or unified social credit code "
                           "(company)", max_length=50)
    note: str = Field("", description="resubmitting: what changed, for the operator", max_length=600)


class ApplicationDocumentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    uploaded_at: datetime
    url: str


class ApplicationHistoryOut(Schema):
    from_status: str
    to_status: str
    action: str
    actor: str
    reason: str
    created_at: datetime


class ShopApplicationOut(Schema):
    id: int
    status: str
    kind: str
    shop_name: str
    business_category: str
    contact_name: str
    contact_phone: str
    contact_email: str
    id_number: str
    reason: str
    shop_id: int | None
    created_at: datetime
    updated_at: datetime
    documents: list[ApplicationDocumentOut]
    history: list[ApplicationHistoryOut]
    actions: list[str]


class ShopApplicationPage(Schema):
    meta: PageMeta
    results: list[ShopApplicationOut]


class ApplicationFilters(Schema):
    status: str | None = Field(None, max_length=20)
    page: int = Field(1, ge=1, le=10**6)
    page_size: int = Field(20, ge=1, le=100)


class ReviewIn(InSchema):
    reason: str = Field("", max_length=applications.MAX_REASON_LENGTH)


class StaffMemberOut(Schema):
    id: int
    user_id: int
    username: str
    email: str
    role: str


class StaffInviteIn(InSchema):
    login: str = Field(..., description="username or e-mail address", max_length=staff.MAX_LOGIN_LENGTH)
    role: str = Field(..., max_length=20)


class StaffRoleIn(InSchema):
    role: str = Field(..., max_length=20)


def application_out(a: ShopApplication, *, operator=False) -> dict:
    return {
        "id": a.pk, "status": a.status, "kind": a.kind, "shop_name": a.shop_name,
        "business_category": a.business_category, "contact_name": a.contact_name,
        "contact_phone": a.contact_phone, "contact_email": a.contact_email, "id_number": a.id_number,
        "reason": a.reason, "shop_id": a.shop_id, "created_at": a.created_at, "updated_at": a.updated_at,
        "documents": [{"id": d.pk, "kind": d.kind, "content_type": d.content_type, "size": d.size,
                       "uploaded_at": d.uploaded_at, "url": reverse("storefront:shop_application_document", args=[d.pk])}
                      for d in a.documents.all()],
        "history": [{"from_status": h.from_status, "to_status": h.to_status, "action": h.action,
                     "actor": h.actor_label, "reason": h.reason, "created_at": h.created_at} for h in a.history.all()],
        "actions": [str(x) for x in operator_actions(a.status)] if operator else
                   (["resubmit"] if a.status == ShopApplication.Status.NEEDS_MORE_INFO else []),
    }


def _documents(id_front, id_back, business_licence, other) -> list:
    docs = [(kind, f) for kind, f in (("id_front", id_front), ("id_back", id_back),
                                      ("business_licence", business_licence)) if f is not None]
    return docs + [("other", f) for f in (other or [])]


# --- applicant -----------------------------------------------------------------


@router.post("/shop-applications", response=responses({201: ShopApplicationOut}), auth=bearer)
def submit_application(request, payload: Form[ApplicationFieldsIn], id_front: File[UploadedFile] = None,
                       id_back: File[UploadedFile] = None, business_licence: File[UploadedFile] = None,
                       other: File[list[UploadedFile]] = None):
    """Apply to open a shop. Individuals upload `id_front` and `id_back`, companies
    `business_licence`; `other` files are optional. Images (JPEG/PNG/WebP/GIF) or PDF, 5 MB each."""
    data = payload.dict()
    application = applications.submit_application(
        actor=request.auth, data=data, documents=_documents(id_front, id_back, business_licence, other))
    return Status(201, application_out(application_for_applicant(request.auth, application.pk)))


@router.get("/shop-applications", response=responses({200: list[ShopApplicationOut]}), auth=bearer)
def my_applications(request):
    """Your applications, newest first, with the operators' reasons."""
    return Status(200, [application_out(a) for a in
                        applications_of(request.auth).prefetch_related("documents", "history")[:50]])


@router.get("/shop-applications/{application_id}", response=responses({200: ShopApplicationOut}), auth=bearer)
def my_application(request, application_id: Id):
    return Status(200, application_out(application_for_applicant(request.auth, application_id)))


@router.post("/shop-applications/{application_id}/resubmit", response=responses({200: ShopApplicationOut}),
             auth=bearer)
def resubmit_application(request, application_id: Id, payload: Form[ApplicationFieldsIn],
                         id_front: File[UploadedFile] = None, id_back: File[UploadedFile] = None,
                         business_licence: File[UploadedFile] = None, other: File[list[UploadedFile]] = None):
    """Answer an operator's request for more: corrected fields and new documents (409 unless asked)."""
    data = payload.dict()
    applications.resubmit_application(actor=request.auth, application_id=application_id, data=data,
                                      documents=_documents(id_front, id_back, business_licence, other),
                                      note=data.get("note", ""))
    return Status(200, application_out(application_for_applicant(request.auth, application_id)))


# --- operator ------------------------------------------------------------------


@operator_router.get("/shop-applications", response=responses({200: ShopApplicationPage}), auth=bearer)
def review_queue(request, filters: Query[ApplicationFilters]):
    """Applications waiting for review (or of one `status`), the longest waiting first."""
    qs = applications_for_operator(request.auth, status=filters.status)
    items, meta = paginate(qs.prefetch_related("documents", "history"), filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [application_out(a, operator=True) for a in items]})


@operator_router.get("/shop-applications/{application_id}", response=responses({200: ShopApplicationOut}),
                     auth=bearer)
def review_one(request, application_id: Id):
    return Status(200, application_out(application_for_operator(request.auth, application_id), operator=True))


def _reviewed(request, application_id, action, payload):
    applications.review(actor=request.auth, application_id=application_id, action=action, reason=payload.reason)
    return Status(200, application_out(application_for_operator(request.auth, application_id), operator=True))


@operator_router.post("/shop-applications/{application_id}/approve", response=responses({200: ShopApplicationOut}),
                      auth=bearer)
def approve(request, application_id: Id, payload: ReviewIn):
    """Open the shop; the applicant becomes its owner (409 if already decided)."""
    return _reviewed(request, application_id, "approve", payload)


@operator_router.post("/shop-applications/{application_id}/reject", response=responses({200: ShopApplicationOut}),
                      auth=bearer)
def reject(request, application_id: Id, payload: ReviewIn):
    """Refuse, with a `reason` the applicant reads (required)."""
    return _reviewed(request, application_id, "reject", payload)


@operator_router.post("/shop-applications/{application_id}/request-info",
                      response=responses({200: ShopApplicationOut}), auth=bearer)
def request_info(request, application_id: Id, payload: ReviewIn):
    """Send it back, saying in `reason` what is missing (required)."""
    return _reviewed(request, application_id, "request_info", payload)


# --- seller: staff -------------------------------------------------------------


def member_out(m) -> dict:
    return {"id": m.pk, "user_id": m.user_id, "username": m.user.username, "email": m.user.email, "role": m.role}


@seller_router.get("/staff", response=responses({200: list[StaffMemberOut]}), auth=bearer)
def list_staff(request):
    """The shop's staff and their roles (owners only)."""
    shop = shop_for_seller(request.auth, perm="staff")
    return Status(200, [member_out(m) for m in shop_members(shop)])


@seller_router.post("/staff", response=responses({201: StaffMemberOut}), auth=bearer)
def invite_staff(request, payload: StaffInviteIn):
    """Add an account by username or e-mail with a role (owner, manager, product_editor, order_clerk, cs_agent)."""
    shop = shop_for_seller(request.auth, perm="staff", write=True)
    member = staff.invite_member(actor=request.auth, shop=shop, login=payload.login, role=payload.role)
    return Status(201, member_out(member))


@seller_router.put("/staff/{member_id}", response=responses({200: StaffMemberOut}), auth=bearer)
def change_staff_role(request, member_id: Id, payload: StaffRoleIn):
    shop = shop_for_seller(request.auth, perm="staff", write=True)
    return Status(200, member_out(staff.change_role(actor=request.auth, shop=shop, member_id=member_id,
                                                    role=payload.role)))


@seller_router.delete("/staff/{member_id}", response=responses({204: None}), auth=bearer)
def remove_staff(request, member_id: Id):
    """Remove a member (not yourself, not the last owner)."""
    shop = shop_for_seller(request.auth, perm="staff", write=True)
    staff.remove_member(actor=request.auth, shop=shop, member_id=member_id)
    return Status(204, None)
