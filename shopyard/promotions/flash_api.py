"""Flash sales over HTTP: the shoppers' listing (public), and the seller's and
operators' sessions and items. Buying is checkout's: checkout/api.py adds
POST /flash/items/{item_id}/buy to `router`."""

from datetime import datetime

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from shopyard.core.api_support import Id, InSchema, bearer, responses
from shopyard.core.money import money_str
from shopyard.shops.queries import shop_for_seller

from . import flash, flash_queries

router = Router(tags=["flash sales"])
seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])


class FlashItemOut(Schema):
    id: int
    sku_id: int
    product_id: int
    product_title: str
    product_title_en: str
    sku_name: str
    currency: str
    list_price: str
    flash_price: str
    flash_stock: int = Field(..., description="units set aside for the session")
    left: int = Field(..., description="flash units not yet taken")
    per_user_limit: int


class FlashSessionOut(Schema):
    id: int
    shop_id: int | None = Field(..., description="null for a platform session")
    name: str
    name_en: str
    status: str = Field(..., description="draft, scheduled, ended or cancelled")
    phase: str = Field(..., description="upcoming, live, ended (scheduled sessions by the clock), draft, cancelled")
    starts_at: datetime
    ends_at: datetime
    items: list[FlashItemOut]


class FlashListOut(Schema):
    server_time: datetime = Field(..., description="the server's clock: buying opens at starts_at by this clock")
    sessions: list[FlashSessionOut]


class FlashItemDetailOut(FlashItemOut):
    session: FlashSessionOut
    server_time: datetime


def item_out(item) -> dict:
    sku, c = item.sku, item.currency
    return {
        "id": item.pk, "sku_id": item.sku_id, "product_id": sku.product_id, "product_title": sku.product.title,
        "product_title_en": sku.product.title_en, "sku_name": sku.name, "currency": c,
        "list_price": money_str(sku.price, c), "flash_price": money_str(item.flash_price, c),
        "flash_stock": item.quantity, "left": item.available, "per_user_limit": item.per_user_limit,
    }


def session_out(sale, now, items=None) -> dict:
    return {
        "id": sale.pk, "shop_id": sale.shop_id, "name": sale.name, "name_en": sale.name_en, "status": sale.status,
        "phase": flash_queries.phase(sale, now), "starts_at": sale.starts_at, "ends_at": sale.ends_at,
        "items": [item_out(i) for i in (sale.items.all() if items is None else items)],
    }


@router.get("/flash/sessions", response=responses({200: FlashListOut}))
def list_sessions(request):
    """Sessions live now or starting within a week, soonest first, with their items and the server time."""
    now = timezone.now()
    return Status(200, {"server_time": now, "sessions": [session_out(s, now) for s in flash_queries.public_sessions(now)]})


@router.get("/flash/items/{item_id}", response=responses({200: FlashItemDetailOut}))
def get_item(request, item_id: Id):
    now = timezone.now()
    item = flash.buyable_item(item_id)
    return Status(200, {**item_out(item), "session": session_out(item.sale, now, items=[item]), "server_time": now})


class SessionIn(InSchema):
    name: str = Field(..., max_length=100)
    name_en: str = Field("", max_length=100)
    starts_at: datetime
    ends_at: datetime


class ItemIn(InSchema):
    sku_id: int = Field(..., ge=1, le=2**53, strict=True)
    flash_price: str = Field(..., max_length=30, description="a decimal string below the SKU's list price, e.g. \"9.90\"")
    flash_stock: int = Field(..., strict=True, description="units set aside from stock when the session is published")
    per_user_limit: int = Field(1, strict=True)


def _created(sale):
    return Status(201, session_out(sale, timezone.now(), items=[]))


def _session(sale):
    items = sale.items.select_related("sku__product").order_by("id")
    return Status(200, session_out(sale, timezone.now(), items=items))


@seller_router.get("/flash/sessions", response=responses({200: list[FlashSessionOut]}), auth=bearer)
def seller_sessions(request):
    now = timezone.now()
    shop = shop_for_seller(request.auth, perm="promotions")
    return Status(200, [session_out(s, now) for s in flash_queries.seller_sessions(shop)[:100]])


@seller_router.post("/flash/sessions", response=responses({201: FlashSessionOut}), auth=bearer)
def seller_create_session(request, payload: SessionIn):
    """A draft session for the seller's shop (end after start, in the future)."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    return _created(flash.create_sale(actor=request.auth, shop=shop, data=payload.dict()))


@seller_router.post("/flash/sessions/{sale_id}/items", response=responses({201: FlashItemOut}), auth=bearer)
def seller_add_item(request, sale_id: Id, payload: ItemIn):
    """Add one of the shop's SKUs to a draft session."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    sale = flash_queries.seller_session(shop, sale_id)
    return Status(201, item_out(flash.add_item(actor=request.auth, sale=sale, data=payload.dict())))


@seller_router.post("/flash/sessions/{sale_id}/publish", response=responses({200: FlashSessionOut}), auth=bearer)
def seller_publish(request, sale_id: Id):
    """Schedule the session: its items' units are set aside from stock now."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    return _session(flash.publish(actor=request.auth, sale=flash_queries.seller_session(shop, sale_id)))


@seller_router.post("/flash/sessions/{sale_id}/cancel", response=responses({200: FlashSessionOut}), auth=bearer)
def seller_cancel(request, sale_id: Id):
    """Cancel a draft, or a scheduled session before it starts (its units go back to stock)."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    return _session(flash.cancel(actor=request.auth, sale=flash_queries.seller_session(shop, sale_id)))


@operator_router.get("/flash/sessions", response=responses({200: list[FlashSessionOut]}), auth=bearer)
def platform_sessions(request):
    now = timezone.now()
    return Status(200, [session_out(s, now) for s in flash_queries.platform_sessions(request.auth)[:100]])


@operator_router.post("/flash/sessions", response=responses({201: FlashSessionOut}), auth=bearer)
def platform_create_session(request, payload: SessionIn):
    """A draft platform session (operators only); its items may come from any shop."""
    flash_queries.platform_sessions(request.auth)  # refuses non-operators
    return _created(flash.create_sale(actor=request.auth, shop=None, data=payload.dict()))


@operator_router.post("/flash/sessions/{sale_id}/items", response=responses({201: FlashItemOut}), auth=bearer)
def platform_add_item(request, sale_id: Id, payload: ItemIn):
    sale = flash_queries.platform_session(request.auth, sale_id)
    return Status(201, item_out(flash.add_item(actor=request.auth, sale=sale, data=payload.dict())))


@operator_router.post("/flash/sessions/{sale_id}/publish", response=responses({200: FlashSessionOut}), auth=bearer)
def platform_publish(request, sale_id: Id):
    return _session(flash.publish(actor=request.auth, sale=flash_queries.platform_session(request.auth, sale_id)))


@operator_router.post("/flash/sessions/{sale_id}/cancel", response=responses({200: FlashSessionOut}), auth=bearer)
def platform_cancel(request, sale_id: Id):
    return _session(flash.cancel(actor=request.auth, sale=flash_queries.platform_session(request.auth, sale_id)))
