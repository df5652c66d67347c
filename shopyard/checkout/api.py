"""Placing orders over HTTP: POST /orders (idempotent). The route lives on
the orders router (one path, one view for GET and POST) but belongs to
checkout, which depends on orders and payments, not the other way round."""

import json
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Header, Path, Schema, Status
from ninja.errors import AuthenticationError
from ninja.responses import NinjaJSONEncoder

from shopyard.core.api_support import Id, bearer, responses
from shopyard.core.money import money_str
from shopyard.orders.api import OrderOut, order_out
from shopyard.orders.api import router as orders_router
from shopyard.orders.queries import buyer_orders
from shopyard.promotions.flash_api import router as flash_router


class LineIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**53, strict=True)
    quantity: int = Field(..., ge=1, le=999, strict=True)


class PlaceOrderIn(Schema):
    """Only the address, the items and a note are read; prices and totals are computed by the server."""

    address_id: int = Field(..., ge=1, le=2**53, strict=True)
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=100, description="omit to order the whole cart")
    note: str = Field("", max_length=200, description="a note for every order of this checkout")
    notes: dict[int, Annotated[str, Field(max_length=200)]] | None = Field(
        None, max_length=100, description="a note per shop ({shop_id: text}); overrides `note` for that shop's order")
    coupons: list[int] | None = Field(
        None, max_length=20, description="the coupon ids to use (GET /me/coupons); omit for the best ones you hold, "
        "[] for none. A coupon that cannot apply is refused with the reason under coupons[i].")


class PaymentRef(Schema):
    id: int
    reference: str
    status: str
    amount: str
    currency: str
    gateway_url: str


class CheckoutOut(Schema):
    checkout_id: str
    orders: list[OrderOut]
    payment: PaymentRef


def payment_ref(payment) -> dict:
    from shopyard.payments.services import gateway_url

    return {"id": payment.pk, "reference": payment.reference, "status": payment.status,
            "amount": money_str(payment.amount, payment.currency), "currency": payment.currency,
            "gateway_url": gateway_url(payment)}


@orders_router.post("/orders", response=responses({200: CheckoutOut, 201: CheckoutOut}), auth=bearer)
def place_order(request, payload: PlaceOrderIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128)):
    """Place one order per shop for `lines` (or the whole cart) and one payment for them all.

    Send an `Idempotency-Key` header: a retry with the same key and body returns
    the first result (200) instead of ordering again; the same key with another
    body is a 422."""
    from shopyard.checkout.services import place_order as place

    lines = [ln.dict() for ln in payload.lines] if payload.lines is not None else None
    result = place(actor=request.auth, address_id=payload.address_id, lines=lines, note=payload.note, notes=payload.notes,
                   idempotency_key=idempotency_key, coupons="auto" if payload.coupons is None else payload.coupons)
    return written_checkout(200 if result.replayed else 201, _checkout_out(request.auth, result))


def written_checkout(status: int, body: dict) -> HttpResponse:
    """`body`, built to CheckoutOut by `_checkout_out` (tests check the answers against the
    schema), written as ninja writes a body it validated, without validating it once more:
    ninja's validation of the order's dict, through its attribute getter for every field of
    the order, its lines and its payment, was ~3 % of an order's CPU."""
    return HttpResponse(json.dumps(body, cls=NinjaJSONEncoder), status=status,
                        content_type="application/json; charset=utf-8")


class SkippedLineOut(Schema):
    order_line_id: int
    sku_id: int | None
    product_title: str
    reason: str


class BuyAgainOut(Schema):
    added_sku_ids: list[int]
    skipped: list[SkippedLineOut]


@orders_router.post("/orders/{order_id}/buy-again", response=responses({200: BuyAgainOut}), auth=bearer)
def buy_again(request, order_id: Id):
    """Put the order's lines back into the caller's cart; lines that can no
    longer be bought (unpublished, sold out, over the cap) are listed in `skipped`."""
    from shopyard.checkout.services import buy_again as refill

    result = refill(actor=request.auth, order_id=order_id)
    return Status(200, {
        "added_sku_ids": [ln.sku_id for ln in result.added],
        "skipped": [{"order_line_id": ln.pk, "sku_id": ln.sku_id, "product_title": ln.product_title, "reason": reason}
                    for ln, reason in result.skipped],
    })


class FlashBuyIn(Schema):
    """Only the address and the quantity are read: the price is the session's."""

    address_id: int = Field(..., ge=1, le=2**53, strict=True)
    quantity: int = Field(1, ge=1, le=999, strict=True)


class FlashHeldOut(Schema):
    status: str = Field(..., description="pending (the order is being made), ordered or failed")
    hold: str = Field(..., description="the hold token: GET /flash/holds/{hold} until it is ordered or failed")
    checkout: CheckoutOut | None = Field(None, description="once ordered: the order and its payment")
    error: dict | None = Field(None, description="once failed: code, message and field messages, as a 4xx body")


def _checkout_out(user, result) -> dict:
    from shopyard.payments.models import Payment

    if result.orders is not None:
        orders, payment = result.orders, result.payment
    else:  # a replay: read back what the first request made
        orders = list(buyer_orders(user).filter(pk__in=result.order_ids).order_by("shop_id"))
        payment = Payment.objects.get(pk=result.payment_id)
    return {"checkout_id": result.checkout_id, "orders": [order_out(o) for o in orders], "payment": payment_ref(payment)}


@flash_router.post("/flash/items/{item_id}/buy",
                   response=responses({201: CheckoutOut, 200: CheckoutOut, 202: FlashHeldOut}),
                   openapi_extra={"security": [{"BearerAuth": []}]})
def buy_flash_item(request, item_id: Id, payload: FlashBuyIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128)):
    """Buy a flash-sale item (bearer token): reserve the units and place the order at the flash price.

    201 with the order, or, where workers make the orders (Redis and a task
    broker), 202 as soon as the units are yours, with a `hold` token: poll
    GET /flash/holds/{hold} until it says `ordered` (with the order) or
    `failed` (with why; the units went back). A sold-out item is answered
    (409 `sold_out`) before the token is even checked, from Redis (or a
    short-lived sold-out marker without Redis), so the crowd that comes too
    late costs no database query. Other refusals: 409 `flash_not_started`,
    `flash_ended`, `flash_limit_reached`; 422 for a quantity above the
    per-user limit; 404 for an unknown item or address."""
    from shopyard.checkout.flash import HeldPurchase, buy_flash
    from shopyard.promotions import flash, flash_gate

    if not request.META.get(flash_gate.CHECKED) and flash.known_sold_out(item_id):
        raise flash.sold_out_error()
    user = bearer(request)
    if user is None:
        raise AuthenticationError()
    result = buy_flash(actor=user, item_id=item_id, quantity=payload.quantity, address_id=payload.address_id,
                       idempotency_key=idempotency_key)
    if isinstance(result, HeldPurchase):
        return Status(202, {"status": "pending", "hold": result.token, "checkout": None, "error": None})
    return Status(200 if result.replayed else 201, _checkout_out(user, result))


@flash_router.get("/flash/holds/{hold}", response=responses({200: FlashHeldOut}), auth=bearer)
def flash_hold(request, hold: str = Path(..., max_length=64)):
    """Where a held flash purchase stands (the caller's own holds only; others are 404)."""
    from shopyard.checkout.flash import held_purchase

    state = held_purchase(actor=request.auth, token=hold)
    placed = state.get("placed")
    return Status(200, {"status": state["status"], "hold": hold, "error": state.get("error"),
                        "checkout": _checkout_out(request.auth, placed) if placed is not None else None})
