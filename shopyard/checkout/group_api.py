"""Group buying over HTTP for shoppers: a campaign's details, opening a group,
joining one by its share code, a group's status and the caller's groups.

Opening and joining place an order (and one payment) through
checkout.group_buy; the answer carries the payment's gateway URL, as
POST /orders does. Prices come from the pricing pipeline, never the client."""

from datetime import datetime

from ninja import Field, Header, Path, Router, Schema, Status

from shopyard.core.api_support import Id, InSchema, bearer, responses
from shopyard.core.errors import NotFound
from shopyard.core.money import money_str
from shopyard.orders.api import OrderOut, order_out
from shopyard.promotions import group_queries, group_services

from . import group_buy
from .api import PaymentRef, payment_ref

router = Router(tags=["group buying"])

ShareCode = Path(..., min_length=1, max_length=32)


class ItemOut(Schema):
    id: int
    sku_id: int
    product_id: int
    title: str
    sku_name: str
    list_price: str
    group_price: str


class CampaignDetailOut(Schema):
    id: int
    shop_id: int
    name: str
    group_size: int
    time_limit_hours: int
    max_quantity: int
    starts_at: datetime
    ends_at: datetime
    live: bool
    currency: str
    items: list[ItemOut]


class MemberOut(Schema):
    name: str = Field(..., description="masked: the first character and **")
    leader: bool
    paid_at: datetime


class GroupOut(Schema):
    share_code: str
    status: str = Field(..., description="open, succeeded or failed")
    campaign_id: int
    item: ItemOut
    group_size: int
    paid_members: int
    places_left: int
    expires_at: datetime
    seconds_left: int
    joinable: bool
    price: str | None = Field(..., description="what one unit costs a member, shipping included (the pipeline's "
                                                "total); null once the group has closed or expired")
    members: list[MemberOut]


class OpenIn(InSchema):
    item_id: int = Field(..., ge=1, le=2**53, strict=True)
    quantity: int = Field(1, ge=1, le=999, strict=True)
    address_id: int = Field(..., ge=1, le=2**53, strict=True)


class JoinIn(InSchema):
    quantity: int = Field(1, ge=1, le=999, strict=True)
    address_id: int = Field(..., ge=1, le=2**53, strict=True)


class GroupCheckoutOut(Schema):
    group: GroupOut
    orders: list[OrderOut]
    payment: PaymentRef


class MyGroupOut(Schema):
    share_code: str
    status: str
    order_id: int
    order_status: str
    paid: bool
    paid_members: int
    group_size: int
    expires_at: datetime


def item_out(item, currency) -> dict:
    sku = item.sku
    return {"id": item.pk, "sku_id": sku.pk, "product_id": sku.product_id, "title": sku.product.title,
            "sku_name": sku.name, "list_price": money_str(sku.price, currency),
            "group_price": money_str(item.group_price, currency)}


def masked(user) -> str:
    name = user.username or "?"
    return f"{name[:1]}**"


def group_out(group, user=None) -> dict:
    info = group_queries.group_info(group)
    currency = group.campaign.currency
    price = group_buy.quote(user=user, group=group).total if info.seconds_left else None
    return {
        "share_code": group.share_code, "status": group.status, "campaign_id": group.campaign_id,
        "item": item_out(group.item, currency), "group_size": info.size, "paid_members": len(info.paid),
        "places_left": info.places_left, "expires_at": group.expires_at, "seconds_left": info.seconds_left,
        "joinable": info.joinable, "price": money_str(price.amount, price.currency) if price else None,
        "members": [{"name": masked(m.user), "leader": m.user_id == group.leader_id, "paid_at": m.paid_at}
                    for m in info.paid],
    }


@router.get("/group-buys/{campaign_id}", response=responses({200: CampaignDetailOut}))
def campaign_detail(request, campaign_id: Id):
    """A published campaign: its group size, time limit and each SKU's list and group price."""
    campaign = group_queries.published_campaign(campaign_id)
    if campaign is None:
        raise NotFound()
    return Status(200, {
        "id": campaign.pk, "shop_id": campaign.shop_id, "name": campaign.name, "group_size": campaign.group_size,
        "time_limit_hours": campaign.time_limit_hours, "max_quantity": campaign.max_quantity,
        "starts_at": campaign.starts_at, "ends_at": campaign.ends_at,
        "live": group_services.campaign_is_live(campaign), "currency": campaign.currency,
        "items": [item_out(i, campaign.currency) for i in campaign.items.all()],
    })


def _checkout_out(result, user) -> dict:
    placed = result.placed
    return {"group": group_out(result.group, user), "orders": [order_out(o) for o in placed.orders],
            "payment": payment_ref(placed.payment)}


@router.post("/groups", response=responses({200: GroupCheckoutOut, 201: GroupCheckoutOut}), auth=bearer)
def open_group(request, payload: OpenIn,
               idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128)):
    """开团: open a group of a live campaign's item and place your order in it; pay it to
    start the group, then share its code. A retry with the same `Idempotency-Key` and body
    returns the first group (200) instead of opening another."""
    result = group_buy.open_group(actor=request.auth, item_id=payload.item_id, quantity=payload.quantity,
                                  address_id=payload.address_id, idempotency_key=idempotency_key)
    return Status(200 if result.placed.replayed else 201, _checkout_out(result, request.auth))


@router.post("/groups/{code}/join", response=responses({201: GroupCheckoutOut}), auth=bearer)
def join_group(request, payload: JoinIn, code: str = ShareCode):
    """参团: place your order in the group; your place counts once it is paid."""
    result = group_buy.join_group(actor=request.auth, share_code=code, quantity=payload.quantity,
                                  address_id=payload.address_id)
    return Status(201, _checkout_out(result, request.auth))


@router.get("/groups/{code}", response=responses({200: GroupOut}))
def group_status(request, code: str = ShareCode):
    """A group by its share code: members who paid, places left, time left."""
    return Status(200, group_out(group_services.group_by_code(code)))


@router.get("/groups", response=responses({200: list[MyGroupOut]}), auth=bearer)
def my_groups(request):
    return Status(200, [{
        "share_code": m.group.share_code, "status": m.group.status, "order_id": m.order_id,
        "order_status": m.order.status, "paid": m.paid_at is not None, "paid_members": m.paid_members,
        "group_size": m.group.campaign.group_size, "expires_at": m.group.expires_at,
    } for m in group_queries.groups_of(request.auth)[:100]])
