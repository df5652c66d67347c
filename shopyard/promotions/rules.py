"""Each promotion kind's rule: how it is written (parse, the one check of what a
row may hold) and what it takes off (the arithmetic an offer runs).

`parse(kind, raw, currency)` is called by services before any write and by the
loader before pricing, so a rule the pipeline cannot price never reaches it.
Amount rules: thresholds may be zero, amounts off and prices must be at least
the currency's minor unit, percentages lie in (0, 100]. Percentage discounts
are rounded half up to the minor unit per line (per unit for multi-buy), then
capped by the pipeline at what the line still costs."""

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from shopyard.catalog.models import Product, Sku
from shopyard.catalog.services import parse_price
from shopyard.core.errors import ValidationFailed
from shopyard.core.money import CURRENCY_PRECISION, Money, format_price
from shopyard.core.validation import parse_int

from .kinds import Kind

MAX_TIERS = 10
_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?")


def percent_of(amount: Money, percent: Decimal) -> Money:
    """`percent` % of `amount`, rounded half up to the minor unit."""
    places = CURRENCY_PRECISION.get(amount.currency, 2)
    value = (amount.amount * percent / 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return Money(value, amount.currency)


def parse_percent(value, field, errors):
    """A percentage off in (0, 100], at most two decimals ("20" is 20 % off, 8折)."""
    text = str(value).strip() if isinstance(value, str | int | Decimal) and not isinstance(value, bool) else ""
    if not _PERCENT.fullmatch(text):
        errors[field] = [_("Enter a percentage from 0.01 to 100.")]
        return None
    percent = Decimal(text)
    if not Decimal(0) < percent <= Decimal(100):
        errors[field] = [_("Enter a percentage from 0.01 to 100.")]
        return None
    return percent


def parse_threshold(value, field, errors, *, currency):
    """A spend threshold: zero or more (zero means "on any amount")."""
    if value in (0, "0", "0.00", "0.0"):
        return Decimal(0)
    return parse_price(value, field, errors, currency=currency)


def parse_count(value, field, errors, *, low=1, high=100):
    number = parse_int(value, min_value=low, max_value=high)
    if number is None:
        errors[field] = [_("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}]
    return number


# --- limited-time discount -------------------------------------------------------------

@dataclass(frozen=True)
class TimeDiscount:
    percent_off: Decimal | None = None
    price: Decimal | None = None  # a fixed price per unit instead

    def line_discount(self, amount: Money, quantity: int) -> Money:
        if self.price is not None:
            return Money(max(Decimal(0), amount.amount - self.price * quantity), amount.currency)
        return percent_of(amount, self.percent_off)

    def describe(self, currency) -> tuple[str, str]:
        if self.price is not None:
            price = format_price(self.price, currency)
            return f"限时价{price}", f"Now {price}"
        zhe = (Decimal(100) - self.percent_off) / 10
        return f"限时{zhe.normalize():f}折", f"{self.percent_off.normalize():f}% off"


def _time_discount(raw, currency, errors):
    if ("percent_off" in raw) == ("price" in raw):
        errors["rules"] = [_("Give either a percentage off or a fixed price.")]
        return None
    if "price" in raw:
        price = parse_price(raw["price"], "rules.price", errors, currency=currency)
        return TimeDiscount(price=price) if price is not None else None
    percent = parse_percent(raw["percent_off"], "rules.percent_off", errors)
    return TimeDiscount(percent_off=percent) if percent is not None else None


# --- spend-and-save tiers (满减 / 满折) ---------------------------------------------------

@dataclass(frozen=True)
class Tier:
    threshold: Decimal
    amount_off: Decimal | None = None
    percent_off: Decimal | None = None


@dataclass(frozen=True)
class SpendTiers:
    tiers: tuple  # Tier, by rising threshold
    repeat: bool = False  # "for every ¥threshold, ¥amount_off" (one tier only)
    cap: Decimal | None = None  # the most a repeated discount takes off

    def discount(self, eligible: Money) -> tuple[Money, Tier | None]:
        """What spending `eligible` earns, and the tier that earned it."""
        zero = Money.zero(eligible.currency)
        if self.repeat:
            tier = self.tiers[0]
            times = int(eligible.amount // tier.threshold) if tier.threshold else 0
            off = tier.amount_off * times
            if self.cap is not None:
                off = min(off, self.cap)
            return (Money(off, eligible.currency), tier) if times else (zero, None)
        reached = [t for t in self.tiers if t.threshold <= eligible.amount]
        if not reached:
            return zero, None
        tier = reached[-1]
        if tier.amount_off is not None:
            return Money(tier.amount_off, eligible.currency), tier
        return percent_of(eligible, tier.percent_off), tier

    def next_tier(self, eligible: Money) -> Tier | None:
        """The next tier not yet reached ("spend ¥23 more to save ¥50")."""
        for tier in self.tiers:
            if tier.threshold > eligible.amount:
                return tier
        return None

    def describe(self, currency) -> tuple[str, str]:
        """Every tier, e.g. "满¥200.00减¥20.00，满¥400.00减¥50.00"."""
        parts = [self.describe_tier(t, currency, repeat=self.repeat) for t in self.tiers]
        zh, en = "，".join(p[0] for p in parts), "; ".join(p[1] for p in parts)
        if self.cap is not None:
            cap = format_price(self.cap, currency)
            zh, en = f"{zh}（最多减{cap}）", f"{en} (at most {cap})"
        return zh, en

    @staticmethod
    def describe_tier(tier: Tier, currency, *, repeat=False) -> tuple[str, str]:
        spend = format_price(tier.threshold, currency)
        if tier.amount_off is not None:
            off = format_price(tier.amount_off, currency)
            if repeat:
                return f"每满{spend}减{off}", f"{off} off every {spend}"
            return f"满{spend}减{off}", f"{off} off {spend}"
        zhe = (Decimal(100) - tier.percent_off) / 10
        return f"满{spend}打{zhe.normalize():f}折", f"{tier.percent_off.normalize():f}% off {spend}"


def _spend_tiers(raw, currency, errors):
    tiers_raw = raw.get("tiers")
    if not isinstance(tiers_raw, list) or not tiers_raw:
        errors["rules.tiers"] = [_("Add at least one tier.")]
        return None
    if len(tiers_raw) > MAX_TIERS:
        errors["rules.tiers"] = [_("At most %(n)s tiers.") % {"n": MAX_TIERS}]
        return None
    tiers = []
    for i, item in enumerate(tiers_raw):
        field = f"rules.tiers[{i}]"
        if not isinstance(item, dict):
            errors[field] = [_("Give a threshold and an amount or percentage off.")]
            continue
        threshold = parse_threshold(item.get("threshold"), f"{field}.threshold", errors, currency=currency)
        if ("amount_off" in item) == ("percent_off" in item):
            errors[field] = [_("Give either an amount off or a percentage off.")]
            continue
        if "amount_off" in item:
            off = parse_price(item["amount_off"], f"{field}.amount_off", errors, currency=currency)
            if off is not None and threshold is not None and threshold and off >= threshold:
                errors[f"{field}.amount_off"] = [_("The amount off must be less than the threshold.")]
                continue
            tiers.append(Tier(threshold=threshold, amount_off=off))
        else:
            tiers.append(Tier(threshold=threshold, percent_off=parse_percent(item["percent_off"], f"{field}.percent_off",
                                                                             errors)))
    if errors:
        return None
    thresholds = [t.threshold for t in tiers]
    if thresholds != sorted(set(thresholds)):
        errors["rules.tiers"] = [_("Give each tier a higher threshold than the one before.")]
        return None
    repeat = raw.get("repeat", False)
    if not isinstance(repeat, bool):
        errors["rules.repeat"] = [_("Give true or false.")]
        return None
    cap = None
    if repeat:
        if len(tiers) != 1 or tiers[0].amount_off is None or not tiers[0].threshold:
            errors["rules.repeat"] = [_("A repeated discount has one tier: an amount off for every threshold above zero.")]
            return None
        if raw.get("cap") not in (None, ""):
            cap = parse_price(raw["cap"], "rules.cap", errors, currency=currency)
            if cap is None:
                return None
    return SpendTiers(tiers=tuple(tiers), repeat=repeat, cap=cap)


# --- multi-buy (第二件半价 / 2 件 9 折) -------------------------------------------------

MAX_COUNT = 100


def _zhe(percent_off: Decimal) -> str:
    """20 % off reads 8折 in Chinese."""
    return f"{((Decimal(100) - percent_off) / 10).normalize():f}"


def _pct(percent_off: Decimal) -> str:
    return f"{percent_off.normalize():f}"


@dataclass(frozen=True)
class MultiBuy:
    """Either every `nth` unit (units sorted by price, high to low: the cheapest of each run
    of n) gets `percent_off`, or, once the eligible units reach `min_quantity`, all of them."""

    percent_off: Decimal
    nth: int | None = None
    min_quantity: int | None = None

    def unit_discounts(self, unit_amounts: list) -> list:
        """For units (Money each, in the order given) the discount each gets, rounded per unit."""
        zero = [Money.zero(u.currency) for u in unit_amounts]
        if self.nth:
            order = sorted(range(len(unit_amounts)), key=lambda i: (-unit_amounts[i].amount, i))
            out = list(zero)
            for position, i in enumerate(order, start=1):
                if position % self.nth == 0:
                    out[i] = percent_of(unit_amounts[i], self.percent_off)
            return out
        if len(unit_amounts) < self.min_quantity:
            return zero
        return [percent_of(u, self.percent_off) for u in unit_amounts]

    def describe(self, currency) -> tuple[str, str]:
        if self.nth:
            if self.percent_off == 50:
                zh = f"第{self.nth}件半价"
            elif self.percent_off == 100:
                zh = f"第{self.nth}件免费"
            else:
                zh = f"第{self.nth}件{_zhe(self.percent_off)}折"
            return zh, f"{_pct(self.percent_off)}% off every {_ordinal(self.nth)} item"
        return (f"{self.min_quantity}件{_zhe(self.percent_off)}折",
                f"{_pct(self.percent_off)}% off {self.min_quantity} or more")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _exactly_one(raw, names, errors) -> str | None:
    given = [n for n in names if raw.get(n) not in (None, "")]
    if len(given) != 1:
        errors["rules"] = [_("Give exactly one of: %(names)s.") % {"names": ", ".join(names)}]
        return None
    return given[0]


def _multi_buy(raw, currency, errors):
    which = _exactly_one(raw, ("nth", "min_quantity"), errors)
    percent = parse_percent(raw.get("percent_off"), "rules.percent_off", errors)
    if which is None:
        return None
    count = parse_count(raw[which], f"rules.{which}", errors, low=2, high=MAX_COUNT)
    if errors:
        return None
    return MultiBuy(percent_off=percent, **{which: count})


# --- any N for a fixed price (N 元任选) -------------------------------------------------

@dataclass(frozen=True)
class BundlePrice:
    """Any `count` eligible units for `price`, once per full set, the dearest units first."""

    count: int
    price: Decimal

    def sets(self, unit_amounts: list) -> list:
        """The sets formed from units (Money each): [(unit indexes, saving)], dearest units first;
        a set whose units cost no more than `price` is not formed (nor any cheaper one after it)."""
        if not unit_amounts:
            return []
        currency = unit_amounts[0].currency
        places = CURRENCY_PRECISION.get(currency, 2)
        order = sorted(range(len(unit_amounts)), key=lambda i: (-unit_amounts[i].amount, i))
        out = []
        for start in range(0, len(order) - self.count + 1, self.count):
            chosen = order[start:start + self.count]
            total = sum((unit_amounts[i].amount for i in chosen), Decimal(0))
            # the saving is rounded down, so a set never costs the shopper less than its price
            saving = (total - self.price).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
            if saving <= 0:
                break
            out.append((chosen, Money(saving, currency)))
        return out

    def describe(self, currency) -> tuple[str, str]:
        price = format_price(self.price, currency)
        return f"{price}任选{self.count}件", f"Any {self.count} for {price}"


def _bundle_price(raw, currency, errors):
    count = parse_count(raw.get("count"), "rules.count", errors, low=2, high=MAX_COUNT)
    price = parse_price(raw.get("price"), "rules.price", errors, currency=currency)
    if errors:
        return None
    return BundlePrice(count=count, price=price)


# --- gifts (满赠) ------------------------------------------------------------------------

@dataclass(frozen=True)
class GiftRule:
    """Spend `threshold` (or buy `min_quantity` units) of the eligible lines, get
    `gift_quantity` of the shop's SKU `gift_sku_id` as a ¥0 line."""

    gift_sku_id: int
    gift_quantity: int = 1
    threshold: Decimal | None = None
    min_quantity: int | None = None

    def reached(self, amount: Money, units: int) -> bool:
        if self.threshold is not None:
            return amount.amount >= self.threshold and units > 0
        return units >= self.min_quantity

    def describe(self, currency) -> tuple[str, str]:
        if self.threshold is not None:
            spend = format_price(self.threshold, currency)
            return f"满{spend}赠", f"Gift with {spend}"
        return f"买{self.min_quantity}件赠", f"Gift with {self.min_quantity} items"


def _gift(raw, currency, errors):
    which = _exactly_one(raw, ("threshold", "min_quantity"), errors)
    gift_sku_id = parse_int(raw.get("gift_sku_id"), min_value=1)
    if gift_sku_id is None:
        errors["rules.gift_sku_id"] = [_("Choose the gift SKU.")]
    gift_quantity = parse_count(raw.get("gift_quantity", 1), "rules.gift_quantity", errors, low=1, high=MAX_COUNT)
    if which is None:
        return None
    if which == "threshold":
        condition = {"threshold": parse_threshold(raw["threshold"], "rules.threshold", errors, currency=currency)}
    else:
        condition = {"min_quantity": parse_count(raw["min_quantity"], "rules.min_quantity", errors, low=1,
                                                 high=MAX_COUNT)}
    if errors:
        return None
    return GiftRule(gift_sku_id=gift_sku_id, gift_quantity=gift_quantity, **condition)


# --- add-on deals (加价购) ----------------------------------------------------------------

@dataclass(frozen=True)
class AddOn:
    """Once the other eligible lines reach `threshold`, up to `limit` units of SKU
    `sku_id` cost `price` each."""

    threshold: Decimal
    sku_id: int
    price: Decimal
    limit: int = 1

    def reached(self, amount: Money) -> bool:
        return amount.amount >= self.threshold and (self.threshold > 0 or amount.amount > 0)

    def describe(self, currency) -> tuple[str, str]:
        spend, price = format_price(self.threshold, currency), format_price(self.price, currency)
        return f"满{spend}加{price}换购", f"Add one for {price} over {spend}"


def _add_on(raw, currency, errors):
    threshold = parse_threshold(raw.get("threshold"), "rules.threshold", errors, currency=currency)
    sku_id = parse_int(raw.get("sku_id"), min_value=1)
    if sku_id is None:
        errors["rules.sku_id"] = [_("Choose the add-on SKU.")]
    price = parse_price(raw.get("price"), "rules.price", errors, currency=currency)
    limit = parse_count(raw.get("limit", 1), "rules.limit", errors, low=1, high=MAX_COUNT)
    if errors:
        return None
    return AddOn(threshold=threshold, sku_id=sku_id, price=price, limit=limit)


PARSERS = {
    Kind.TIME_DISCOUNT: _time_discount,
    Kind.SPEND_TIERS: _spend_tiers,
    Kind.CROSS_SHOP_TIERS: _spend_tiers,
    Kind.MULTI_BUY: _multi_buy,
    Kind.BUNDLE_PRICE: _bundle_price,
    Kind.GIFT: _gift,
    Kind.ADD_ON: _add_on,
}


def parse(kind, raw, *, currency):
    """The rule of a promotion of `kind` written as `raw`; raises ValidationFailed
    with a field per mistake (named `rules.<field>`)."""
    parser = PARSERS.get(kind)
    if parser is None:
        raise ValidationFailed(fields={"kind": [_("Choose a kind of promotion.")]})
    if not isinstance(raw, dict):
        raise ValidationFailed(fields={"rules": [_("Give the rules as an object.")]})
    errors = {}
    rule = parser(raw, currency, errors)
    if errors or rule is None:
        raise ValidationFailed(fields=errors or {"rules": [_("Check the rules.")]})
    return rule


def check_references(kind, rule, *, shop, scope, targets, errors) -> None:
    """The checks a rule needs the database for, run by services before any write:
    a gift or add-on SKU must be the shop's own; an add-on price must be below that
    SKU's price; an any-N price must be below what `count` of the dearest chosen
    items cost (checkable when the scope names products or SKUs). `targets` are the
    scope's rows (Product or Sku), or None when the scope is not a list."""
    def own_sku(sku_id):
        qs = Sku.objects.filter(pk=sku_id)
        return qs.filter(product__shop=shop).first() if shop is not None else None

    if kind == Kind.GIFT:
        if own_sku(rule.gift_sku_id) is None:
            errors["rules.gift_sku_id"] = [_("Choose a SKU of your own shop as the gift.")]
    elif kind == Kind.ADD_ON:
        sku = own_sku(rule.sku_id)
        if sku is None:
            errors["rules.sku_id"] = [_("Choose a SKU of your own shop for the add-on deal.")]
        elif rule.price >= sku.price:
            errors["rules.price"] = [_("The add-on price must be below the SKU's price of %(price)s.") % {
                "price": format_price(sku.price, shop.currency)}]
    elif kind == Kind.BUNDLE_PRICE and targets:
        if scope == "skus":
            prices = [t.price for t in targets if t.is_active]
        elif scope == "products":
            prices = list(Sku.objects.filter(product__in=[t for t in targets if isinstance(t, Product)],
                                             is_active=True).values_list("price", flat=True))
        else:
            return
        # the dearest set a shopper can form: `count` units of the dearest item
        dearest = max(prices, default=None)
        if dearest is not None and dearest * rule.count <= rule.price:
            errors["rules.price"] = [_("The set price must be below what %(n)s of the chosen items cost "
                                       "(at most %(price)s).") % {
                "n": rule.count, "price": format_price(dearest * rule.count, shop.currency if shop else "CNY")}]
