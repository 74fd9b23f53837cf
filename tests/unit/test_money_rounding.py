"""Amounts written by others (providers) with any number of decimals: rounded once, exactly, the right way."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.money import SCALE, AmountError, format_amount, parse_amount, parse_amount_rounded


@pytest.mark.parametrize(
    ("text", "up", "half_up"),
    [
        ("0.1", 10_000, 10_000),
        ("0.90", 90_000, 90_000),
        ("100.84292", 10_084_292, 10_084_292),
        ("0.123451", 12_346, 12_345),
        ("0.123455", 12_346, 12_346),
        ("0.1234549999", 12_346, 12_345),
        ("0.000001", 1, 0),
        ("0.000005", 1, 1),
        ("0", 0, 0),
        ("0.00000", 0, 0),
        ("7", 700_000, 700_000),
        ("1.5e-05", 2, 2),
        ("1E+2", 10_000_000, 10_000_000),
        ("2.", 200_000, 200_000),
        (".5", 50_000, 50_000),
        (" 1.25 ", 125_000, 125_000),
        ("+1.25", 125_000, 125_000),
        ("-1.000001", -100_000, -100_000),
        ("-1.000005", -100_000, -100_001),
        ("1.00000000000000000000000000000001", 100_001, 100_000),  # beyond the 28 digits of the context
        ("1e-999999999", 1, 0),
        ("9999999999999.99999", 999_999_999_999_999_999, 999_999_999_999_999_999),
    ],
)
def test_examples(text: str, up: int, half_up: int) -> None:
    assert parse_amount_rounded(text, up=True) == up
    assert parse_amount_rounded(text, up=False) == half_up


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "abc",
        "1,5",
        "1_000",
        "0x10",
        "1e",
        "e5",
        ".",
        "--1",
        "NaN",
        "Infinity",
        "-inf",
        "١٢",  # Arabic-Indic digits: Decimal reads them, an amount must not
        "10000000000000",
        "1e13",
        "1e999999999",
        "9999999999999.999999",  # rounds to 10**13
    ],
)
def test_refuses(text: str) -> None:
    for up in (True, False):
        with pytest.raises(AmountError):
            parse_amount_rounded(text, up=up)


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1), st.booleans())
def test_exact_amounts_are_unchanged(units: int, up: bool) -> None:
    text = format_amount(units)
    assert parse_amount_rounded(text, up=up) == units == parse_amount(text)


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**12 - 1),
    st.integers(min_value=6, max_value=12),
)
def test_agrees_with_exact_fractions(whole: int, fraction: int, decimals: int) -> None:
    digits = str(fraction % 10**decimals).rjust(decimals, "0")
    text = f"{whole}.{digits}"
    scaled = Fraction(text) * SCALE
    assert parse_amount_rounded(text, up=True) == math.ceil(scaled)
    assert parse_amount_rounded(text, up=False) == math.floor(scaled + Fraction(1, 2))


@given(st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False))
def test_up_never_understates_and_half_up_is_nearest(value: object) -> None:
    text = str(value)
    exact = Fraction(text) * SCALE
    assert exact <= parse_amount_rounded(text, up=True) < exact + 1
    assert abs(parse_amount_rounded(text, up=False) - exact) <= Fraction(1, 2)
