"""The pricing pipeline: the one place that turns (SKU, quantity) lines into
money. The cart page, the cart API, buy now and place_order all call
`price_lines`, so the amount a shopper is shown is the amount the payment
charges. docs/promotions.md explains it with worked examples.

Steps, in order (promotions.kinds.STEP): list price → member price →
limited-time, flash-sale or group price → multi-buy and any-N → spend-and-save
tiers → gifts and add-on deals → shop coupon → platform coupon → shipping.
Each step sees the line amounts the earlier steps left.

Choosing among offers (the written "best for the shopper" rule):
- offers decided line by line (a limited-time price) compete per line: each
  line gets the one that takes most off it;
- offers that price a set of lines (满减, a coupon) compete on their total: the
  one taking most off the basket applies first, then the rest are priced again
  on what is left, until none takes anything more; offers sharing a choice
  group (two coupons of one shop) are alternatives: at most one applies;
- an offer touches a line only when it stacks with every discount already on
  it (kinds.DEFAULT_STACKS_WITH, or the promotion's own `stacks_with`), both ways.

Rounding rule (DESIGN: amounts are rounded once, at a defined point):
- unit prices are kept as stored (4 places);
- each line total (unit × quantity) is rounded to the currency's minor unit;
- every discount is in the minor unit: an offer spreading one amount over
  several lines (满减, coupons) splits it pro rata with core.money.allocate
  (round down, leftover units to the largest remainders), so the shares add up
  to the amount exactly; a discount is capped at what the line still costs, so
  no line goes below zero;
- a shop's subtotal is the sum of its line totals, its discount the sum of its
  lines' discounts; its shipping fee is shipping.queries.quote's (the products'
  freight templates for the address's province, or the shop's flat fee, zero when
  the goods after discounts reach `free_shipping_over`: docs/shipping.md), less
  any free-shipping offer;
- a shop's total is subtotal − discount + fee − shipping discount; the grand
  total (the payment's amount) is the sum of the shop totals. Nothing is
  rounded after that.
"""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import get_language

from shopyard.accounts.queries import default_address
from shopyard.core.money import Money, explain_price
from shopyard.promotions.engine import AUTO, BasketContext, offers_for
from shopyard.promotions.kinds import STEP, Kind
from shopyard.promotions.offers import BasketLine
from shopyard.shipping import queries as freight


@dataclass
class Adjustment:
    """One discount on one line (or on a shop's shipping), naming what gave it and who pays."""

    kind: str
    source: str
    source_id: int | None
    label: str
    label_en: str
    amount: Money
    funded_by: str

    def describe(self, lang=None) -> str:
        lang = lang or get_language() or "zh-hans"
        return self.label_en if lang.startswith("en") and self.label_en else self.label


@dataclass
class PricedLine:
    sku: object
    quantity: int
    unit_price: Money  # the list price, before discounts
    line_total: Money  # unit × quantity, rounded: before discounts
    ref: object = None  # the caller's handle on the line (a cart line, an input position)
    adjustments: list = field(default_factory=list)
    context: dict = field(default_factory=dict)
    is_gift: bool = False
    own_stock: bool = False  # an offer (a flash sale) supplies the units: checkout takes no normal stock
    pay_within_minutes: int | None = None  # an offer on the line shortens the time to pay (a flash sale)

    @property
    def discount(self) -> Money:
        total = Money.zero(self.line_total.currency)
        for adjustment in self.adjustments:
            total = total + adjustment.amount
        return total

    @property
    def net_total(self) -> Money:
        """What the shopper pays for this line."""
        return self.line_total - self.discount

    def explain(self, lang=None) -> str:
        """"¥199.00 − ¥20.00 满200减20 − ¥10.00 店铺券", in the shopper's language."""
        return explain_price(self.line_total, [(a.amount, a.describe(lang)) for a in self.adjustments])


