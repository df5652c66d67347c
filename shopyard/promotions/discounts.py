"""Offers from the shops' and the platform's promotions: limited-time
discounts, spend-and-save tiers, multi-buy, any-N, gifts and add-on deals,
one offer class per kind in OFFER_CLASSES.

One load costs a fixed number of queries: the live promotions of the basket's
shops and the platform, then their scope rows, whatever the basket holds."""

from dataclasses import dataclass
from functools import partial

from django.utils.translation import get_language

from shopyard.catalog.models import Category
from shopyard.catalog.queries import sku_stock, visible_skus
from shopyard.core.money import Money, allocate

from .engine import BasketContext
from .kinds import Funding, Kind
from .models import Promotion
from .offers import BasketLine, Discount, Gift, Offer
from .queries import current_and_coming_rows, is_live
from .rules import parse


class PromotionOffer(Offer):
    """A promotion row as an offer: scope and funding shared by every kind."""

    source = "promotion"

    def __init__(self, promotion: Promotion, rule, scope_ids: frozenset, currency: str):
        self.promotion, self.rule, self.scope_ids, self.currency = promotion, rule, scope_ids, currency
        super().__init__(
            kind=promotion.kind, source_id=promotion.pk, shop_id=promotion.shop_id,
            label=promotion.name, label_en=promotion.name_en or promotion.name,
            funded_by=Funding.SHOP if promotion.shop_id else Funding.PLATFORM,
            stacks_with=frozenset(promotion.stacks_with),
        )

    def eligible(self, line) -> bool:
        if line.is_gift or not super().eligible(line) or line.currency != self.currency:
            return False
        scope = self.promotion.scope
        if scope == Promotion.Scope.ALL:
            return True
        if scope == Promotion.Scope.CATEGORIES:
            return line.category_id in self.scope_ids
        if scope == Promotion.Scope.PRODUCTS:
            return line.product_id in self.scope_ids
        return line.sku.pk in self.scope_ids


class TimeDiscountOffer(PromotionOffer):
    per_line = True

    def discounts(self, lines):
        return [Discount(line.index, self.rule.line_discount(line.amount, line.quantity)) for line in lines]


class SpendTiersOffer(PromotionOffer):
    def discounts(self, lines):
        if not lines:
            return []
        eligible = Money.zero(lines[0].currency)
        for line in lines:
            eligible = eligible + line.amount
        off, tier = self.rule.discount(eligible)
        if tier is None or not off.amount:
            return []
        off = min(off, eligible)
        label, label_en = self.rule.describe_tier(tier, off.currency, repeat=self.rule.repeat)
        shares = allocate(off, [line.amount for line in lines])
        return [Discount(line.index, share, label=label, label_en=label_en) for line, share in zip(lines, shares, strict=True)]


def _units(lines) -> list:
    """Every unit of `lines` as (line, its share of the line's current amount), line by line."""
    units = []
    for line in lines:
        each = Money(line.amount.amount / line.quantity, line.currency)
        units.extend((line, each) for _i in range(line.quantity))
    return units


def _per_line(totals: dict, lines) -> list:
    by_index = {line.index: line for line in lines}
    return [Discount(index, amount.quantize()) for index, amount in totals.items()
            if amount.amount > 0 and index in by_index]


class MultiBuyOffer(PromotionOffer):
    """第二件半价 / 2 件 9 折 across the eligible lines of one shop, unit by unit."""

    def discounts(self, lines):
        units = _units(lines)
        totals = {}
        for (line, _each), off in zip(units, self.rule.unit_discounts([u for _l, u in units]), strict=True):
            totals[line.index] = totals.get(line.index, Money.zero(line.currency)) + off
        return _per_line(totals, lines)


class BundlePriceOffer(PromotionOffer):
    """N 元任选: each full set of the dearest units costs the set price; the saving of a set is
    split over its units with core.money.allocate (so each set costs its price exactly)."""

    def discounts(self, lines):
        units = _units(lines)
        totals = {}
        for chosen, saving in self.rule.sets([u for _l, u in units]):
            shares = allocate(saving, [units[i][1] for i in chosen])
            for i, share in zip(chosen, shares, strict=True):
                line = units[i][0]
                totals[line.index] = totals.get(line.index, Money.zero(line.currency)) + share
        return _per_line(totals, lines)


