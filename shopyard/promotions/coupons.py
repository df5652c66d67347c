"""Coupons as offers: one CouponOffer per usable coupon the shopper holds.

With `coupons=AUTO` the loader offers every usable coupon of the shopper for
the basket's shops and the platform, and the pipeline takes the best of each
choice group ("shop_coupon:<shop id>", "platform_coupon", "shipping_coupon");
with a list, only the listed ones. `coupon_problems` is the one home of *why*
a chosen coupon did not apply (not found, used, expired, not yet valid, wrong
shop, nothing in scope, below the minimum spend, two of one kind, does not
stack): place_order raises it as field errors (`coupons[i]`), and the
checkout page shows the same sentences."""

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.i18n import localized
from shopyard.core.money import Money, allocate, format_price
from shopyard.core.prepared import PreparedRead

from .coupon_queries import usable_filter
from .coupon_services import describe_benefit, lock_for_checkout
from .coupon_state import CouponStatus
from .discounts import with_descendants  # the one rule of "a category covers its subcategories"
from .kinds import STEP, Kind
from .models import CouponTemplate, UserCoupon
from .offers import BasketLine, Discount, Offer
from .rules import percent_of

SOURCE = "coupon"


def choice_group(template) -> str:
    if template.benefit == CouponTemplate.Benefit.FREE_SHIPPING:
        return "shipping_coupon"
    return f"shop_coupon:{template.shop_id}" if template.shop_id else "platform_coupon"


class CouponOffer(Offer):
    """A held coupon: its template's benefit over the eligible lines, split pro rata."""

    source = SOURCE

    def __init__(self, coupon: UserCoupon, scope_ids: frozenset):
        template = coupon.template
        self.coupon, self.template, self.scope_ids = coupon, template, scope_ids
        zh, en = describe_benefit(template)
        super().__init__(
            kind=template.offer_kind, source_id=coupon.pk, shop_id=template.shop_id,
            label=template.name or zh, label_en=template.name_en or f"{en} coupon",
            funded_by=template.funded_by, choice_group=choice_group(template), stacks_with=None)

    def eligible(self, line) -> bool:
        if line.is_gift or not super().eligible(line) or line.currency != self.template.currency:
            return False
        scope = self.template.scope
        if scope == CouponTemplate.Scope.CATEGORIES:
            return line.category_id in self.scope_ids
        if scope == CouponTemplate.Scope.PRODUCTS:
            return line.product_id in self.scope_ids
        return True

    def amount_for(self, eligible: Money) -> Money | None:
        """What the coupon takes off `eligible` (None below the minimum spend)."""
        template = self.template
        if eligible.amount <= 0 or eligible.amount < template.threshold:
            return None
        if template.benefit == CouponTemplate.Benefit.AMOUNT:
            return min(Money(template.amount_off, eligible.currency), eligible)
        if template.benefit == CouponTemplate.Benefit.PERCENT:
            off = percent_of(eligible, template.percent_off)
            if template.max_off is not None:
                off = min(off, Money(template.max_off, eligible.currency))
            return off
        return None

    def discounts(self, lines):
        if not lines:
            return []
        eligible = Money.zero(lines[0].currency)
        for line in lines:
            eligible = eligible + line.amount
        off = self.amount_for(eligible)
        if off is None or not off.amount:
            return []
        shares = allocate(off, [line.amount for line in lines])
        return [Discount(line.index, share) for line, share in zip(lines, shares, strict=True) if share.amount]

    def shipping_discount(self, *, shop_id, fee, lines):
        if self.template.benefit != CouponTemplate.Benefit.FREE_SHIPPING:
            return None
        eligible = Money.zero(fee.currency)
        for line in lines:
            if self.eligible(line):
                eligible = eligible + line.amount
        if eligible.amount < self.template.threshold:
            return None
        return fee

    def claim(self, *, actor, orders_by_shop, checkout_id):
        from shopyard.orders.models import OrderAdjustment

        orders = list(orders_by_shop.values())
        used_on = set(OrderAdjustment.objects.filter(order__in=orders, source=SOURCE, source_id=self.source_id)
                      .values_list("order_id", flat=True))
        lock_for_checkout(actor=actor, coupon_id=self.source_id, orders=[o for o in orders if o.pk in used_on],
                          checkout_id=checkout_id)