@dataclass
class ShopAmounts:
    shop: object
    currency: str
    lines: list = field(default_factory=list)
    subtotal: Money | None = None  # list prices
    discount: Money | None = None  # every line discount
    shipping_fee: Money | None = None  # the fee before shipping offers
    shipping_adjustments: list = field(default_factory=list)
    total: Money | None = None
    shipping_quote: object = None  # shipping.queries.Quote: the fee's parts, an undeliverable province

    @property
    def undeliverable(self) -> str:
        """Why this shop cannot ship to the address ("" when it can)."""
        return self.shipping_quote.undeliverable if self.shipping_quote is not None else ""

    @property
    def shipping_discount(self) -> Money:
        total = Money.zero(self.currency)
        for adjustment in self.shipping_adjustments:
            total = total + adjustment.amount
        return total

    @property
    def pay_within_minutes(self) -> int | None:
        """The shortest time to pay any line's offer asks for (None: the usual timeout)."""
        asked = [line.pay_within_minutes for line in self.lines if line.pay_within_minutes]
        return min(asked) if asked else None

    @property
    def goods_total(self) -> Money | None:
        return None if self.subtotal is None else self.subtotal - self.discount


@dataclass
class Pricing:
    shops: list  # ShopAmounts, by shop id
    currencies: set
    total: Money | None  # None when empty or when lines mix currencies
    offers: list = field(default_factory=list)  # the offers that took something off, in the order applied
    # for each choice group (a shop's coupons): [(offer, amount it would take off when its turn came)]
    choices: dict = field(default_factory=dict)
    province_code: str | None = None  # where the parcels go; None: not known yet (an estimate)
    templates: dict = field(default_factory=dict)  # the lines' freight templates by id

    @property
    def mixed_currencies(self) -> bool:
        return len(self.currencies) > 1

    @property
    def lines(self) -> list:
        return [line for group in self.shops for line in group.lines]

    @property
    def discount(self) -> Money | None:
        if self.total is None:
            return None
        total = Money.zero(self.total.currency)
        for group in self.shops:
            total = total + group.discount + group.shipping_discount
        return total


def shipping_fee(pricing: Pricing, group: ShopAmounts) -> Money:
    """The shop's fee for its lines as priced so far (goods after discounts), rounded
    to the minor unit; shipping.queries.quote holds the rule. The quote is kept on
    the group for the price explanation and the undeliverable check."""
    group.shipping_quote = freight.quote(
        shop=group.shop, currency=group.currency, province_code=pricing.province_code, templates=pricing.templates,
        lines=[(line.sku, line.quantity, line.net_total) for line in group.lines])
    return group.shipping_quote.fee


def _province(address, user, templates) -> str | None:
    """The province the fee is computed for: the address's, or (no address given, as on
    the cart page) the shopper's default address's; None when unknown or not needed."""
    if not templates:
        return None  # only freight templates look at the address
    if address is None and getattr(user, "is_authenticated", False):
        address = default_address(user)
    return (getattr(address, "province_code", "") or None) if address is not None else None


def _entry(entry):
    if len(entry) == 4:
        return entry
    sku, quantity, ref = entry
    return sku, quantity, ref, None


