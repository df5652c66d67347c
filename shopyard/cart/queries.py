"""The cart as pages and the API show it: buyable lines grouped by shop and priced
by the amount calculator (checkout.pricing, the same one place_order uses), and
the lines shoppers can no longer buy (draft product, inactive SKU, suspended shop:
catalog.queries.visible_skus decides) shown apart, outside every total."""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from shopyard.catalog.queries import sku_stock, visible_skus
from shopyard.checkout.pricing import price_lines
from shopyard.core.money import Money

from .models import CartLine


@dataclass
class CartLineView:
    line: CartLine
    unit_price: Money
    line_total: Money | None
    stock: int
    available: bool  # buyable and in stock for the chosen quantity


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
    unavailable: list = field(default_factory=list)  # CartLineView of lines that cannot be bought


def cart_view(cart) -> CartView:
    if cart is None:
        return CartView(groups=[], total=None, count=0)
    lines = list(
        CartLine.objects.filter(cart=cart)
        .annotate(buyable=Exists(visible_skus().filter(pk=OuterRef("sku_id"))))
        .select_related("sku", "sku__product", "sku__product__shop", "sku__stock")
        .prefetch_related("sku__product__images")
        .order_by("sku__product__shop_id", "id")
    )
    pricing = price_lines((line.sku, line.quantity, line) for line in lines if line.buyable)
    groups = []
    for amounts in pricing.shops:
        group = ShopGroup(shop=amounts.shop, subtotal=amounts.subtotal, shipping_fee=amounts.shipping_fee,
                          total=amounts.total)
        for priced in amounts.lines:
            stock = sku_stock(priced.sku)
            group.lines.append(CartLineView(priced.ref, priced.unit_price, priced.line_total, stock,
                                            stock >= priced.quantity))
        groups.append(group)
    unavailable = [
        CartLineView(line, Money(line.sku.price, line.sku.product.currency), None, sku_stock(line.sku), False)
        for line in lines if not line.buyable
    ]
    return CartView(groups=groups, total=pricing.total, count=sum(line.quantity for line in lines if line.buyable),
                    unavailable=unavailable)
