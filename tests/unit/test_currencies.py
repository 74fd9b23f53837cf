"""Display conversion to the last digit: half-up to the currency's decimals, exact rates, no float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.domain.currencies import (
    DisplayCurrency,
    check_currency,
    converted_minor,
    converted_text,
    format_rate,
    parse_rate,
)
from smmpanel.money import parse_amount

EUR = DisplayCurrency("EUR", "€", 2, Decimal("0.92"))
JPY = DisplayCurrency("JPY", "¥", 0, Decimal("151.37"))
BTC = DisplayCurrency("BTC", "", 8, Decimal("0.000010543217"))


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("12.5", EUR, "≈ €11.50"),
        ("0.00544", EUR, "≈ €0.01"),  # 0.0050048 rounds up
        ("0.00543", EUR, "≈ €0.00"),  # 0.0049956 rounds down
        ("1.25", DisplayCurrency("XXX", "", 1, Decimal("1")), "≈ 1.3 XXX"),  # a tie goes up
        ("-1.25", DisplayCurrency("XXX", "", 1, Decimal("1")), "≈ -1.3 XXX"),  # and away from zero below it
        ("-12.5", EUR, "≈ -€11.50"),
        ("1", JPY, "≈ ¥151"),  # 151.37 rounds down at zero decimals
        ("0.01", JPY, "≈ ¥2"),  # 1.5137 rounds up
        ("3.30000", JPY, "≈ ¥500"),  # 499.521
        ("1234.56789", BTC, "≈ 0.01301632 BTC"),  # 0.01301631716550213 at 8 decimals
        ("0", EUR, "≈ €0.00"),
    ],
)
def test_conversion_rounds_half_up_to_the_currency_decimals(amount: str, currency: DisplayCurrency, text: str) -> None:
    assert converted_text(parse_amount(amount), currency) == text


def test_a_rate_with_many_digits_and_a_large_amount_lose_no_digit() -> None:
    # 9999999999999.99999 × 123456789012.123456789012 = 1234567890121234566655552.10987876543210988:
    # 42 significant digits, past the 28 of Decimal's default context (which would round the product first).
    units = parse_amount("9999999999999.99999")
    rate = Decimal("123456789012.123456789012")
    assert converted_minor(units, rate, 2) == 123456789012123456665555211
    assert converted_minor(units, rate, 0) == 1234567890121234566655552
    assert converted_minor(1, Decimal("0.5"), 5) == 1  # 0.000005 → 0.00001: half-up at the last digit
    assert converted_minor(1, Decimal("0.499999999999"), 5) == 0


@given(
    units=st.integers(min_value=-(10**18), max_value=10**18),
    whole=st.integers(min_value=0, max_value=10**12 - 1),
    frac=st.integers(min_value=0, max_value=10**12 - 1),
    decimals=st.integers(min_value=0, max_value=8),
)
def test_conversion_matches_exact_decimal_arithmetic(units: int, whole: int, frac: int, decimals: int) -> None:
    rate = parse_rate(f"{whole}.{frac:012d}") if whole or frac else Decimal(1)
    with localcontext() as exact:  # enough digits that nothing rounds before the quantize
        exact.prec = 80
        value = (Decimal(units).scaleb(-5) * rate).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        assert converted_minor(units, rate, decimals) == int(value.scaleb(decimals))


def test_rates_are_checked_and_written_without_trailing_zeros() -> None:
    assert parse_rate(" 0.920 ") == Decimal("0.92") and format_rate(parse_rate("0.920")) == "0.92"
    assert format_rate(parse_rate("150")) == "150" and format_rate(parse_rate("150.000")) == "150"
    assert format_rate(parse_rate("0.000000000001")) == "0.000000000001"
    assert parse_rate("999999999999.999999999999") == Decimal("999999999999.999999999999")  # the largest
    for bad in ("0", "0.000", "-1", "+1", "1e3", "1,5", "abc", "", "NaN", "Infinity", "1" * 13, "0." + "1" * 13, ".5"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_codes_symbols_and_decimals_are_checked() -> None:
    assert check_currency("EUR", "€", 2) is None and check_currency("JPY", "", 0) is None
    assert check_currency("eur", "€", 2) == "code must be three capital letters (ISO 4217), e.g. EUR"
    assert check_currency("EURO", "€", 2) is not None
    assert check_currency("EUR", "€" * 9, 2) == "symbol must be at most 8 printable characters"
    assert check_currency("EUR", "\x1b", 2) is not None
    assert check_currency("EUR", "€", 9) == "decimals must be between 0 and 8"
