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
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

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


PARSERS = {
    Kind.TIME_DISCOUNT: _time_discount,
    Kind.SPEND_TIERS: _spend_tiers,
    Kind.CROSS_SHOP_TIERS: _spend_tiers,
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
