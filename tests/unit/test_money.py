"""Exact money: parsing, formatting, charges and refunds (API contract, "Money")."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.money import (
    AmountError,
    format_amount,
    parse_amount,
    per_thousand_charge,
    proportional_refund,
)

# The largest amount parse_amount accepts: 13 whole digits and 5 decimals.
MAX_UNITS = 10**18 - 1

amounts = st.integers(min_value=0, max_value=10**12)
quantities = st.integers(min_value=1, max_value=10**7)


# --- parse_amount / format_amount -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units", "written"),
    [
        ("0.8", 80_000, "0.80"),
        ("47.5", 4_750_000, "47.50"),
        ("100.84292", 10_084_292, "100.84292"),
        ("0.27819", 27_819, "0.27819"),
        ("0.90", 90_000, "0.90"),
        ("10", 1_000_000, "10.00"),
        ("0", 0, "0.00"),
        ("0.00001", 1, "0.00001"),
        ("1.10000", 110_000, "1.10"),
        ("+2.5", 250_000, "2.50"),
        ("-2.5", -250_000, "-2.50"),
        ("-0.00001", -1, "-0.00001"),
        ("  12.5\n", 1_250_000, "12.50"),
        ("9999999999999.99999", MAX_UNITS, "9999999999999.99999"),
    ],
)
def test_parse_and_format_contract_examples(text: str, units: int, written: str) -> None:
    assert parse_amount(text) == units
    assert format_amount(units) == written


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1.234567",  # six decimals
        "0.000001",
        "1e5",
        "1E-2",
        "1.5e0",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "1.",
        ".5",
        "-",
        "+",
        "1,5",
        "1 000",
        "1_000",
        "0x10",
        "12abc",
        "$1",
        "1.2.3",
        "--1",
        "10000000000000",  # 14 whole digits: too large
        "99999999999999.5",
        "١٢",  # Arabic-Indic digits: not an ASCII amount
        "１２.５",  # fullwidth digits
    ],
)
def test_parse_amount_refuses_junk(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_amount_error_is_a_value_error_naming_the_text() -> None:
    with pytest.raises(ValueError, match="1e5"):
        parse_amount("1e5")


@given(st.integers(min_value=-MAX_UNITS, max_value=MAX_UNITS))
def test_format_then_parse_round_trips(units: int) -> None:
    written = format_amount(units)
    assert parse_amount(written) == units
    _, _, decimals = written.partition(".")
    assert 2 <= len(decimals) <= 5
    assert len(decimals) == 2 or not decimals.endswith("0")
    assert Fraction(Decimal(written)) == Fraction(units, 100_000)


@given(st.integers())
def test_format_is_exact_for_any_int(units: int) -> None:
    written = format_amount(units)
    assert Fraction(Decimal(written)) == Fraction(units, 100_000)
    assert "e" not in written.lower()


# --- per_thousand_charge ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "quantity", "charge"),
    [
        ("0.90", 1000, "0.90"),
        ("0.90", 1, "0.0009"),
        ("0.90", 50, "0.045"),
        ("1.23456", 1, "0.00123"),  # 0.00123456 → down
        ("1.23456", 3, "0.0037"),  # 0.00370368 → 0.00370
        ("0.005", 1, "0.00001"),  # exactly half a unit → up
        ("0.00499", 1, "0.00"),  # just below half → down
        ("0.00001", 499, "0.00"),  # 0.00000499
        ("0.00001", 500, "0.00001"),  # 0.000005, half → up
        ("0.00001", 1500, "0.00002"),  # 0.000015, half → up (not to even)
        ("0.00001", 2500, "0.00003"),  # 0.000025, half → up (not to even)
        ("12.00", 3, "0.036"),
        ("2.50", 4000, "10.00"),
        ("0", 10_000, "0.00"),
        ("5", 0, "0.00"),
    ],
)
def test_per_thousand_charge_exact_cases(rate: str, quantity: int, charge: str) -> None:
    assert format_amount(per_thousand_charge(parse_amount(rate), quantity)) == format_amount(parse_amount(charge))


@pytest.mark.parametrize(("rate", "quantity"), [(-1, 1), (1, -1)])
def test_per_thousand_charge_refuses_negatives(rate: int, quantity: int) -> None:
    with pytest.raises(ValueError):
        per_thousand_charge(rate, quantity)


@given(amounts, st.integers(min_value=0, max_value=10**7))
def test_charge_is_the_exact_product_rounded_half_up(rate: int, quantity: int) -> None:
    exact = Decimal(rate * quantity).scaleb(-8)  # exact: no rounding in the scaling
    expected = exact.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)
    charge = per_thousand_charge(rate, quantity)
    assert Decimal(format_amount(charge)) == expected
    # the same figure through Fraction: never more than half a unit away
    assert abs(Fraction(charge) - Fraction(rate * quantity, 1000)) <= Fraction(1, 2)


# --- proportional_refund ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("charge", "remains", "quantity", "refund"),
    [
        (90_000, 500, 1000, 45_000),
        (123_457, 4, 1000, 493),  # 493.828 → down, not 494
        (100_000, 1, 3, 33_333),  # 33,333.33 → down
        (100_000, 2, 3, 66_666),  # 66,666.67 → down, not 66,667
        (1, 999, 1000, 0),
        (90_000, 0, 1000, 0),
        (90_000, 1000, 1000, 90_000),
        (90_000, 5000, 1000, 90_000),  # remains above quantity clamps to the whole charge
        (90_000, -5, 1000, 0),  # negative remains clamps to nothing
        (0, 10, 100, 0),
    ],
)
def test_proportional_refund_exact_cases(charge: int, remains: int, quantity: int, refund: int) -> None:
    assert proportional_refund(charge, remains, quantity) == refund


@pytest.mark.parametrize("quantity", [0, -1])
def test_proportional_refund_needs_a_positive_quantity(quantity: int) -> None:
    with pytest.raises(ValueError):
        proportional_refund(100, 0, quantity)


@given(amounts, st.integers(min_value=-(10**7), max_value=2 * 10**7), quantities)
def test_refund_is_the_floor_and_never_exceeds_the_charge(charge: int, remains: int, quantity: int) -> None:
    refund = proportional_refund(charge, remains, quantity)
    clamped = max(0, min(remains, quantity))
    assert refund == math.floor(Fraction(charge * clamped, quantity))
    assert 0 <= refund <= charge


@given(amounts, quantities)
def test_refund_of_everything_is_the_whole_charge(charge: int, quantity: int) -> None:
    assert proportional_refund(charge, quantity, quantity) == charge
    assert proportional_refund(charge, 0, quantity) == 0


@given(st.integers(min_value=0, max_value=10**9), quantities, st.data())
def test_refund_of_a_real_charge_is_bounded(rate: int, quantity: int, data: st.DataObject) -> None:
    charge = per_thousand_charge(rate, quantity)
    remains = data.draw(st.integers(min_value=0, max_value=quantity))
    refund = proportional_refund(charge, remains, quantity)
    assert 0 <= refund <= charge
    assert refund <= Fraction(charge * remains, quantity)
    assert Fraction(charge * remains, quantity) - refund < 1
