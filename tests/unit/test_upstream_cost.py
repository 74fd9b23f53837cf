"""A provider's cost in the panel's currency, the loss rules, and imported-rate rounding: exact, always up."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.domain.upstream_cost import (
    LossRule,
    Rounding,
    follow_cost,
    in_panel_currency,
    kept_markup_rate,
    order_cost,
    parse_exchange_rate,
    rounded_rate,
)
from smmpanel.money import parse_amount

D = parse_amount
amounts = st.integers(min_value=0, max_value=10**12)


@pytest.mark.parametrize(
    ("text", "canonical"), [("1.08", "1.08"), ("1.0800", "1.08"), ("0.0123456789", "0.0123456789"), ("2", "2")]
)
def test_exchange_rates_are_kept_as_exact_text(text: str, canonical: str) -> None:
    assert parse_exchange_rate(text) == canonical


@pytest.mark.parametrize("text", ["0", "1e3", "-1", "1.08x", "", "0.00000000001", "nan"])
def test_an_exchange_rate_that_is_not_exact_or_positive_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid exchange rate"):
        parse_exchange_rate(text)


def test_a_cost_converts_up_to_the_smallest_unit() -> None:
    assert in_panel_currency(D("0.12347"), "1.08") == D("0.13335")  # 0.1333476
    assert in_panel_currency(D("1"), "1") == D("1")
    assert order_cost(D("2.00"), 1000) == D("2.00")
    assert order_cost(D("0.00001"), 1) == 1  # a thousandth of a unit is still charged as one


@given(amounts, st.decimals(min_value="0.0000000001", max_value="1000", places=10))
def test_a_converted_cost_is_never_below_the_exact_product(amount: int, rate: object) -> None:
    text = parse_exchange_rate(format(rate, "f"))
    converted = in_panel_currency(amount, text)
    exact = amount * Fraction(text)
    assert exact <= converted < exact + 1


@given(amounts, st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_a_kept_markup_is_never_below_the_new_cost(rate: int, old_cost: int, new_cost: int) -> None:
    assert kept_markup_rate(rate, old_cost, new_cost) >= new_cost


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (LossRule.RAISE, (D("2.18182"), False, False)),
        (LossRule.DISABLE, (D("1.20"), False, True)),
        (LossRule.FLAG, (D("1.20"), True, False)),
    ],
)
def test_a_locked_rate_passed_by_its_cost_meets_its_loss_rule(rule: LossRule, expected: tuple[int, bool, bool]) -> None:
    followed = follow_cost(D("1.20"), locked=True, rule=rule, old_cost=D("1.10"), new_cost=D("2.00"))
    assert (followed.rate, followed.at_loss, followed.disable) == expected


def test_an_unlocked_rate_follows_its_cost_both_ways_keeping_its_markup() -> None:
    assert follow_cost(D("1.20"), locked=False, rule=LossRule.FLAG, old_cost=D("1"), new_cost=D("1.5")).rate == D(
        "1.80"
    )
    assert follow_cost(D("1.20"), locked=False, rule=LossRule.FLAG, old_cost=D("1"), new_cost=D("0.5")).rate == D(
        "0.60"
    )
    locked = follow_cost(D("1.20"), locked=True, rule=LossRule.RAISE, old_cost=D("1"), new_cost=D("0.5"))
    assert locked.rate == D("1.20")


@given(amounts, st.booleans(), st.sampled_from(list(LossRule)), st.none() | amounts, amounts)
def test_only_a_flagged_service_ever_ends_below_its_cost(
    rate: int, locked: bool, rule: LossRule, old_cost: int | None, new_cost: int
) -> None:
    followed = follow_cost(rate, locked=locked, rule=rule, old_cost=old_cost, new_cost=new_cost)
    assert followed.rate >= new_cost or followed.at_loss or followed.disable


@pytest.mark.parametrize(
    ("rate", "rounding", "expected"),
    [
        ("1.234", Rounding.CENTS, "1.24"),
        ("1.23", Rounding.CENTS, "1.23"),
        ("1.2341", Rounding.MILLS, "1.235"),
        ("1.23456", Rounding.EXACT, "1.23456"),
        ("1.234", Rounding.NINE, "1.29"),
        ("1.29", Rounding.NINE, "1.29"),
        ("1.30", Rounding.NINE, "1.39"),
        ("0", Rounding.NINE, "0.09"),
    ],
)
def test_imported_rates_round_up_as_the_operator_chose(rate: str, rounding: Rounding, expected: str) -> None:
    assert rounded_rate(D(rate), rounding) == D(expected)


@given(amounts, st.sampled_from(list(Rounding)))
def test_rounding_never_lowers_a_rate_and_adds_less_than_one_step(rate: int, rounding: Rounding) -> None:
    rounded = rounded_rate(rate, rounding)
    step = D("0.1") if rounding is Rounding.NINE else 10 ** (5 - int(rounding.value))
    assert rate <= rounded < rate + step
