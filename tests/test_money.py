"""Money: Decimal with a currency, never a float, never mixed currencies, and
rounded half-up to the currency's minor unit only when quantize() is called."""

from decimal import Decimal

import pytest

from shopyard.core.money import CurrencyMismatch, Money, money_str


def test_money_keeps_exact_decimal_amount_and_upper_case_currency():
    # given / when
    m = Money("19.9950", "cny")
    # then
    assert m.amount == Decimal("19.9950")
    assert m.currency == "CNY"
    assert Money(Decimal("0.1"), "CNY") + Money("0.2", "CNY") == Money("0.3", "CNY")


@pytest.mark.parametrize("amount", [0.1, 1.0, float("nan")])
def test_money_refuses_float_amounts(amount):
    with pytest.raises(TypeError, match="float"):
        Money(amount, "CNY")


def test_money_refuses_float_factor_and_non_money_operands():
    price = Money("10.00", "CNY")
    with pytest.raises(TypeError):
        price * 1.5
    with pytest.raises(TypeError):
        1.5 * price
    with pytest.raises(TypeError):
        price * price
    with pytest.raises(TypeError):
        price + Decimal("1")
    with pytest.raises(TypeError):
        price + 1


@pytest.mark.parametrize("amount", ["abc", "", None, "1,5"])
def test_money_refuses_non_decimal_amounts(amount):
    with pytest.raises(ValueError, match="not a decimal amount"):
        Money(amount, "CNY")


def test_money_refuses_mixing_currencies():
    cny, usd = Money("1.00", "CNY"), Money("1.00", "USD")
    with pytest.raises(CurrencyMismatch, match="CNY != USD"):
        cny + usd
    with pytest.raises(CurrencyMismatch):
        cny - usd
    for compare in (lambda: cny < usd, lambda: cny <= usd, lambda: cny > usd, lambda: cny >= usd):
        with pytest.raises(CurrencyMismatch):
            compare()
    # and nothing was changed on the operands (they are immutable values)
    assert cny == Money("1.00", "CNY") and usd == Money("1.00", "USD")


def test_arithmetic_does_not_round_until_quantize():
    # given a unit price with four decimal places
    unit = Money("0.3350", "CNY")
    # when multiplied and summed
    line = unit * 3
    total = line + Money("0.0001", "CNY")
    # then the amounts are exact...
    assert line.amount == Decimal("1.0050")
    assert total.amount == Decimal("1.0051")
    # ...and only quantize() rounds, half-up (banker's rounding would give 1.00)
    assert line.quantize() == Money("1.01", "CNY")
    assert line.quantize().amount.as_tuple().exponent == -2
    assert (unit * 3).amount == Decimal("1.0050")  # quantize() returned a new value


@pytest.mark.parametrize(
    "amount, currency, rounded",
    [
        ("2.345", "CNY", "2.35"),
        ("2.3449", "CNY", "2.34"),
        ("2.355", "CNY", "2.36"),
        ("0.005", "CNY", "0.01"),
        ("0.0049", "CNY", "0.00"),
        ("-2.345", "CNY", "-2.35"),
        ("10", "CNY", "10.00"),
        ("1234.5", "JPY", "1235"),
        ("1234.4999", "JPY", "1234"),
        ("2.5", "JPY", "3"),
        ("0.5", "KRW", "1"),
        ("9.995", "USD", "10.00"),
    ],
)
def test_quantize_rounds_half_up_to_currency_precision(amount, currency, rounded):
    result = Money(amount, currency).quantize()
    assert result.amount == Decimal(rounded)
    assert str(result.amount) == rounded
    assert result.currency == currency


def test_storage_keeps_four_places_and_display_rounds():
    m = Money("12.34567", "CNY")
    assert m.to_storage() == Decimal("12.3457")
    assert str(m) == "12.35 CNY"
    assert str(Money("1234.5", "JPY")) == "1235 JPY"
    assert money_str(Decimal("59.9000"), "CNY") == "59.90"
    assert money_str(Decimal("500.0000"), "JPY") == "500"


def test_zero_and_comparisons_in_one_currency():
    zero = Money.zero("cny")
    assert zero == Money("0", "CNY")
    assert Money("1.00", "CNY") > zero
    assert Money("1.00", "CNY") >= Money("1", "CNY")
    assert Money("0.99", "CNY") < Money("1", "CNY")
    assert Money("1", "CNY") <= Money("1.00", "CNY")
    assert 2 * Money("1.25", "CNY") == Money("2.50", "CNY")
