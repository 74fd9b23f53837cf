"""Customer pricing: a custom rate wins, else the service rate less the discount, half-up to 5 digits."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.domain.pricing import (
    HUNDRED_PERCENT,
    adjusted_rate,
    check_discount,
    discounted_rate,
    effective_rate,
    imported_rate,
)
from smmpanel.money import SCALE, parse_amount

D = parse_amount


@pytest.mark.parametrize(
    ("rate", "discount", "expected"),
    [
        ("0.90", "0", "0.90"),
        ("0.90", "10", "0.81"),
        ("1", "100", "0"),
        ("0.00001", "50", "0.00001"),  # 0.000005 rounds half-up
        ("0.00001", "50.00001", "0"),  # 0.0000049999… rounds down
        ("0.00003", "50", "0.00002"),  # 0.000015 → 0.00002
        ("12.34567", "12.5", "10.80246"),  # 10.8024612…
        ("2.5", "33.33333", "1.66667"),  # 1.6666675 → 1.66667 (exact: 1.666667…)
    ],
)
def test_discounted_rate_rounds_half_up(rate: str, discount: str, expected: str) -> None:
    assert discounted_rate(D(rate), D(discount)) == D(expected)


def test_a_custom_rate_wins_over_the_discount() -> None:
    assert effective_rate(D("0.90"), discount=D("10"), custom=D("0.5")) == D("0.5")
    assert effective_rate(D("0.90"), discount=D("10"), custom=0) == 0
    assert effective_rate(D("0.90"), discount=D("10"), custom=None) == D("0.81")
    assert effective_rate(D("0.90"), discount=0, custom=None) == D("0.90")


def test_discounts_outside_the_range_are_clamped_and_refused() -> None:
    assert discounted_rate(D("1"), D("150")) == 0
    assert discounted_rate(D("1"), D("-5")) == D("1")
    assert check_discount(D("100")) is None
    assert check_discount(0) is None
    assert check_discount(D("100.00001")) is not None
    assert check_discount(D("-0.00001")) is not None


@given(rate=st.integers(0, 10**12), discount=st.integers(0, HUNDRED_PERCENT))
def test_discount_matches_decimal_half_up(rate: int, discount: int) -> None:
    exact = Decimal(rate) * (Decimal(HUNDRED_PERCENT) - discount) / Decimal(HUNDRED_PERCENT)
    assert discounted_rate(rate, discount) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert 0 <= discounted_rate(rate, discount) <= rate


@pytest.mark.parametrize(
    ("rate", "percent", "expected"),
    [("1", "10", "1.10"), ("1", "-10", "0.90"), ("0.33333", "10", "0.36666"), ("1", "-150", "0"), ("2", "0", "2")],
)
def test_bulk_adjustment(rate: str, percent: str, expected: str) -> None:
    assert adjusted_rate(D(rate), D(percent)) == D(expected)


def test_imported_rate_adds_percent_then_fixed() -> None:
    assert imported_rate(D("1"), percent=D("20"), fixed=D("0.05")) == D("1.25")
    assert imported_rate(D("0.33333"), percent=D("10"), fixed=0) == D("0.36667")  # the markup rounds up
    assert imported_rate(D("1"), percent=0, fixed=D("-2")) == 0
    assert HUNDRED_PERCENT == 100 * SCALE
