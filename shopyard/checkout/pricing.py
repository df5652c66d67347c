"""The amount calculator: the one place that turns (SKU, quantity) lines into
money. The cart page, the cart API and place_order all call `price_lines`, so
the amount a shopper is shown is the amount the payment charges.

Rounding rule (DESIGN: amounts are rounded once, at a defined point):
- unit prices are kept as stored (4 places);
- each line total (unit × quantity) is rounded to the currency's minor unit;
- a shop's subtotal is the sum of its rounded line totals;
- its shipping fee is the shop's fee rounded to the minor unit, or zero when the
  subtotal reaches `free_shipping_over` (fees are validated to the minor unit in
  shops.services, so this rounding only guards older rows);
- a shop's total is subtotal + fee; the grand total (the payment's amount) is
  the sum of the shop totals. Nothing is rounded after that.
"""

from dataclasses import dataclass, field

from shopyard.core.money import Money


@dataclass
class PricedLine:
    sku: object
    quantity: int
    unit_price: Money
    line_total: Money
    ref: object = None  # the caller's handle on the line (a cart line, an input position)


@dataclass
class ShopAmounts:
    shop: object
    currency: str
    lines: list = field(default_factory=list)
    subtotal: Money | None = None
    shipping_fee: Money | None = None
    total: Money | None = None


@dataclass
class Pricing:
    shops: list  # ShopAmounts, by shop id
    currencies: set
    total: Money | None  # None when empty or when lines mix currencies

    @property
    def mixed_currencies(self) -> bool:
        return len(self.currencies) > 1


def shipping_fee(shop, subtotal: Money) -> Money:
    """The shop's fee for an order of `subtotal`, rounded to the minor unit."""
    if shop.free_shipping_over is not None and subtotal.amount >= shop.free_shipping_over:
        return Money.zero(subtotal.currency).quantize()
    return Money(shop.shipping_fee, subtotal.currency).quantize()


def price_lines(entries) -> Pricing:
    """Price `entries`, an iterable of (sku, quantity, ref) with sku.product.shop loaded,
    grouped by shop (one future order per shop) in shop-id order, lines in the given order."""
    groups: dict[int, ShopAmounts] = {}
    for sku, quantity, ref in entries:
        product = sku.product
        unit = Money(sku.price, product.currency)
        group = groups.setdefault(product.shop_id, ShopAmounts(shop=product.shop, currency=product.currency))
        group.lines.append(PricedLine(sku=sku, quantity=quantity, unit_price=unit,
                                      line_total=(unit * quantity).quantize(), ref=ref))
    shops = [groups[k] for k in sorted(groups)]
    currencies = set()
    for group in shops:
        # a shop prices in one currency; a line in another is priced in its own group currency
        currencies.update(line.unit_price.currency for line in group.lines)
        if len({line.unit_price.currency for line in group.lines}) > 1:
            continue
        subtotal = Money.zero(group.currency)
        for line in group.lines:
            subtotal = subtotal + line.line_total
        group.subtotal = subtotal
        group.shipping_fee = shipping_fee(group.shop, subtotal)
        group.total = subtotal + group.shipping_fee
    total = None
    if shops and len(currencies) == 1:
        total = Money.zero(next(iter(currencies)))
        for group in shops:
            total = total + group.total
    return Pricing(shops=shops, currencies=currencies, total=total)
