"""The signed-in shopper's cart over HTTP (guest carts live in the web session)."""

from ninja import Field, Router, Schema, Status

from shopyard.analytics.services import record
from shopyard.core.api_support import Id, bearer, responses

from . import services
from .queries import cart_view

router = Router(tags=["cart"])


class CartLineIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**53, strict=True)
    quantity: int = Field(..., ge=1, le=999, strict=True)


class LineUpdateIn(Schema):
    quantity: int | None = Field(None, ge=1, le=999, strict=True)
    selected: bool | None = Field(None, strict=True, description="tick the line for checkout")


class SelectIn(Schema):
    """Exactly one of all, shop_id or line_ids."""
    all: bool = Field(False, strict=True)
    shop_id: int | None = Field(None, ge=1, le=2**53, strict=True)
    line_ids: list[int] | None = Field(None, min_length=1, max_length=100)
    selected: bool = Field(..., strict=True)


class PricedAdjustmentOut(Schema):
    kind: str
    label: str
    label_en: str
    amount: str
    funded_by: str


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
    unit_price: str = Field(..., description="the list price, before discounts")
    line_total: str = Field(..., description="unit price × quantity, before discounts")
    discount: str = Field(..., description="what promotions take off this line (0 when it is not selected)")
    net_total: str = Field(..., description="what checkout charges for this line: line_total − discount")
    explanation: str = Field(..., description='e.g. "¥398.00 − ¥79.60 限时8折"; empty without a discount')
    adjustments: list[PricedAdjustmentOut]
    stock: int
    available: bool
    selected: bool
    price_change: str | None = Field(None, description="current unit price minus the price when added "
                                     "(negative: it dropped); null when unchanged or acknowledged")


class UnavailableLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    title: str
    title_en: str
    quantity: int
    reason: str


class GiftLineOut(Schema):
    sku_id: int
    product_id: int
    title: str
    title_en: str
    sku_name: str
    sku_name_en: str
    quantity: int
    unit_price: str = Field(..., description="its list price; the gift costs nothing")
    label: str = Field(..., description="the promotion that gives it")


class CartShopOut(Schema):
    shop_id: int
    shop_name: str
    lines: list[CartLineOut]
    gifts: list[GiftLineOut] = Field([], description="gifts (满赠) the selected lines earn, added to the order at ¥0")
    all_selected: bool
    subtotal: str | None = Field(None, description="of the selected lines; null when none is selected")
    discount: str | None = Field(None, description="promotions and coupons on the selected lines")
    shipping_fee: str | None
    shipping_discount: str | None = Field(None, description="a free-shipping coupon")
    shipping_note: str = Field("", description="which freight template and rule gave the fee")
    shipping_estimated: bool = Field(False, description="no default address: the fee is an estimate, "
                                     "computed again at checkout for the chosen address")
    undeliverable: str = Field("", description="why the shop cannot ship to the default address")
    total: str | None


class CartOut(Schema):
    groups: list[CartShopOut]
    unavailable: list[UnavailableLineOut] = Field(
        [], description="lines that can no longer be bought (hidden product, inactive SKU, suspended shop): "
        "outside every total and left out at checkout")
    count: int = Field(..., description="units in the selected lines")
    all_selected: bool
    currency: str | None
    discount: str | None = Field(None, description="every discount on the selected lines, shipping included")
    total: str | None = Field(None, description="of the selected lines: what checkout charges")
    coupons: list[int] = Field([], description="the coupons priced in: the best you hold, as checkout uses "
                               "when `coupons` is omitted")


