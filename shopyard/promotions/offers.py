"""What promotions hand to the pricing pipeline: offers.

The pipeline (checkout.pricing) owns the order of the steps, stacking, the
"best for the shopper" choice, capping, rounding and totals; an offer owns the
arithmetic of its own kind (how much 满减 takes off these lines). Each kind is
a small module that turns its rows into offers (see engine.py), so adding a
kind never touches the pipeline, and the pipeline is the only place that adds
amounts up.

An offer sees the basket as `BasketLine`s: the line as priced by the steps so
far. It answers with `Discount`s (line index, amount); the pipeline caps each
at the line's current amount (no line below zero) and records it as an
adjustment that names the offer, so an order keeps every discount apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shopyard.core.money import Money

from .kinds import STEP, Funding, Kind, default_stacks_with


@dataclass
class BasketLine:
    index: int
    sku: object  # catalog.Sku with product (and product.shop) loaded
    quantity: int
    unit_price: Money  # list price, before any discount
    amount: Money  # the line's amount after the steps applied so far
    applied: list = field(default_factory=list)  # offers already applied to this line
    context: dict = field(default_factory=dict)  # e.g. {"flash": reservation, "group": group}; set by the caller
    is_gift: bool = False

    # read once from the SKU: offers ask them for every line many times per pricing
    shop_id: int = field(init=False)
    product_id: int = field(init=False)
    category_id: int = field(init=False)

    def __post_init__(self):
        product = self.sku.product
        self.shop_id, self.product_id, self.category_id = product.shop_id, product.pk, product.category_id

    @property
    def currency(self):
        return self.amount.currency

    def stacks_with(self, offer: Offer) -> bool:
        """Whether `offer` may add a discount to this line given what is already on it."""
        return all(offer.kind in done.stacks_with and done.kind in offer.stacks_with for done in self.applied)


@dataclass
class Discount:
    line: int  # BasketLine.index
    amount: Money
    # what the shopper reads for this discount when it differs from the offer's own
    # label (the tier a 满减 reached: "满400减50")
    label: str = ""
    label_en: str = ""


@dataclass
class Gift:
    """A line the offer adds at no charge (满赠): the pipeline prices it at list price and
    takes all of it off, so the order shows a ¥0 line and stock is taken like any line."""

    sku: object
    quantity: int


class Offer:
    """One applicable promotion or coupon, ready to price a basket.

    Subclasses set the attributes in __init__ (or as class attributes) and
    override `eligible` and `discounts`; `gifts`, `shipping_discount` and
    `claim` as their kind needs."""

    kind: str = ""
    source: str = "promotion"  # promotion | coupon | flash | group | member
    source_id: int | None = None
    label: str = ""  # shown to shoppers in Chinese, e.g. "满200减20"
    label_en: str = ""  # and in English, e.g. "¥20 off ¥200"
    funded_by: str = Funding.SHOP
    shop_id: int | None = None  # None: a platform offer across shops
    # Offers with the same choice group are alternatives: at most one of them applies
    # (two coupons of one shop; the pipeline takes the best for the shopper, or the chosen one).
    choice_group: str | None = None
    # minutes the shopper has to pay an order this offer priced, when shorter than the
    # unpaid-order timeout (a flash sale's unit must go back to the crowd within minutes)
    pay_within_minutes: int | None = None
    # True when the offer's discounts are decided line by line (a limited-time price):
    # the pipeline then gives each line the best such offer for that line; otherwise the
    # offer prices a set of lines together (满减, a coupon) and competes on its total
    per_line: bool = False
    # True when the offer brings its own stock (flash sale units), so checkout takes
    # no normal stock for the lines it prices
    own_stock: bool = False

    def __init__(self, **attrs):
        for name, value in attrs.items():
            setattr(self, name, value)
        if getattr(self, "stacks_with", None) is None:  # an empty set is a choice: stacks with nothing
            self.stacks_with = default_stacks_with(self.kind)

    @property
    def step(self) -> int:
        return STEP[Kind(self.kind)]

    def describe(self, lang: str) -> str:
        return self.label_en if lang == "en" and self.label_en else self.label

    def eligible(self, line: BasketLine) -> bool:
        """Whether the offer covers this line at all (shop, scope, time, context)."""
        return self.shop_id is None or line.shop_id == self.shop_id

    def discounts(self, lines: list[BasketLine]) -> list[Discount]:
        """The discounts on `lines` (eligible lines the offer may stack with, in basket order)."""
        return []

    def gifts(self, lines: list[BasketLine]) -> list[Gift]:
        return []

    def shipping_discount(self, *, shop_id, fee: Money, lines: list[BasketLine]) -> Money | None:
        """For free-shipping offers: how much of a shop's fee the offer takes off."""
        return None

    def claim(self, *, actor, orders_by_shop: dict, checkout_id) -> None:
        """Called inside place_order's transaction once the orders exist, for every offer
        that priced them: mark a coupon used, consume a flash reservation. Raise a
        core.errors exception (e.g. Conflict) when the offer is no longer there to take,
        which rolls the whole checkout back."""
