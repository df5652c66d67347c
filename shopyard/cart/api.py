"""The signed-in shopper's cart over HTTP (guest carts live in the web session)."""

from ninja import Field, Router, Schema, Status

from shopyard.core.api_support import Id, bearer, responses

from . import services
from .queries import cart_view

router = Router(tags=["cart"])


class CartLineIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**53, strict=True)
    quantity: int = Field(..., ge=1, le=999, strict=True)


class QuantityIn(Schema):
    quantity: int = Field(..., ge=1, le=999, strict=True)


class CartLineOut(Schema):
    id: int
    sku_id: int
    sku_code: str
    sku_name: str
    sku_name_en: str
    product_id: int
    title: str
    title_en: str
    quantity: int
    unit_price: str
    line_total: str
    stock: int
    available: bool


class UnavailableLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    title: str
    title_en: str
    quantity: int


class CartShopOut(Schema):
    shop_id: int
    shop_name: str
    lines: list[CartLineOut]
    subtotal: str
    shipping_fee: str
    total: str


class CartOut(Schema):
    groups: list[CartShopOut]
    unavailable: list[UnavailableLineOut] = Field(
        [], description="lines that can no longer be bought (hidden product, inactive SKU, suspended shop): "
        "outside every total and left out at checkout")
    count: int
    currency: str | None
    total: str | None


def serialise(cart) -> dict:
    """Amounts come rounded from the amount calculator (checkout.pricing): what place_order charges."""
    view = cart_view(cart)
    groups = []
    for g in view.groups:
        groups.append({
            "shop_id": g.shop.pk, "shop_name": g.shop.name,
            "lines": [{
                "id": v.line.pk, "sku_id": v.line.sku_id, "sku_code": v.line.sku.code, "sku_name": v.line.sku.name,
                "sku_name_en": v.line.sku.name_en, "product_id": v.line.sku.product_id,
                "title": v.line.sku.product.title, "title_en": v.line.sku.product.title_en, "quantity": v.line.quantity,
                "unit_price": str(v.unit_price.quantize().amount), "line_total": str(v.line_total.amount),
                "stock": v.stock, "available": v.available,
            } for v in g.lines],
            "subtotal": str(g.subtotal.amount), "shipping_fee": str(g.shipping_fee.amount),
            "total": str(g.total.amount),
        })
    unavailable = [{
        "id": v.line.pk, "sku_id": v.line.sku_id, "product_id": v.line.sku.product_id, "title": v.line.sku.product.title,
        "title_en": v.line.sku.product.title_en, "quantity": v.line.quantity,
    } for v in view.unavailable]
    return {
        "groups": groups, "unavailable": unavailable, "count": view.count,
        "currency": view.total.currency if view.total else None,
        "total": str(view.total.amount) if view.total else None,
    }


@router.get("/cart", response=responses({200: CartOut}), auth=bearer)
def get_cart(request):
    """Lines grouped by shop; every amount is computed by the server."""
    return Status(200, serialise(services.get_cart(user=request.auth)))


@router.post("/cart/lines", response=responses({201: CartOut}), auth=bearer)
def add_line(request, payload: CartLineIn):
    """Add a SKU (quantities add up when it is already in the cart)."""
    cart = services.get_cart(user=request.auth, create=True)
    services.add_line(cart=cart, sku_id=payload.sku_id, quantity=payload.quantity)
    return Status(201, serialise(cart))


@router.patch("/cart/lines/{line_id}", response=responses({200: CartOut}), auth=bearer)
def set_quantity(request, line_id: Id, payload: QuantityIn):
    cart = services.get_cart(user=request.auth)
    services.set_quantity(cart=cart, line_id=line_id, quantity=payload.quantity)
    return Status(200, serialise(cart))


@router.delete("/cart/lines/{line_id}", response=responses({200: CartOut}), auth=bearer)
def remove_line(request, line_id: Id):
    cart = services.get_cart(user=request.auth)
    services.remove_line(cart=cart, line_id=line_id)
    return Status(200, serialise(cart))