def serialise(cart) -> dict:
    """Amounts come rounded from the amount calculator (checkout.pricing): what place_order charges."""
    view = cart_view(cart, user=cart.user if cart is not None else None)
    groups = []

    def amount(money):
        return str(money.amount) if money is not None else None

    for g in view.shops:
        groups.append({
            "shop_id": g.shop.pk, "shop_name": g.shop.name,
            "lines": [{
                "id": v.line.pk, "sku_id": v.line.sku_id, "sku_code": v.line.sku.code, "sku_name": v.line.sku.name,
                "sku_name_en": v.line.sku.name_en, "product_id": v.line.sku.product_id,
                "title": v.line.sku.product.title, "title_en": v.line.sku.product.title_en, "quantity": v.line.quantity,
                "unit_price": str(v.unit_price.quantize().amount), "line_total": str(v.line_total.amount),
                "discount": str((v.line_total - v.net_total).amount), "net_total": str(v.net_total.amount),
                "explanation": v.explanation,
                "adjustments": [{"kind": a.kind, "label": a.label, "label_en": a.label_en,
                                 "amount": str(a.amount.amount), "funded_by": a.funded_by}
                                for a in (v.priced.adjustments if v.priced else [])],
                "stock": v.stock, "available": v.available, "selected": v.selected,
                "price_change": amount(v.price_change.quantize()) if v.price_change else None,
            } for v in g.lines],
            "gifts": [{
                "sku_id": p.sku.pk, "product_id": p.sku.product_id, "title": p.sku.product.title,
                "title_en": p.sku.product.title_en, "sku_name": p.sku.name, "sku_name_en": p.sku.name_en,
                "quantity": p.quantity, "unit_price": str(p.unit_price.quantize().amount),
                "label": p.adjustments[0].label,
            } for p in g.gifts],
            "all_selected": g.all_selected,
            "subtotal": amount(g.subtotal), "discount": amount(g.discount), "shipping_fee": amount(g.shipping_fee),
            "shipping_discount": amount(g.shipping_discount), "total": amount(g.total),
            "shipping_note": g.shipping_note, "shipping_estimated": g.shipping_estimated,
            "undeliverable": g.undeliverable,
        })
    unavailable = [{
        "id": v.line.pk, "sku_id": v.line.sku_id, "product_id": v.line.sku.product_id, "title": v.line.sku.product.title,
        "title_en": v.line.sku.product.title_en, "quantity": v.line.quantity,
        "reason": str(v.reason),
    } for v in view.unavailable]
    return {
        "groups": groups, "unavailable": unavailable, "count": view.count, "all_selected": view.all_selected,
        "currency": view.total.currency if view.total else None,
        "discount": amount(view.discount),
        "total": str(view.total.amount) if view.total else None,
        "coupons": [o.source_id for o in (view.pricing.offers if view.pricing else []) if o.source == "coupon"],
    }


@router.get("/cart", response=responses({200: CartOut}), auth=bearer)
def get_cart(request):
    """Lines grouped by shop; every amount is computed by the server."""
    return Status(200, serialise(services.get_cart(user=request.auth)))


@router.post("/cart/lines", response=responses({201: CartOut}), auth=bearer)
def add_line(request, payload: CartLineIn):
    """Add a SKU (quantities add up when it is already in the cart)."""
    cart = services.get_cart(user=request.auth, create=True)
    line = services.add_line(cart=cart, sku_id=payload.sku_id, quantity=payload.quantity)
    record(request, "cart", product_id=line.sku.product_id)
    return Status(201, serialise(cart))


@router.patch("/cart/lines/{line_id}", response=responses({200: CartOut}), auth=bearer)
def update_line(request, line_id: Id, payload: LineUpdateIn):
    """Change the quantity (bounded by stock and the per-order cap) and/or tick the line."""
    cart = services.get_cart(user=request.auth)
    services.update_line(cart=cart, line_id=line_id, quantity=payload.quantity, selected=payload.selected)
    return Status(200, serialise(cart))


@router.post("/cart/select", response=responses({200: CartOut}), auth=bearer)
def select(request, payload: SelectIn):
    """Tick or untick the whole cart, one shop's lines or the given lines (lines that cannot be bought stay unticked)."""
    cart = services.get_cart(user=request.auth)
    services.select_lines(cart=cart, selected=payload.selected, all_lines=payload.all, shop_id=payload.shop_id,
                          line_ids=payload.line_ids)
    return Status(200, serialise(cart))


@router.post("/cart/lines/{line_id}/acknowledge-price", response=responses({200: CartOut}), auth=bearer)
def acknowledge_price(request, line_id: Id):
    """Clear the price-change marker: the current price becomes the line's reference."""
    cart = services.get_cart(user=request.auth)
    services.acknowledge_price(cart=cart, line_id=line_id)
    return Status(200, serialise(cart))


@router.post("/cart/lines/{line_id}/favourite", response=responses({200: CartOut}), auth=bearer)
def move_to_favourites(request, line_id: Id):
    """Add the line's product to the favourites and remove the line."""
    cart = services.get_cart(user=request.auth)
    services.move_to_favourites(cart=cart, line_id=line_id, actor=request.auth)
    return Status(200, serialise(cart))


@router.post("/cart/remove-selected", response=responses({200: CartOut}), auth=bearer)
def remove_selected(request):
    cart = services.get_cart(user=request.auth)
    services.remove_selected(cart=cart)
    return Status(200, serialise(cart))


@router.delete("/cart/lines/{line_id}", response=responses({200: CartOut}), auth=bearer)
def remove_line(request, line_id: Id):
    cart = services.get_cart(user=request.auth)
    services.remove_line(cart=cart, line_id=line_id)
    return Status(200, serialise(cart))