def _scope_ids(templates) -> dict:
    ids = {t.pk: set() for t in templates}
    by_scope = {}
    for t in templates:
        by_scope.setdefault(t.scope, []).append(t.pk)
    through = {CouponTemplate.Scope.CATEGORIES: (CouponTemplate.categories.through, "category_id"),
               CouponTemplate.Scope.PRODUCTS: (CouponTemplate.products.through, "product_id")}
    for scope, pks in by_scope.items():
        if scope in through:
            model, column = through[scope]
            for template_id, target in model.objects.filter(coupontemplate_id__in=pks).values_list(
                    "coupontemplate_id", column):
                ids[template_id].add(target)
    for t in templates:
        if t.scope == CouponTemplate.Scope.CATEGORIES:
            ids[t.pk] = with_descendants(ids[t.pk])
    return {pk: frozenset(v) for pk, v in ids.items()}


def offers_for_coupons(coupons) -> list:
    templates = list({c.template_id: c.template for c in coupons}.values())
    scopes = _scope_ids(templates)
    return [CouponOffer(c, scopes[c.template_id]) for c in coupons]


def load_offers(context) -> list:
    """The shopper's usable coupons for the basket's shops and the platform, as offers
    (AUTO), or only the listed ones. Three queries whatever the basket holds; with AUTO
    and one shop (most orders) the coupons are read by a statement compiled once."""
    if context.user is None or not context.shop_ids:
        return []
    from .engine import AUTO

    if context.coupons == AUTO and len(context.shop_ids) == 1:
        (shop_id,) = context.shop_ids
        return offers_for_coupons(_USABLE_OF_ONE_SHOP.objects(context.user.pk, context.now, shop_id))
    if context.coupons != AUTO and not context.coupons:
        return []
    qs = _usable(context.user.pk, context.now, list(context.shop_ids))
    if context.coupons != AUTO:
        qs = qs.filter(pk__in=list(context.coupons))
    return offers_for_coupons(list(qs))


def _usable(user_id, now, shop_ids):
    """The user's coupons usable now in these shops or on the whole platform, soonest to expire first."""
    return (UserCoupon.objects.filter(user_id=user_id).filter(usable_filter(now))
            .filter(Q(template__shop_id__in=shop_ids) | Q(template__shop__isnull=True))
            .select_related("template", "template__shop").order_by("valid_until", "id"))


_USABLE_OF_ONE_SHOP = PreparedRead(UserCoupon, lambda user_id, now, shop_id: _usable(user_id, now, [shop_id]),
                                   kinds=("id", "moment", "id"))


# --- why a chosen coupon did not apply -------------------------------------------------


@dataclass
class Problem:
    error: type  # the core.errors class place_order raises
    message: str


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _basket_before(pricing, step) -> list:
    """The priced lines as BasketLines, each at its amount before `step` (what a coupon
    of that step saw)."""
    out = []
    for i, priced in enumerate(pricing.lines):
        amount = priced.line_total
        for adjustment in priced.adjustments:
            if STEP[Kind(adjustment.kind)] < step:
                amount = amount - adjustment.amount
        out.append(BasketLine(index=i, sku=priced.sku, quantity=priced.quantity, unit_price=priced.unit_price,
                              amount=amount, is_gift=priced.is_gift))
    return out


def _problem(coupon, pricing, applied, now) -> Problem:
    template = coupon.template
    if coupon.status != CouponStatus.AVAILABLE:
        return Problem(Conflict, _("This coupon has already been used."))
    if coupon.valid_until <= now:
        return Problem(ValidationFailed, _("This coupon expired on %(when)s.") % {"when": _when(coupon.valid_until)})
    if coupon.valid_from > now:
        return Problem(ValidationFailed, _("This coupon can be used from %(when)s.") % {"when": _when(coupon.valid_from)})
    [offer] = offers_for_coupons([coupon])
    lines = _basket_before(pricing, offer.step)
    if template.shop_id and not any(line.shop_id == template.shop_id for line in lines):
        return Problem(ValidationFailed, _("This coupon is for items from %(shop)s only; this order has none.")
                       % {"shop": template.shop.name})
    eligible = [line for line in lines if offer.eligible(line)]
    if not eligible:
        return Problem(ValidationFailed, _("None of the items in this order are covered by this coupon."))
    if template.benefit == CouponTemplate.Benefit.FREE_SHIPPING:
        shops = {line.shop_id for line in eligible}
        if not any(g.shipping_fee is not None and g.shipping_fee.amount for g in pricing.shops if g.shop.pk in shops):
            return Problem(ValidationFailed, _("Shipping is already free for these items."))
    spend = Money.zero(eligible[0].currency)
    for line in eligible:
        spend = spend + line.amount
    if spend.amount < template.threshold:
        more = Money(template.threshold, spend.currency) - spend
        return Problem(ValidationFailed, _("Spend %(more)s more on eligible items to use this coupon (minimum "
                                           "spend %(min)s).") % {"more": format_price(more.amount, more.currency),
                                                                 "min": format_price(template.threshold, spend.currency)})
    if any(o.choice_group == offer.choice_group for o in applied):
        return Problem(ValidationFailed, _("Only one coupon of this kind can be used per order."))
    return Problem(ValidationFailed, _("This coupon cannot be combined with the discounts already on these items."))


