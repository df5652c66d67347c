"""The operators' shop API: suspend and reopen a shop with a reason, read its history.

Staff only: anyone else gets 403 (the services check the actor)."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from shopyard.core.access import api_operator
from shopyard.core.api_support import Id, InSchema, bearer, responses
from shopyard.core.errors import NotFound

from . import services
from .models import Shop, ShopStatusChange

operator_router = Router(tags=["operator"])


class ReasonIn(InSchema):
    reason: str = Field(..., min_length=1, max_length=services.MAX_REASON_LENGTH)


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    action: str
    actor: str
    reason: str
    created_at: datetime


class ShopStatusOut(Schema):
    id: int
    name: str
    status: str
    history: list[StatusChangeOut]


def _out(shop) -> dict:
    changes = ShopStatusChange.objects.filter(shop=shop).order_by("-created_at", "-id")[:50]
    return {"id": shop.pk, "name": shop.name, "status": shop.status, "history": [
        {"from_status": c.from_status, "to_status": c.to_status, "action": c.action, "actor": c.actor_label,
         "reason": c.reason, "created_at": c.created_at} for c in changes
    ]}


@operator_router.get("/shops/{shop_id}", response=responses({200: ShopStatusOut}), auth=bearer)
def shop_status(request, shop_id: Id):
    """A shop's status and its suspension history."""
    api_operator(request)
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(_("Shop not found."))
    return Status(200, _out(shop))


@operator_router.post("/shops/{shop_id}/suspend", response=responses({200: ShopStatusOut}), auth=bearer)
def suspend(request, shop_id: Id, payload: ReasonIn):
    """Hide the shop's products everywhere and make its console read-only (409 if already suspended)."""
    return Status(200, _out(services.suspend_shop(actor=request.auth, shop_id=shop_id, reason=payload.reason)))


@operator_router.post("/shops/{shop_id}/reopen", response=responses({200: ShopStatusOut}), auth=bearer)
def reopen(request, shop_id: Id, payload: ReasonIn):
    """Make a suspended shop active again (409 if it is active)."""
    return Status(200, _out(services.reopen_shop(actor=request.auth, shop_id=shop_id, reason=payload.reason)))
