"""Offers from the shops' and the platform's promotions (limited-time
discounts, spend-and-save tiers; multi-buy, any-N, gifts and add-on deals
register their offer classes in OFFER_CLASSES).

One load costs a fixed number of queries: the live promotions of the basket's
shops and the platform, then their scope rows, whatever the basket holds."""

from shopyard.catalog.models import Category
from shopyard.core.money import Money, allocate

from .kinds import Funding, Kind
from .models import Promotion
from .offers import Discount, Offer
from .queries import live_promotions
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


OFFER_CLASSES = {
    Kind.TIME_DISCOUNT: TimeDiscountOffer,
    Kind.SPEND_TIERS: SpendTiersOffer,
    Kind.CROSS_SHOP_TIERS: SpendTiersOffer,
}


def _with_descendants(category_ids: set) -> set:
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
            ids[p.pk] = _with_descendants(ids[p.pk])
    return {pk: frozenset(v) for pk, v in ids.items()}


def load_offers(context) -> list:
    if not context.shop_ids:
        return []
    promotions = [p for p in live_promotions(shop_ids=context.shop_ids, now=context.now) if p.kind in OFFER_CLASSES]
    scopes = _scope_ids(promotions)
    offers = []
    for promotion in promotions:
        rule = parse(promotion.kind, promotion.rules, currency=promotion.currency)
        offers.append(OFFER_CLASSES[promotion.kind](promotion, rule, scopes[promotion.pk], promotion.currency))
    return offers
