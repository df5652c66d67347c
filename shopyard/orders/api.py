"""Orders over HTTP: list, detail, cancel, confirm receipt; and the seller's
side: list, detail, ship. (Placing orders is checkout's: checkout/api.py adds
POST /orders to this router.) Each order carries the `actions` its state
machine allows the caller now."""

from datetime import datetime
from enum import Enum

from ninja import Field, Query, Router, Schema, Status

from shopyard.core.api_support import Id, PageMeta, bearer, paginate, responses
from shopyard.core.errors import NotFound
from shopyard.core.money import money_str
from shopyard.shipping.api import ParcelOut, parcel_out
from shopyard.shops.queries import shop_for_seller

from . import queries, services
from .state import BUYER_TABS, Role, actions_for
from .state import Status as OrderStatus

router = Router(tags=["orders"])
seller_router = Router(tags=["seller"])


class AdjustmentOut(Schema):
    kind: str = Field(..., description="time_discount, spend_tiers, shop_coupon, …")
    source: str = Field(..., description="promotion, coupon, flash, group")
    source_id: int | None
    label: str
    label_en: str
    amount: str
    funded_by: str = Field(..., description="shop or platform: who pays for the discount")


def adjustment_out(a, currency) -> dict:
    return {"kind": a.kind, "source": a.source, "source_id": a.source_id, "label": a.label,
            "label_en": a.label_en, "amount": money_str(a.amount, currency), "funded_by": a.funded_by}


class OrderLineOut(Schema):
    id: int
    sku_id: int | None
    product_id: int
    product_title: str
    product_title_en: str
    sku_code: str
    sku_name: str
    sku_name_en: str
    unit_price: str = Field(..., description="the list price, before discounts")
    quantity: int
    line_total: str = Field(..., description="unit price × quantity, before discounts")
    discount: str = Field(..., description="this line's share of every discount (the adjustments add up to it)")
    net_total: str = Field(..., description="what was paid for this line: line_total − discount")
    is_gift: bool
    adjustments: list[AdjustmentOut]
    explanation: str = Field(..., description='the price as the shopper reads it: "¥398.00 − ¥79.60 限时8折"')


class HistoryOut(Schema):
    from_status: str
    to_status: str
    action: str
    actor: str
    note: str
    at: datetime


class ShipmentOut(Schema):
    carrier: str
    carrier_name: str
    tracking_number: str
    shipped_at: datetime


class OrderOut(Schema):
    id: int
    number: str
    checkout_id: str
    status: str
    shop_id: int
    shop_name: str
    currency: str
    subtotal: str = Field(..., description="the lines at list price")
    discount_total: str = Field(..., description="every line discount")
    shipping_fee: str
    shipping_discount: str = Field(..., description="what a free-shipping offer took off the fee")
    total: str = Field(..., description="subtotal − discount_total + shipping_fee − shipping_discount")
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    pay_by: datetime | None = Field(..., description="when an unpaid order is cancelled if not paid (null once it cannot expire)")
    actions: list[str] = Field(..., description="what the caller may do now: pay, cancel, confirm_receipt (buyer); ship (seller)")
    hold: str = Field("", description="why the order may not be shipped yet (group_buy: its group is filling); empty when it may")
    lines: list[OrderLineOut]


class OrderDetailOut(OrderOut):
    shipping_address: dict[str, str]
    note: str
    history: list[HistoryOut]
    shipment: ShipmentOut | None = Field(..., description="the first parcel (see `parcels` for all of them)")
    parcels: list[ParcelOut] = Field(..., description="every parcel with its lines and tracking timeline")


class OrderPage(Schema):
    meta: PageMeta
    results: list[OrderOut]


class BuyerOrderPage(OrderPage):
    counts: dict[str, int] = Field(..., description="orders under each order-centre tab: " + ", ".join(BUYER_TABS))


BuyerTab = Enum("BuyerTab", {tab: tab for tab in BUYER_TABS}, type=str)


class OrderFilters(Schema):
    status: OrderStatus | None = None
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


class BuyerOrderFilters(OrderFilters):
    tab: BuyerTab | None = Field(None, description="an order-centre tab (its statuses); combined with `status` if both")


class SellerOrderFilters(OrderFilters):
    q: str | None = Field(None, max_length=40, description="order number contains")


class ShipIn(Schema):
    carrier: str = Field(..., max_length=20)
    tracking_number: str = Field(..., max_length=40)


