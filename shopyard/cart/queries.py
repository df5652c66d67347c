"""The cart as pages and the API show it: lines grouped by shop with server-computed totals."""

from dataclasses import dataclass, field

from shopyard.catalog.queries import sku_stock
from shopyard.core.money import Money

from .models import CartLine


@dataclass
class CartLineView:
    line: CartLine
    unit_price: Money
    line_total: Money
    stock: int
    available: bool


@dataclass
class ShopGroup:
    shop: object
    lines: list = field(default_factory=list)
    subtotal: Money | None = None
    shipping_fee: Money | None = None
    total: Money | None = None


@dataclass
class CartView:
    groups: list
    total: Money | None
    count: int


def shipping_fee_for(shop, subtotal: Money) -> Money:
    if shop.free_shipping_over is not None and subtotal.amount >= shop.free_shipping_over:
        return Money.zero(subtotal.currency)
    return Money(shop.shipping_fee, subtotal.currency)


def cart_view(cart) -> CartView:
    if cart is None:
        return CartView(groups=[], total=None, count=0)
    lines = list(
        CartLine.objects.filter(cart=cart)
        .select_related("sku", "sku__product", "sku__product__shop", "sku__stock")
        .prefetch_related("sku__product__images")
        .order_by("sku__product__shop_id", "id")
    )
    groups: dict[int, ShopGroup] = {}
    total = None
    for line in lines:
        product = line.sku.product
        unit = Money(line.sku.price, product.currency)
        line_total = (unit * line.quantity).quantize()
        stock = sku_stock(line.sku)
        ok = line.sku.is_active and product.status == "published" and stock >= line.quantity
        group = groups.setdefault(product.shop_id, ShopGroup(shop=product.shop))
        group.lines.append(CartLineView(line, unit, line_total, stock, ok))
    for group in groups.values():
        sub = Money.zero(group.lines[0].unit_price.currency)
        for v in group.lines:
            sub = sub + v.line_total
        group.subtotal = sub
        group.shipping_fee = shipping_fee_for(group.shop, sub)
        group.total = sub + group.shipping_fee
        total = group.total if total is None else total + group.total
    return CartView(groups=list(groups.values()), total=total, count=sum(line.quantity for line in lines))