class GiftOffer(PromotionOffer):
    """满赠: takes nothing off; adds the gift SKU as a ¥0 line when the eligible lines reach
    the rule, and only when the gift is buyable and in stock (`gift_sku` is None otherwise)."""

    gift_sku = None

    def gifts(self, lines):
        if self.gift_sku is None or not lines:
            return []
        amount = Money.zero(lines[0].currency)
        for line in lines:
            amount = amount + line.amount
        if not self.rule.reached(amount, sum(line.quantity for line in lines)):
            return []
        return [Gift(sku=self.gift_sku, quantity=self.rule.gift_quantity)]


class AddOnOffer(PromotionOffer):
    """加价购: when the other eligible lines reach the threshold, up to `limit` units of the
    add-on SKU cost the add-on price. The add-on SKU is covered whatever the scope."""

    def _is_add_on(self, line) -> bool:
        return line.sku.pk == self.rule.sku_id

    def eligible(self, line) -> bool:
        if self._is_add_on(line):
            return (not line.is_gift and line.shop_id == self.shop_id and line.currency == self.currency)
        return super().eligible(line)

    def discounts(self, lines):
        others = [line for line in lines if not self._is_add_on(line) and PromotionOffer.eligible(self, line)]
        if not others:
            return []
        spent = Money.zero(others[0].currency)
        for line in others:
            spent = spent + line.amount
        if not self.rule.reached(spent):
            return []
        out, left = [], self.rule.limit
        for line in lines:
            if not self._is_add_on(line) or left <= 0:
                continue
            units = min(left, line.quantity)
            left -= units
            each = line.amount.amount / line.quantity
            off = max(each - self.rule.price, 0) * units
            if off > 0:
                out.append(Discount(line.index, Money(off, line.currency).quantize()))
        return out


OFFER_CLASSES = {
    Kind.TIME_DISCOUNT: TimeDiscountOffer,
    Kind.SPEND_TIERS: SpendTiersOffer,
    Kind.CROSS_SHOP_TIERS: SpendTiersOffer,
    Kind.MULTI_BUY: MultiBuyOffer,
    Kind.BUNDLE_PRICE: BundlePriceOffer,
    Kind.GIFT: GiftOffer,
    Kind.ADD_ON: AddOnOffer,
}


