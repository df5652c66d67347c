"""What a promotion would do before it is published: the offer an (unsaved)
promotion makes, and a few example baskets from its scope sized to show it
working (two units for 第二件半价, enough to reach each tier of 满减).

The prices themselves come from the pricing pipeline, which the caller (the
console) runs with `price_lines(entries, offers=[preview.offer])`, so the
preview goes through the same steps, capping and rounding as checkout."""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.queries import visible_skus
from shopyard.core.errors import ValidationFailed

from .discounts import OFFER_CLASSES, GiftOffer, attach_gifts, with_descendants
from .kinds import Kind, default_stacks_with
from .models import Promotion
from .rules import check_references, parse
from .services import kinds_for, scope_targets

SAMPLES = 5  # products shown
MAX_UNITS = 999  # an example never asks for more units than this


@dataclass
class Example:
    entries: list  # [(sku, quantity)]
    note: object = None  # what the basket shows: the spend-and-save tier it reaches


@dataclass
class Preview:
    offer: object
    examples: list = field(default_factory=list)


def _scope_ids(scope, targets) -> frozenset:
    ids = {t.pk for t in targets or []}
    if scope == Promotion.Scope.CATEGORIES:
        ids = with_descendants(ids)
    return frozenset(ids)


def sample_skus(*, shop, scope, targets, limit=SAMPLES) -> list:
    """Up to `limit` SKUs a shopper could buy now inside the scope (one per product, the
    dearest first so the examples show the most)."""
    qs = visible_skus().select_related("product__shop", "stock")
    if shop is not None:
        qs = qs.filter(product__shop=shop)
    ids = _scope_ids(scope, targets)
    if scope == Promotion.Scope.CATEGORIES:
        qs = qs.filter(product__category_id__in=ids)
    elif scope == Promotion.Scope.PRODUCTS:
        qs = qs.filter(product_id__in=ids)
    elif scope == Promotion.Scope.SKUS:
        qs = qs.filter(pk__in=ids)
    out, seen = [], set()
    for sku in qs.order_by("-price", "pk")[:limit * 10]:
        if sku.product_id not in seen:
            seen.add(sku.product_id)
            out.append(sku)
        if len(out) == limit:
            break
    return out


def _units_for(amount: Decimal, price: Decimal) -> int:
    if amount <= 0:
        return 1
    return max(1, min(MAX_UNITS, int((amount / price).to_integral_value(rounding=ROUND_CEILING))))


def _examples(kind, rule, skus, *, currency) -> list:
    if kind == Kind.TIME_DISCOUNT:
        return [Example([(s, 1)]) for s in skus]
    if kind == Kind.MULTI_BUY:
        return [Example([(s, rule.nth or rule.min_quantity)]) for s in skus]
    if kind == Kind.BUNDLE_PRICE:
        return [Example([(s, rule.count)]) for s in skus]
    if kind == Kind.GIFT:
        return [Example([(s, rule.min_quantity or _units_for(rule.threshold, s.price))]) for s in skus
                if s.pk != rule.gift_sku_id]
    if kind == Kind.ADD_ON:
        add_on = visible_skus().select_related("product__shop", "stock").filter(pk=rule.sku_id).first()
        if add_on is None:
            return []
        return [Example([(s, _units_for(rule.threshold, s.price)), (add_on, rule.limit)]) for s in skus
                if s.pk != rule.sku_id]
    # spend-and-save: an example basket reaching each tier, with the first product
    if not skus:
        return []
    sku = skus[0]
    out = []
    for tier in rule.tiers[:3]:
        out.append(Example([(sku, _units_for(tier.threshold, sku.price))], note=tier))
    if len(skus) > 1:
        out.append(Example([(s, 1) for s in skus]))
    return out


def preview(*, shop, kind, rules, scope="all", target_ids=None, name="", currency=None) -> Preview:
    """The offer a promotion written this way makes, and example baskets from its scope.
    Refuses what create_promotion would refuse in the rules and scope (ValidationFailed)."""
    currency = shop.currency if shop else (currency or "CNY")
    errors = {}
    rule = None
    try:
        rule = parse(kind, rules, currency=currency)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if kind not in [k.value for k in kinds_for(shop)]:
        raise ValidationFailed(fields={"kind": [_("Choose a kind of promotion.")]})
    if scope not in Promotion.Scope.values:
        errors["scope"] = [_("Choose a scope.")]
    targets = scope_targets(shop, scope, target_ids, errors) if scope in Promotion.Scope.values else None
    if rule is not None and not errors:
        check_references(kind, rule, shop=shop, scope=scope, targets=targets, errors=errors)
    if errors:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    promotion = Promotion(shop=shop, kind=kind, name=name or str(Kind(kind).label), name_en=name, scope=scope,
                          rules=rules, currency=currency, starts_at=now, ends_at=now,
                          stacks_with=sorted(default_stacks_with(kind)))
    offer = OFFER_CLASSES[kind](promotion, rule, _scope_ids(scope, targets), currency)
    if isinstance(offer, GiftOffer):
        attach_gifts([offer], {})
    skus = sample_skus(shop=shop, scope=scope, targets=targets)
    return Preview(offer=offer, examples=_examples(kind, rule, skus, currency=currency))
