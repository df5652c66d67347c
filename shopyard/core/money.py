"""A small Money value: a Decimal amount with an ISO currency.

Amounts keep four decimal places in storage; they are rounded to the
currency's minor unit (ROUND_HALF_UP) only where the rule says so: at order
line totals and at payment capture. Mixing currencies raises, so a bug
cannot silently add yuan to dollars.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY_PRECISION = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "JPY": 0, "KRW": 0, "GBP": 2}
STORAGE_PLACES = Decimal("0.0001")


class CurrencyMismatch(ValueError):
    pass


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Money never takes a float; pass a str or Decimal")
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        # the pricing pipeline makes thousands of these per cart: skip the work when already clean
        if type(self.amount) is not Decimal:
            object.__setattr__(self, "amount", to_decimal(self.amount))
        if not self.currency.isupper():
            object.__setattr__(self, "currency", self.currency.upper())

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0"), currency)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("Money only combines with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} != {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor) -> Money:
        if isinstance(factor, (Money, float)):
            raise TypeError("Money multiplies by an int or Decimal only")
        return Money(self.amount * Decimal(factor), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def quantize(self) -> Money:
        """Round to the currency's minor unit (the one defined rounding point)."""
        places = CURRENCY_PRECISION.get(self.currency, 2)
        exp = Decimal(1).scaleb(-places)
        return Money(self.amount.quantize(exp, rounding=ROUND_HALF_UP), self.currency)

    def to_storage(self) -> Decimal:
        return self.amount.quantize(STORAGE_PLACES, rounding=ROUND_HALF_UP)

    def __str__(self) -> str:
        return f"{self.quantize().amount} {self.currency}"


def money_str(amount: Decimal, currency: str) -> str:
    """Amount as the string clients see: rounded to the currency's precision."""
    return str(Money(amount, currency).quantize().amount)


CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥", "KRW": "₩"}


def format_price(amount, currency: str) -> str:
    """A price as people read it on pages: `¥59.90`, or `59.90 XYZ` without a known symbol."""
    value = money_str(amount, currency)
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency}"


def allocate(total: Money, weights: list[Money]) -> list[Money]:
    """Split `total` over `weights` pro rata, in the currency's minor unit, so the
    shares add up to `total` exactly (the written rounding rule for discounts):

    1. every share is first rounded *down* to the minor unit;
    2. the minor units left over go one each to the shares with the largest
       remainders, ties to the earlier weight;
    3. no share exceeds its weight when `total` does not exceed their sum.

    Weights of zero get nothing; with all weights zero nothing is allocated."""
    places = CURRENCY_PRECISION.get(total.currency, 2)
    unit = Decimal(1).scaleb(-places)
    whole = sum((w.amount for w in weights), Decimal(0))
    if whole <= 0 or total.amount <= 0:
        return [Money.zero(total.currency) for _w in weights]
    target = total.quantize().amount
    raw = [target * w.amount / whole for w in weights]
    shares = [r.quantize(unit, rounding=ROUND_DOWN) for r in raw]
    left = int(((target - sum(shares, Decimal(0))) / unit).to_integral_value())
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - shares[i]), i))
    while left > 0:
        placed = left
        for i in order:
            if left > 0 and shares[i] + unit <= weights[i].amount:
                shares[i] += unit
                left -= 1
        if placed == left:  # every share is full: `total` was more than the weights
            break
    return [Money(s, total.currency) for s in shares]


def explain_price(total: Money, discounts) -> str:
    """A line's price as shoppers read it: "¥199.00 − ¥20.00 满200减20 − ¥10.00 店铺券"
    (`discounts`: (Money, label) pairs in the order they were taken off)."""
    parts = [format_price(total.amount, total.currency)]
    parts += [f"− {format_price(amount.amount, amount.currency)} {label}" for amount, label in discounts]
    return " ".join(parts)