def with_descendants(category_ids: set) -> set:
    """The categories and every category below them (a promotion on 数码 covers 手机)."""
    found, frontier = set(category_ids), set(category_ids)
    while frontier:
        frontier = set(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found


def _scope_ids(promotions) -> dict:
    ids = {p.pk: set() for p in promotions}
    by_scope = {}
    for p in promotions:
        by_scope.setdefault(p.scope, []).append(p.pk)
    through = {
        Promotion.Scope.CATEGORIES: (Promotion.categories.through, "category_id"),
        Promotion.Scope.PRODUCTS: (Promotion.products.through, "product_id"),
        Promotion.Scope.SKUS: (Promotion.skus.through, "sku_id"),
    }
    for scope, pks in by_scope.items():
        if scope not in through:
            continue
        model, column = through[scope]
        for promotion_id, target in model.objects.filter(promotion_id__in=pks).values_list("promotion_id", column):
            ids[promotion_id].add(target)
    for p in promotions:
        if p.scope == Promotion.Scope.CATEGORIES:
            ids[p.pk] = with_descendants(ids[p.pk])
    return {pk: frozenset(v) for pk, v in ids.items()}


def load_offers(context) -> list:
    if not context.shop_ids:
        return []
    promotions = []
    # rows kept from a moment before now may hold promotions that have ended since: is_live leaves
    # them out, and note_change ignores moments already past
    rows = (context.promotions or partial(current_and_coming_rows, now=context.now))(shop_ids=context.shop_ids)
    for promotion in rows:
        context.note_change(promotion.starts_at)
        context.note_change(promotion.ends_at)
        if is_live(promotion, context.now) and promotion.kind in OFFER_CLASSES:
            promotions.append(promotion)
    scopes = _scope_ids(promotions)
    offers = []
    for promotion in promotions:
        rule = parse(promotion.kind, promotion.rules, currency=promotion.currency)
        offers.append(OFFER_CLASSES[promotion.kind](promotion, rule, scopes[promotion.pk], promotion.currency))
    in_basket = {}
    for line in context.lines:
        in_basket[line.sku.pk] = in_basket.get(line.sku.pk, 0) + line.quantity
    attach_gifts([o for o in offers if isinstance(o, GiftOffer)], in_basket)
    return offers


@dataclass
class Badge:
    """A live promotion as a product page shows it: its kind, name and rule in both languages."""

    promotion: Promotion
    kind_label: str
    summary: str
    summary_en: str

    @property
    def text(self) -> str:
        return self.summary_en if (get_language() or "").startswith("en") else self.summary


def badges_for(offers, skus) -> list:
    """The live promotions among `offers` that cover any of `skus` (one product's), for its page."""
    skus = list(skus)
    lines = [BasketLine(index=i, sku=sku, quantity=1, unit_price=Money(sku.price, sku.product.currency),
                        amount=Money(sku.price, sku.product.currency)) for i, sku in enumerate(skus)]
    badges = []
    for offer in offers:
        if isinstance(offer, PromotionOffer) and any(offer.eligible(line) for line in lines):
            describe = getattr(offer.rule, "describe", None)
            zh, en = describe(offer.currency) if describe else (offer.label, offer.label_en)
            badges.append(Badge(promotion=offer.promotion, kind_label=Kind(offer.kind).label, summary=zh,
                                summary_en=en))
    return badges


@dataclass
class ListingBadges:
    kinds: dict  # product id -> [Kind] of the live promotions covering it
    changes_at: object  # the next moment one of these promotions starts or ends, or None


def listing_badges(products, *, now, promotions=None) -> ListingBadges:
    """Which live promotions cover each product of a listing page, in a fixed number of
    queries: the shops' and the platform's published promotions, then their scope rows.
    `promotions`, when given, is a function answering `current_and_coming_rows` for a set of
    shop ids, possibly from a moment before `now` (the storefront keeps them per catalogue
    version: publishing, changing or stopping a promotion is a catalogue event); what has
    ended since is left out here."""
    products = list(products)
    context = BasketContext(now=now, shop_ids=frozenset(p.shop_id for p in products))
    live = []
    rows = (promotions or partial(current_and_coming_rows, now=now))(shop_ids=context.shop_ids)
    for promotion in rows:
        if promotion.ends_at <= now:  # ended since the rows were read
            continue
        context.note_change(promotion.starts_at)
        context.note_change(promotion.ends_at)
        if is_live(promotion, now):
            live.append(promotion)
    kinds = {}
    if live:
        scopes = _scope_ids(live)
        sku_scoped = [p.pk for p in live if p.scope == Promotion.Scope.SKUS]
        sku_products = {}
        if sku_scoped:
            rows = Promotion.skus.through.objects.filter(promotion_id__in=sku_scoped).values_list(
                "promotion_id", "sku__product_id")
            for promotion_id, product_id in rows:
                sku_products.setdefault(promotion_id, set()).add(product_id)
        for product in products:
            for promotion in live:
                if promotion.shop_id not in (None, product.shop_id) or promotion.currency != product.currency:
                    continue
                scope, ids = promotion.scope, scopes[promotion.pk]
                if (scope == Promotion.Scope.ALL or scope == Promotion.Scope.CATEGORIES and product.category_id in ids
                        or scope == Promotion.Scope.PRODUCTS and product.pk in ids
                        or scope == Promotion.Scope.SKUS and product.pk in sku_products.get(promotion.pk, ())):
                    found = kinds.setdefault(product.pk, [])
                    if Kind(promotion.kind) not in found:
                        found.append(Kind(promotion.kind))
    return ListingBadges(kinds=kinds, changes_at=context.changes_at)
def attach_gifts(offers, in_basket: dict) -> None:
    """Give each gift offer its SKU when a shopper could buy it now (the one visibility rule,
    catalog.queries.visible_skus) and its stock covers the gift besides the units of it
    already in the basket ({sku id: units}): one query for every gift offer of the basket."""
    if not offers:
        return
    wanted = {o.rule.gift_sku_id for o in offers}
    skus = {s.pk: s for s in visible_skus().filter(pk__in=wanted).select_related("product__shop", "stock")}
    for offer in offers:
        sku = skus.get(offer.rule.gift_sku_id)
        if sku is not None and sku.product.shop_id == offer.shop_id and (
                sku_stock(sku) - in_basket.get(sku.pk, 0) >= offer.rule.gift_quantity):
            offer.gift_sku = sku