def price_lines(entries, *, user=None, coupons=AUTO, now=None, promotions=True, offers=None, address=None,
                templates=None, shipping=True) -> Pricing:
    """Price `entries`, an iterable of (sku, quantity, ref) or (sku, quantity, ref, context)
    with sku.product.shop loaded, grouped by shop (one future order per shop) in shop-id
    order, lines in the given order. `coupons` is AUTO (the best the shopper holds) or a list
    of the shopper's coupon ids (empty: none); `context` carries a line's flash reservation
    or group; `promotions=False` prices at list prices only. `offers` prices with exactly
    these offers instead of the live ones: the console's preview of a promotion not yet
    published goes through the same steps, stacking and rounding as checkout. Shipping is
    computed for `address` (an accounts Address), else for `user`'s default address, else
    estimated; `templates` (shipping.queries.templates_for) saves loading the freight templates again.
    `shipping=False` prices the lines alone (unit_prices, for product pages): shipping is the last
    step and changes no line, so the lines come out the same, but no fee or shipping offer is
    computed and the shops' and the grand totals stay None."""
    groups: dict[int, ShopAmounts] = {}
    for entry in entries:
        sku, quantity, ref, context = _entry(entry)
        product = sku.product
        unit = Money(sku.price, product.currency)
        group = groups.setdefault(product.shop_id, ShopAmounts(shop=product.shop, currency=product.currency))
        group.lines.append(PricedLine(sku=sku, quantity=quantity, unit_price=unit,
                                      line_total=(unit * quantity).quantize(), ref=ref, context=dict(context or {})))
    shops = [groups[k] for k in sorted(groups)]
    currencies = {line.unit_price.currency for group in shops for line in group.lines}
    pricing = Pricing(shops=shops, currencies=currencies, total=None)
    if templates is None:
        templates = freight.templates_for({line.sku.product.freight_template_id for line in pricing.lines}
                                          if shipping else ())
    pricing.templates = templates
    pricing.province_code = _province(address, user, templates)
    if promotions and shops and len(currencies) == 1:
        _apply_offers(pricing, user=user, coupons=coupons, now=now or timezone.now(), offers=offers,
                      shipping=shipping)
    _totals(pricing, shipping=shipping)
    return pricing


def _totals(pricing, *, shipping=True) -> None:
    shops, currencies = pricing.shops, pricing.currencies
    for group in shops:
        if len({line.unit_price.currency for line in group.lines}) > 1:
            continue  # a shop prices in one currency; place_order refuses a mix
        subtotal, discount = Money.zero(group.currency), Money.zero(group.currency)
        for line in group.lines:
            subtotal, discount = subtotal + line.line_total, discount + line.discount
        group.subtotal, group.discount = subtotal, discount
        if not shipping:
            continue
        group.shipping_fee = shipping_fee(pricing, group)
        group.total = subtotal - discount + group.shipping_fee - group.shipping_discount
    if shipping and shops and len(currencies) == 1:
        total = Money.zero(next(iter(currencies)))
        for group in shops:
            total = total + group.total
        pricing.total = total


@dataclass
class UnitPrices:
    prices: dict  # sku id -> Pricing of one unit bought alone
    offers: list  # every offer loaded for these SKUs (product pages show the promotions among them)
    changes_at: object  # the next moment an offer starts or ends, or None


def unit_prices(skus, *, user=None, now=None, promotions=None, shipping=True) -> UnitPrices:
    """What one unit of each SKU costs bought alone (a buy-now of one), for product
    pages. The offers are loaded once for all the SKUs, then each SKU runs the whole
    pipeline on its own basket, so the price a product page shows is the price a
    checkout of that one unit charges. `promotions`: the shops' promotion rows as the
    page keeps them (engine.BasketContext.promotions); their windows are still read at `now`.
    `shipping=False`: the lines' prices alone, what a product page shows (price_lines)."""
    now = now or timezone.now()
    skus = list(skus)
    if not skus:
        return UnitPrices(prices={}, offers=[], changes_at=None)
    probe = [BasketLine(index=i, sku=sku, quantity=1, unit_price=Money(sku.price, sku.product.currency),
                        amount=Money(sku.price, sku.product.currency)) for i, sku in enumerate(skus)]
    context = _context(probe, user=user, coupons=AUTO, now=now)
    context.promotions = promotions
    offers = offers_for(context)
    prices = {}
    templates = freight.templates_for({sku.product.freight_template_id for sku in skus} if shipping else ())
    for sku in skus:
        pricing = price_lines([(sku, 1, None)], promotions=False, templates=templates, shipping=shipping)
        if offers and not pricing.mixed_currencies:
            _apply_offers(pricing, user=user, coupons=AUTO, now=now, offers=offers, shipping=shipping)
            _totals(pricing, shipping=shipping)
        prices[sku.pk] = pricing
    return UnitPrices(prices=prices, offers=offers, changes_at=context.changes_at)