def coupon_problems(pricing, *, user, coupon_ids, now=None) -> dict:
    """{coupon id: Problem} for each chosen coupon that did not price `pricing` (the
    checkout.pricing result for this user and these coupon ids)."""
    now = now or timezone.now()
    applied = [o for o in pricing.offers if o.source == SOURCE]
    applied_ids = {o.source_id for o in applied}
    missing = [pk for pk in coupon_ids if pk not in applied_ids]
    if not missing:
        return {}
    held = {c.pk: c for c in UserCoupon.objects.filter(user=user, pk__in=missing)
            .select_related("template", "template__shop")} if getattr(user, "pk", None) else {}
    problems = {}
    for pk in missing:
        coupon = held.get(pk)
        if coupon is None:  # unknown, or someone else's: the same answer, so ids reveal nothing
            problems[pk] = Problem(NotFound, _("Coupon not found."))
        else:
            problems[pk] = _problem(coupon, pricing, applied, now)
    return problems


def refuse_problems(problems: dict, positions: dict) -> None:
    """Raise the problems as one error with a field per coupon (`coupons[i]`, i its position in
    the request): a missing coupon makes it a 404, a used one a 409, otherwise 422."""
    if not problems:
        return
    fields = {f"coupons[{positions.get(pk, pk)}]": [p.message] for pk, p in problems.items()}
    kinds = {p.error for p in problems.values()}
    error = NotFound if NotFound in kinds else Conflict if Conflict in kinds else ValidationFailed
    message = next(iter(problems.values())).message if len(problems) == 1 else _("Check the coupons you chose.")
    raise error(message, fields=fields, code="coupon_refused")


# --- the shopper's picker ------------------------------------------------------------------


@dataclass
class CouponOption:
    coupon_id: int
    label: str
    saving: Money | None  # what it takes off when chosen; None when it cannot apply
    reason: str = ""  # why not, when it cannot


@dataclass
class CouponGroup:
    key: str  # the choice group ("shop_coupon:3", "platform_coupon", "shipping_coupon")
    title: str
    options: list
    selected: int | None  # the coupon the pipeline chose (AUTO), or the shopper's choice


def coupon_groups(pricing, *, user, chosen=None, lang="zh-hans") -> list:
    """The checkout's coupon pickers from an AUTO pricing (`pricing.choices`): each group's
    coupons with their saving, the best preselected, or `chosen` (the shopper's ids) instead.
    Coupons that cannot apply are listed with the reason coupon_problems gives."""
    groups = []
    applied = {o.choice_group: o.source_id for o in pricing.offers if o.source == SOURCE}
    blocked = [o.source_id for alternatives in pricing.choices.values() for o, amount in alternatives
               if o.source == SOURCE and amount is None]
    reasons = coupon_problems(pricing, user=user, coupon_ids=blocked) if blocked else {}
    for key in sorted(pricing.choices, key=lambda k: (k != "platform_coupon", k == "shipping_coupon", k)):
        best = {}
        for offer, amount in pricing.choices[key]:
            if offer.source != SOURCE:
                continue
            if offer.source_id not in best or (amount is not None and (best[offer.source_id][1] is None
                                                                      or amount > best[offer.source_id][1])):
                best[offer.source_id] = (offer, amount)
        if not best:
            continue
        options = []
        for offer, amount in sorted(best.values(), key=lambda p: (p[1] is None, -(p[1].amount if p[1] else 0))):
            problem = reasons.get(offer.source_id) if amount is None else None
            options.append(CouponOption(offer.source_id, offer.describe("en" if lang.startswith("en") else lang),
                                        amount, problem.message if problem else ""))
        selected = applied.get(key)
        if chosen is not None:
            selected = next((o.coupon_id for o in options if o.coupon_id in set(chosen)), None)
        template = next(iter(best.values()))[0].template
        if key == "platform_coupon":
            title = _("Platform coupon")
        elif key == "shipping_coupon":
            title = _("Free-shipping coupon")
        else:
            title = _("Shop coupon · %(shop)s") % {"shop": localized(template.shop, "name") if template.shop_id else ""}
        groups.append(CouponGroup(key=key, title=title, options=options, selected=selected))
    return groups