def order_out(o, role=Role.BUYER) -> dict:
    c = o.currency
    return {
        "id": o.pk, "number": o.number, "checkout_id": str(o.checkout_id), "status": o.status, "shop_id": o.shop_id,
        "shop_name": o.shop.name, "currency": c, "subtotal": money_str(o.subtotal, c),
        "discount_total": money_str(o.discount_total, c), "shipping_fee": money_str(o.shipping_fee, c),
        "shipping_discount": money_str(o.shipping_discount, c), "total": money_str(o.total, c), "placed_at": o.placed_at,
        "paid_at": o.paid_at, "shipped_at": o.shipped_at, "delivered_at": o.delivered_at,
        "completed_at": o.completed_at, "cancelled_at": o.cancelled_at,
        "pay_by": queries.payment_deadline(o),
        "actions": sorted(str(a) for a in actions_for(o, role)), "hold": o.hold,
        "lines": [{
            "id": ln.pk, "sku_id": ln.sku_id, "product_id": ln.product_id_snapshot, "product_title": ln.product_title,
            "product_title_en": ln.product_title_en, "sku_code": ln.sku_code, "sku_name": ln.sku_name,
            "sku_name_en": ln.sku_name_en, "unit_price": money_str(ln.unit_price, c), "quantity": ln.quantity,
            "line_total": money_str(ln.line_total, c), "discount": money_str(ln.discount, c),
            "net_total": money_str(ln.net_total, c), "is_gift": ln.is_gift,
            "adjustments": [adjustment_out(a, c) for a in ln.adjustment_rows],
            "explanation": ln.explain() if ln.discount else "",
        } for ln in (getattr(o, "line_list", None) or o.lines.all())],
    }


def order_detail_out(o, role=Role.BUYER) -> dict:
    parcels = [parcel_out(p) for p in o.shipments.all()]
    shipment = parcels[0] if parcels else None
    return {
        **order_out(o, role), "shipping_address": {k: str(v) for k, v in (o.shipping_address or {}).items()}, "note": o.note,
        "history": [{"from_status": h.from_status, "to_status": h.to_status, "action": h.action,
                     "actor": queries.history_label_for_buyer(h, o) if role == Role.BUYER else h.actor_label,
                     "note": h.note, "at": h.created_at} for h in o.history.all()],
        "shipment": {key: shipment[key] for key in ("carrier", "carrier_name", "tracking_number", "shipped_at")}
        if shipment else None,
        "parcels": parcels,
    }


@router.get("/orders", response=responses({200: BuyerOrderPage}), auth=bearer)
def list_orders(request, filters: Query[BuyerOrderFilters]):
    qs = queries.buyer_tab_orders(request.auth, filters.tab.value if filters.tab else "all")
    if filters.status:
        qs = qs.filter(status=filters.status)
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [order_out(o) for o in items],
                        "counts": queries.buyer_tab_counts(request.auth)})


def _buyer_detail(user, order_id):
    order = queries.buyer_order_detail(user, order_id)
    if order is None:
        raise NotFound()
    return order_detail_out(order)


@router.get("/orders/{order_id}", response=responses({200: OrderDetailOut}), auth=bearer)
def get_order(request, order_id: Id):
    return Status(200, _buyer_detail(request.auth, order_id))


@router.post("/orders/{order_id}/cancel", response=responses({200: OrderDetailOut}), auth=bearer)
def cancel_order(request, order_id: Id):
    """Cancel an order awaiting payment; its stock is released. Any other status is a 409."""
    services.cancel_by_buyer(actor=request.auth, order_id=order_id)
    return Status(200, _buyer_detail(request.auth, order_id))


@router.post("/orders/{order_id}/confirm-receipt", response=responses({200: OrderDetailOut}), auth=bearer)
def confirm_receipt(request, order_id: Id):
    services.confirm_receipt(actor=request.auth, order_id=order_id)
    return Status(200, _buyer_detail(request.auth, order_id))


@seller_router.get("/orders", response=responses({200: OrderPage}), auth=bearer)
def seller_orders(request, filters: Query[SellerOrderFilters]):
    shop = shop_for_seller(request.auth, perm="orders")
    qs = queries.shop_orders(shop, status=filters.status, q=filters.q).select_related("shop")
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"meta": meta, "results": [order_out(o, Role.SELLER) for o in items]})


def _seller_detail(shop, order_id):
    order = queries.shop_order_detail(shop, order_id)
    if order is None:
        raise NotFound()
    return order_detail_out(order, Role.SELLER)


@seller_router.get("/orders/{order_id}", response=responses({200: OrderDetailOut}), auth=bearer)
def seller_order(request, order_id: Id):
    return Status(200, _seller_detail(shop_for_seller(request.auth, perm="orders"), order_id))


@seller_router.post("/orders/{order_id}/ship", response=responses({200: OrderDetailOut}), auth=bearer)
def seller_ship(request, order_id: Id, payload: ShipIn):
    """Ship a paid order with a carrier code (sf, zto, yto, sto, yunda, jd, ems, other) and tracking number."""
    shop = shop_for_seller(request.auth, write=True, perm="orders")
    services.ship(actor=request.auth, shop=shop, order_id=order_id, carrier=payload.carrier,
                  tracking_number=payload.tracking_number)
    return Status(200, _seller_detail(shop, order_id))


__all__ = ["router", "seller_router"]
