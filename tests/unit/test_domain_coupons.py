"""Coupons and affiliates, the pure rules: codes, validity, percent arithmetic, payouts."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.domain import affiliates, coupons
from smmpanel.domain.coupons import Coupon, CouponKind
from smmpanel.errors import Refused
from smmpanel.money import parse_amount

TODAY = date(2026, 12, 3)


def coupon(**changes: object) -> Coupon:
    values: dict[str, object] = {
        "id": 1,
        "code": "SPRING",
        "kind": CouponKind.AMOUNT,
        "value": parse_amount("5"),
        "max_uses": None,
        "uses": 0,
        "expires_on": None,
        "disabled": False,
        "created_at": datetime(2026, 12, 1),
    }
    values.update(changes)
    return Coupon(**values)  # type: ignore[arg-type]


def test_codes_ignore_case_and_spaces() -> None:
    assert coupons.normalize_code("  spring-25 ") == "SPRING-25"
    assert coupons.check_new_code("Bonus_10") == "BONUS_10"


@pytest.mark.parametrize("code", ["", "ab", "x" * 33, "with space", "émoji", "semi;colon"])
def test_bad_codes_are_refused(code: str) -> None:
    with pytest.raises(Refused, match="3-32 letters"):
        coupons.check_new_code(code)


def test_terms_amount_percent_and_limit() -> None:
    coupons.check_new_terms(CouponKind.PERCENT, parse_amount("100"), 1)
    with pytest.raises(Refused, match="at most 100"):
        coupons.check_new_terms(CouponKind.PERCENT, parse_amount("100.00001"), None)
    with pytest.raises(Refused, match="above zero"):
        coupons.check_new_terms(CouponKind.AMOUNT, 0, None)
    with pytest.raises(Refused, match="at least 1"):
        coupons.check_new_terms(CouponKind.AMOUNT, 1, 0)
    coupons.check_new_terms(CouponKind.AMOUNT, parse_amount("1000"), None)  # an amount has no upper bound


def test_a_coupon_is_valid_through_its_expiry_day() -> None:
    assert coupons.redeemable_problem(coupon(expires_on=TODAY), TODAY) is None
    assert coupons.redeemable_problem(coupon(expires_on=date(2026, 12, 2)), TODAY) == coupons.EXPIRED


def test_used_up_and_disabled() -> None:
    assert coupons.redeemable_problem(coupon(max_uses=3, uses=2), TODAY) is None
    assert coupons.redeemable_problem(coupon(max_uses=3, uses=3), TODAY) == coupons.USED_UP
    assert coupons.redeemable_problem(coupon(disabled=True), TODAY) == coupons.DISABLED


def test_percent_of_rounds_down_to_the_unit() -> None:
    assert coupons.percent_of(parse_amount("10"), parse_amount("10")) == parse_amount("1")
    assert coupons.percent_of(parse_amount("0.00003"), parse_amount("50")) == 1  # 1.5 units → 1
    assert coupons.percent_of(parse_amount("12.34567"), parse_amount("2.5")) == 30864  # 0.3086417…
    assert coupons.percent_of(parse_amount("7"), 0) == 0
    with pytest.raises(ValueError):
        coupons.percent_of(-1, 1)


@given(st.integers(0, 10**18), st.integers(0, 100 * 10**5))
def test_percent_of_is_the_exact_share_rounded_down(amount: int, percent: int) -> None:
    exact = Fraction(amount) * Fraction(percent, 100 * 10**5)
    share = coupons.percent_of(amount, percent)
    assert share <= exact < share + 1
    assert 0 <= share <= amount


def test_referral_codes_look_like_codes() -> None:
    codes = {affiliates.new_referral_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(affiliates.looks_like_code(code) and len(code) == affiliates.CODE_LENGTH for code in codes)
    assert not affiliates.looks_like_code("x' OR 1=1")
    assert not affiliates.looks_like_code("short")


def test_commission_is_a_percent_of_the_deposit() -> None:
    assert affiliates.commission_on(parse_amount("33.33333"), parse_amount("7.5")) == parse_amount("2.49999")


def test_payout_needs_the_minimum_and_something_pending() -> None:
    minimum = parse_amount("10")
    affiliates.check_payout(minimum, minimum)
    with pytest.raises(Refused, match=r"minimum payout is 10.00: 9.99999 is pending"):
        affiliates.check_payout(minimum - 1, minimum)
    for pending in (0, -parse_amount("3")):
        with pytest.raises(Refused, match="no commission"):
            affiliates.check_payout(pending, 0)


def test_terms_bounds() -> None:
    affiliates.check_percent(0)
    affiliates.check_percent(parse_amount("100"))
    with pytest.raises(Refused):
        affiliates.check_percent(parse_amount("100.00001"))
    with pytest.raises(Refused):
        affiliates.check_minimum(0)
