"""Payments over HTTP: start one for unpaid orders, read it, and the gateways'
notification callbacks (no bearer auth: they are authenticated by signature)."""

from datetime import datetime

from django.conf import settings
from ninja import Field, Router, Schema, Status

from shopyard.core.api_support import BodyId, Id, bearer, responses
from shopyard.core.errors import NotFound
from shopyard.core.money import money_str

from . import gateways, queries, services
from .views import client_ip

router = Router(tags=["payments"])


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


class RefundOut(Schema):
    reference: str
    order_id: int | None
    amount: str
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


def payment_out(p) -> dict:
    return {"id": p.pk, "reference": p.reference, "status": p.status, "gateway": p.gateway,
            "amount": money_str(p.amount, p.currency), "currency": p.currency,
            "order_ids": sorted(p.orders.values_list("pk", flat=True)), "gateway_url": services.gateway_url(p),
            "refunds": [{"reference": r.reference, "order_id": r.order_id, "amount": money_str(r.amount, r.currency),
                         "currency": r.currency, "status": r.status, "reason": r.reason, "created_at": r.created_at,
                         "completed_at": r.completed_at} for r in queries.refunds_for_payment(p)]}


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
