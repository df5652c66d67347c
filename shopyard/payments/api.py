"""Payments over HTTP: start one for unpaid orders, read it, and the gateways'
notification callbacks (no bearer auth: they are authenticated by signature)."""

from datetime import datetime

from django.conf import settings
from ninja import Field, Router, Schema, Status

from shopyard.core.api_support import BodyId, Id, bearer, responses
from shopyard.core.errors import NotFound
from shopyard.core.money import money_str
from shopyard.orders import services as order_services
from shopyard.shops.queries import shop_for_seller

from . import gateways, queries, refunds, services
from .views import client_ip

router = Router(tags=["payments"])
seller_router = Router(tags=["seller"])


class StartIn(Schema):
    order_ids: list[BodyId] = Field(..., min_length=1, max_length=50)
    method: str | None = Field(None, max_length=30, description="a configured gateway (GET /payments/methods)")


class MethodOut(Schema):
    name: str
    label: str
    channels: dict[str, str]


class BeginIn(Schema):
    channel: str = Field("", max_length=20)


class BeginOut(Schema):
    kind: str
    url: str
    fields: dict[str, str]
    qr_code: str


class RefundLineOut(Schema):
    line_id: int
    product_title: str
    quantity: int | None
    amount: str


class RefundOut(Schema):
    reference: str
    order_id: int | None
    kind: str = Field(..., description="full (the whole order, with shipping) or lines (part of it, by a seller)")
    amount: str
    shipping_amount: str
    lines: list[RefundLineOut]
    currency: str
    status: str
    reason: str
    created_at: datetime
    completed_at: datetime | None


class PaymentOut(Schema):
    id: int
    reference: str
    status: str
    gateway: str
    amount: str
    currency: str
    order_ids: list[int]
    gateway_url: str
    refunds: list[RefundOut]


class CallbackOut(Schema):
    result: str


class RefundLineIn(Schema):
    line_id: BodyId
    amount: str | None = Field(None, max_length=30, description="money to return for the line, e.g. \"12.50\"")
    quantity: int | None = Field(None, description="units returned; alone, that share of the line's net total")


class RefundIn(Schema):
    lines: list[RefundLineIn] = Field(..., min_length=1, max_length=200)
    reason: str = Field(..., max_length=200)


def refund_out(r) -> dict:
    return {"reference": r.reference, "order_id": r.order_id, "kind": r.kind,
            "amount": money_str(r.amount, r.currency), "shipping_amount": money_str(r.shipping_amount, r.currency),
            "lines": [{"line_id": rl.line_id, "product_title": rl.line.product_title, "quantity": rl.quantity,
                       "amount": money_str(rl.amount, r.currency)} for rl in r.lines.all()],
            "currency": r.currency, "status": r.status, "reason": r.reason, "created_at": r.created_at,
            "completed_at": r.completed_at}


def payment_out(p) -> dict:
    return {"id": p.pk, "reference": p.reference, "status": p.status, "gateway": p.gateway,
            "amount": money_str(p.amount, p.currency), "currency": p.currency,
            "order_ids": sorted(p.orders.values_list("pk", flat=True)), "gateway_url": services.gateway_url(p),
            "refunds": [refund_out(r) for r in queries.refunds_for_payment(p)]}


@router.post("/payments", response=responses({201: PaymentOut}), auth=bearer)
def start_payment(request, payload: StartIn):
    """One payment for the given orders awaiting payment through `method`
    (default: the first configured gateway); open `gateway_url` to pay, or
    call `POST /payments/{id}/begin` for the provider's redirect or QR data."""
    payment = services.start_payment(actor=request.auth, order_ids=payload.order_ids, method=payload.method)
    return Status(201, payment_out(payment))


@router.get("/payments/methods", response=responses({200: list[MethodOut]}), auth=bearer)
def payment_methods(request):
    """The gateways a shopper can pay with now, and their channels."""
    return Status(200, [{"name": g.name, "label": str(g.label), "channels": {k: str(v) for k, v in g.channels.items()}}
                        for g in gateways.available()])


@router.post("/payments/{payment_id}/begin", response=responses({200: BeginOut}), auth=bearer)
def begin_payment(request, payment_id: Id, payload: BeginIn):
    """Start the payment at its gateway: a redirect URL (Alipay, WeChat Pay H5),
    a form, or QR-code data (WeChat Pay Native)."""
    payment = services.own_payment(actor=request.auth, payment_id=payment_id)
    _payment, answer = services.begin_at_gateway(actor=request.auth, reference=payment.reference,
                                                 channel=payload.channel, client_ip=client_ip(request))
    return Status(200, {"kind": answer.kind, "url": answer.url, "fields": answer.fields, "qr_code": answer.qr_code})


@router.get("/payments/{payment_id}", response=responses({200: PaymentOut}), auth=bearer)
def get_payment(request, payment_id: Id):
    return Status(200, payment_out(services.own_payment(actor=request.auth, payment_id=payment_id)))


@router.get("/orders/{order_id}/refunds", response=responses({200: list[RefundOut]}), auth=bearer)
def order_refunds(request, order_id: Id):
    """The refunds of one of the caller's orders: status, amount and the lines each returns."""
    order = order_services.buyer_order(actor=request.auth, order_id=order_id)
    return Status(200, [refund_out(r) for r in queries.refunds_for_order(order)])


@seller_router.get("/orders/{order_id}/refunds", response=responses({200: list[RefundOut]}), auth=bearer)
def seller_order_refunds(request, order_id: Id):
    order = order_services.shop_order(shop=shop_for_seller(request.auth, perm="orders"), order_id=order_id)
    return Status(200, [refund_out(r) for r in queries.refunds_for_order(order)])


@seller_router.post("/orders/{order_id}/refunds", response=responses({201: RefundOut}), auth=bearer)
def seller_refund(request, order_id: Id, payload: RefundIn):
    """Refund lines of a paid, shipped, delivered or completed order of the shop: each line by
    `amount` and/or `quantity`, never more than what is left of its net total; a reason is
    required. The gateway completes it asynchronously (status `pending` until then).
    422: bad amounts or lines; 409: the order cannot be refunded or the payment has too little left."""
    shop = shop_for_seller(request.auth, write=True, perm="orders")
    refund = refunds.refund_order_lines(actor=request.auth, shop=shop, order_id=order_id, reason=payload.reason,
                                        lines=[line.dict() for line in payload.lines])
    return Status(201, refund_out(queries.refunds_for_order(refund.order)[-1]))


@router.post("/payments/callback/{gateway}", response=responses({200: CallbackOut}), auth=None)
def callback(request, gateway: str):
    """Asynchronous notification from a gateway. The simulated gateway signs
    `<t>.<body>` with HMAC-SHA256: header `X-Shopyard-Signature: t=<unix>,v1=<hex>`.
    Forged, stale or mismatched notifications are rejected (400) and stored;
    a replay of an applied one answers `duplicate` and changes nothing."""
    if gateway == "simulated" and not settings.SIMULATED_GATEWAY:
        raise NotFound()  # the simulated gateway is off unless SHOPYARD_SIMULATED_GATEWAY=1
    result = services.handle_notification(gateway=gateway, body=request.body, headers=request.headers)
    return Status(200, {"result": result})