class _Basket:
    """The lines as the offers see them (`lines`), parallel to the priced lines (`priced`)."""

    def __init__(self, pricing):
        self.pricing = pricing
        self.priced = pricing.lines
        self.lines = [BasketLine(index=i, sku=p.sku, quantity=p.quantity, unit_price=p.unit_price,
                                 amount=p.line_total, context=p.context, is_gift=p.is_gift)
                      for i, p in enumerate(self.priced)]
        self._eligible = {}  # id(offer) -> (lines seen, the eligible ones): what an offer covers never changes

    def eligible(self, offer) -> list:
        seen, lines = self._eligible.get(id(offer), (0, []))
        if seen < len(self.lines):  # gifts may have joined since
            lines = lines + [line for line in self.lines[seen:] if offer.eligible(line)]
            self._eligible[id(offer)] = (len(self.lines), lines)
        return lines

    def candidates(self, offer):
        return [line for line in self.eligible(offer) if line.stacks_with(offer)]

    def capped(self, offer, lines) -> list:
        """The offer's discounts on `lines`, each capped at what its line still costs."""
        out = []
        for discount in offer.discounts(lines):
            line = self.lines[discount.line]
            amount = min(discount.amount.quantize(), line.amount)
            if amount.amount > 0:
                out.append((discount, amount))
        return out

    @staticmethod
    def total(capped) -> Money | None:
        total = None
        for _discount, amount in capped:
            total = amount if total is None else total + amount
        return total

    def used(self, offer) -> None:
        if not any(o is offer for o in self.pricing.offers):
            self.pricing.offers.append(offer)

    def apply(self, offer, capped) -> None:
        for discount, amount in capped:
            line, priced = self.lines[discount.line], self.priced[discount.line]
            line.amount = line.amount - amount
            line.applied.append(offer)
            priced.adjustments.append(_adjustment(offer, amount, discount.label, discount.label_en))
            if offer.own_stock:
                priced.own_stock = True
            if offer.pay_within_minutes:
                priced.pay_within_minutes = min(filter(None, (priced.pay_within_minutes, offer.pay_within_minutes)))
        self.used(offer)

    def add_gifts(self, offer) -> None:
        """满赠: each gift becomes a line of its shop's order at list price, all of it taken off."""
        for gift in offer.gifts(self.candidates(offer)):
            product = gift.sku.product
            group = next((g for g in self.pricing.shops if g.shop.pk == product.shop_id), None)
            if group is None:
                continue  # a gift only comes with an order from its own shop
            unit = Money(gift.sku.price, product.currency)
            total = (unit * gift.quantity).quantize()
            priced = PricedLine(sku=gift.sku, quantity=gift.quantity, unit_price=unit, line_total=total,
                                is_gift=True, adjustments=[_adjustment(offer, total)])
            group.lines.append(priced)
            self.priced.append(priced)
            self.lines.append(BasketLine(index=len(self.lines), sku=gift.sku, quantity=gift.quantity,
                                         unit_price=unit, amount=Money.zero(unit.currency), is_gift=True,
                                         applied=[offer]))
            self.used(offer)


def _adjustment(offer, amount, label="", label_en="") -> Adjustment:
    return Adjustment(kind=offer.kind, source=offer.source, source_id=offer.source_id,
                      label=label or offer.label, label_en=label_en or offer.label_en or offer.label,
                      amount=amount, funded_by=offer.funded_by)


def _context(lines, *, user, coupons, now) -> BasketContext:
    return BasketContext(
        user=user if getattr(user, "is_authenticated", False) else None, now=now,
        shop_ids=frozenset(line.shop_id for line in lines),
        sku_ids=frozenset(line.sku.pk for line in lines),
        product_ids=frozenset(line.product_id for line in lines),
        coupons=coupons, lines=lines,
    )


def _load_offers(lines, *, user, coupons, now) -> list:
    return offers_for(_context(lines, user=user, coupons=coupons, now=now))


