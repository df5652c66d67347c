"""The cart as pages and the API show it: buyable lines grouped by shop, the
selected ones priced by the amount calculator (checkout.pricing, the same one
place_order uses), and the lines shoppers can no longer buy (draft product,
inactive SKU, suspended shop: catalog.queries.visible_skus decides; or sold out)
shown apart with the reason, outside every total.

`groups` holds only the selected lines (what checkout shows and buys); `shops`
holds every buyable line for the cart page, with the selected lines' amounts."""

from dataclasses import dataclass, field, replace

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from shopyard.catalog.queries import sku_stock, visible_skus
from shopyard.checkout.pricing import AUTO, price_lines
from shopyard.core.money import Money

from .models import CartLine


@dataclass
class CartLineView:
    line: CartLine
    unit_price: Money
    line_total: Money | None
    stock: int
    available: bool  # buyable and in stock for the chosen quantity
    selected: bool = False
    reason: str = ""  # why an unavailable line cannot be bought
    price_change: Money | None = None  # current unit price − price when added; None when unchanged
    priced: object = None  # the pipeline's PricedLine, for a selected line (its discounts)

    @property
    def net_total(self) -> Money | None:
        """What the line costs after its discounts (the list total when it is not selected)."""
        return self.priced.net_total if self.priced is not None else self.line_total

    @property
    def explanation(self) -> str:
        """"¥398.00 − ¥79.60 限时8折", when a promotion took something off."""
        return self.priced.explain() if self.priced is not None and self.priced.adjustments else ""

    @property
    def price_dropped(self) -> bool:
        return self.price_change is not None and self.price_change.amount < 0

    @property
    def price_change_abs(self) -> Money | None:
        if self.price_change is None:
            return None
        return Money(abs(self.price_change.amount), self.price_change.currency).quantize()


@dataclass
class ShopGroup:
    shop: object
    lines: list = field(default_factory=list)
    subtotal: Money | None = None
    shipping_fee: Money | None = None
    total: Money | None = None
    discount: Money | None = None
    shipping_discount: Money | None = None
    gifts: list = field(default_factory=list)  # PricedLine of each free gift (满赠)
    shipping_quote: object = None  # shipping.queries.Quote: how the fee was computed, where it cannot go

    @property
    def currency(self) -> str:
        return self.shop.currency if self.subtotal is None else self.subtotal.currency

    @property
    def shipping_note(self) -> str:
        """Which freight template and rule gave the fee ("" for the shop's flat fee alone)."""
        return self.shipping_quote.describe() if self.shipping_quote is not None else ""

    @property
    def shipping_estimated(self) -> bool:
        """No address known yet: the fee is the templates' default rule, computed again at checkout."""
        return bool(self.shipping_quote is not None and self.shipping_quote.estimated)

    @property
    def undeliverable(self) -> str:
        """Why the shop cannot ship to the address ("" when it can)."""
        return self.shipping_quote.undeliverable if self.shipping_quote is not None else ""


def shop_group(amounts) -> ShopGroup:
    """A shop's priced amounts (checkout.pricing.ShopAmounts) as the cart and checkout pages show them."""
    return ShopGroup(shop=amounts.shop, subtotal=amounts.subtotal, shipping_fee=amounts.shipping_fee,
                     total=amounts.total, discount=amounts.discount, shipping_discount=amounts.shipping_discount,
                     gifts=[line for line in amounts.lines if line.is_gift], shipping_quote=amounts.shipping_quote)


@dataclass
class CartView:
    groups: list
    total: Money | None
    count: int
    unavailable: list = field(default_factory=list)  # CartLineView of lines that cannot be bought
    shops: list = field(default_factory=list)  # ShopGroup of every buyable line, amounts of the selected ones
    all_selected: bool = False
    discount: Money | None = None  # every discount on the selected lines, shipping included
    pricing: object = None  # the checkout.pricing result behind the amounts (offers, coupon choices)


def unavailable_reason(line) -> str:
    """Why a line is shown apart; `buyable` (the visibility rule) decided that it is."""
    sku = line.sku
    if sku.product.shop.status != sku.product.shop.Status.ACTIVE:
        return _("Shop closed")
    if sku.product.status != sku.product.Status.PUBLISHED:
        return _("No longer on sale")
    if not sku.is_active:
        return _("This option is no longer sold")
    return _("Sold out")


def _price_change(line, unit: Money) -> Money | None:
    if line.added_price is None or line.added_price == line.sku.price:
        return None
    return Money(line.sku.price - line.added_price, unit.currency)


def cart_view(cart, *, user=None, coupons=AUTO, address=None) -> CartView:
    """`user` (by default the cart's owner) prices with what the shopper holds (their
    coupons: AUTO, the best, or the chosen ids), and shipping to `address` (the checkout
    page's choice), or by default to the shopper's default address (checkout.pricing.price_lines)."""
    if cart is None:
        return CartView(groups=[], total=None, count=0)
    user = user or cart.user
    lines = list(
        CartLine.objects.filter(cart=cart)
        .annotate(visible=Exists(visible_skus().filter(pk=OuterRef("sku_id"))))
        .select_related("sku", "sku__product", "sku__product__shop", "sku__stock")
        .prefetch_related("sku__product__images")
        .order_by("sku__product__shop_id", "id")
    )
    for line in lines:
        line.buyable = line.visible and sku_stock(line.sku) > 0
    buyable = [line for line in lines if line.buyable]
    chosen = [line for line in buyable if line.selected]
    pricing = price_lines(((line.sku, line.quantity, line) for line in chosen), user=user, coupons=coupons,
                          address=address)
    views = {}
    for line in buyable:
        unit = Money(line.sku.price, line.sku.product.currency)
        stock = sku_stock(line.sku)
        views[line.pk] = CartLineView(line, unit, (unit * line.quantity).quantize(), stock, stock >= line.quantity,
                                      selected=line.selected, price_change=_price_change(line, unit))
    groups = []
    amounts_by_shop = {}
    for amounts in pricing.shops:
        group = shop_group(amounts)
        for priced in amounts.lines:
            if priced.is_gift:
                continue
            view = views[priced.ref.pk]
            view.unit_price, view.line_total, view.priced = priced.unit_price, priced.line_total, priced
            group.lines.append(view)
        groups.append(group)
        amounts_by_shop[amounts.shop.pk] = group
    shops = {}
    for line in buyable:
        shop = line.sku.product.shop
        if shop.pk not in shops:
            priced = amounts_by_shop.get(shop.pk)
            # every buyable line of the shop, with the selected lines' amounts
            shops[shop.pk] = replace(priced, lines=[]) if priced else ShopGroup(shop=shop)
        shops[shop.pk].lines.append(views[line.pk])
    for group in shops.values():
        group.all_selected = all(v.selected for v in group.lines)
    unavailable = [
        CartLineView(line, Money(line.sku.price, line.sku.product.currency), None, sku_stock(line.sku), False,
                     reason=unavailable_reason(line))
        for line in lines if not line.buyable
    ]
    return CartView(groups=groups, total=pricing.total, count=sum(line.quantity for line in chosen),
                    discount=pricing.discount,
                    unavailable=unavailable, shops=list(shops.values()),
                    all_selected=bool(buyable) and all(line.selected for line in buyable), pricing=pricing)