def _apply_offers(pricing: Pricing, *, user, coupons, now, offers=None, shipping=True) -> None:
    basket = _Basket(pricing)
    if offers is None:
        offers = _load_offers(basket.lines, user=user, coupons=coupons, now=now)
    shipping_step = STEP[Kind.SHIPPING_COUPON]
    for step in sorted({offer.step for offer in offers if offer.step < shipping_step}):
        here = [offer for offer in offers if offer.step == step]
        _per_line(basket, [o for o in here if o.per_line])
        _by_total(basket, [o for o in here if not o.per_line])
    if shipping:
        _shipping(pricing, basket, [o for o in offers if o.step >= shipping_step])


def _per_line(basket, offers) -> None:
    """Line-by-line offers: each line gets the one that takes most off it."""
    covered = {id(offer): {line.index for line in basket.eligible(offer)} for offer in offers}
    for line in basket.lines:
        best = None
        for offer in offers:
            if line.index in covered[id(offer)] and line.stacks_with(offer):
                capped = basket.capped(offer, [line])
                total = basket.total(capped)
                if total is not None and (best is None or total > best[2]):
                    best = (offer, capped, total)
        if best:
            basket.apply(best[0], best[1])


def _by_total(basket, offers) -> None:
    """Offers on sets of lines: the one taking most off the basket first, then the rest
    priced again on what is left; one offer per choice group."""
    choices = basket.pricing.choices
    remaining = list(offers)
    first_round = True
    while remaining:
        scored = [(offer, *_score(basket, offer)) for offer in remaining]
        if first_round:  # what each alternative would take off, for the shopper's picker
            for offer, _capped, total in scored:
                if offer.choice_group:
                    choices.setdefault(offer.choice_group, []).append((offer, total))
            first_round = False
        for offer, _capped, total in scored:
            if total is None and offer.gifts(basket.candidates(offer)):
                basket.add_gifts(offer)  # a gift-only offer (满赠) takes nothing off but adds a line
        useful = [s for s in scored if s[2] is not None]
        if not useful:
            break
        offer, capped, _total = max(useful, key=lambda s: s[2].amount)  # ties: the earlier offer
        basket.apply(offer, capped)
        basket.add_gifts(offer)
        remaining = [o for o in remaining if o is not offer and o not in {s[0] for s in scored if s[2] is None}
                     and not (offer.choice_group and o.choice_group == offer.choice_group)]


def _score(basket, offer):
    capped = basket.capped(offer, basket.candidates(offer))
    return capped, basket.total(capped)


def _shipping(pricing, basket, offers) -> None:
    """Shipping offers (a free-shipping coupon) take off a shop's fee once the goods
    are priced: the largest saving first; each offer, each choice group and each
    shop's fee at most once."""
    candidates = []
    for group in pricing.shops:
        fee = shipping_fee(pricing, group)
        if not fee.amount:
            continue
        lines = [line for line in basket.lines if line.shop_id == group.shop.pk]
        for offer in offers:
            if not any(offer.eligible(line) for line in lines):
                continue
            off = offer.shipping_discount(shop_id=group.shop.pk, fee=fee, lines=lines)
            if off is not None and off.amount > 0:
                off = min(off.quantize(), fee)
                candidates.append((offer, group, off))
                if offer.choice_group:
                    pricing.choices.setdefault(offer.choice_group, []).append((offer, off))
    done_offers, done_groups, done_shops = [], set(), set()
    for offer, group, off in sorted(candidates, key=lambda c: -c[2].amount):
        if any(o is offer for o in done_offers) or group.shop.pk in done_shops or (
                offer.choice_group and offer.choice_group in done_groups):
            continue
        group.shipping_adjustments.append(_adjustment(offer, off))
        done_offers.append(offer)
        done_shops.add(group.shop.pk)
        if offer.choice_group:
            done_groups.add(offer.choice_group)
        basket.used(offer)


__all__ = ["AUTO", "Adjustment", "PricedLine", "Pricing", "ShopAmounts", "price_lines", "shipping_fee"]
