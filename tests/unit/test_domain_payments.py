"""Deposit arithmetic and the confirmation rules, exact to the last unit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from smmpanel.domain.payments import (
    Confirmation,
    PaymentStatus,
    PendingFacts,
    Verdict,
    check_deposit_amount,
    deposit_bonus,
    deposit_fee,
    from_cents,
    judge,
    to_cents,
)
from smmpanel.errors import Refused
from smmpanel.money import parse_amount

NOW = datetime(2026, 12, 3, 9, 0)


@pytest.mark.parametrize(
    ("amount", "cents"), [("0.01", 1), ("0.99", 99), ("1.01", 101), ("12345.67", 1234567), ("99999999.99", 9999999999)]
)
def test_whole_cents_convert_both_ways_exactly(amount: str, cents: int) -> None:
    assert to_cents(parse_amount(amount)) == cents
    assert from_cents(cents) == parse_amount(amount)


@pytest.mark.parametrize("amount", ["0.00001", "0.015", "10.00999"])
def test_an_amount_finer_than_a_cent_is_refused_not_rounded(amount: str) -> None:
    with pytest.raises(Refused, match="not a whole number of cents"):
        to_cents(parse_amount(amount))


def test_the_fee_rounds_up_to_a_whole_cent() -> None:
    assert deposit_fee(parse_amount("10"), parse_amount("2.5")) == parse_amount("0.25")
    assert deposit_fee(parse_amount("10.01"), parse_amount("2.5")) == parse_amount("0.26")  # 0.25025
    assert deposit_fee(parse_amount("10"), 0) == 0


def test_the_bonus_rounds_down_and_starts_at_its_threshold() -> None:
    assert deposit_bonus(parse_amount("33.33333"), parse_amount("10"), 0) == parse_amount("3.33333")
    assert deposit_bonus(parse_amount("0.00009"), parse_amount("10"), 0) == 0  # 0.000009 rounds down
    assert deposit_bonus(parse_amount("49.99999"), parse_amount("5"), parse_amount("50")) == 0
    assert deposit_bonus(parse_amount("50"), parse_amount("5"), parse_amount("50")) == parse_amount("2.5")


def test_limits() -> None:
    check_deposit_amount(parse_amount("5"), parse_amount("5"), parse_amount("5"))
    for amount in ("0", "4.99999", "5.00001"):
        with pytest.raises(Refused):
            check_deposit_amount(parse_amount(amount), parse_amount("5"), parse_amount("5"))


FACTS = PendingFacts(PaymentStatus.PENDING, parse_amount("10"), "USD", NOW + timedelta(hours=1))


def _confirmed(**fields: object) -> Confirmation:
    values: dict[str, object] = {"reference": "r", "amount": parse_amount("10"), "currency": "usd", "final": True}
    return Confirmation(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "confirmation", "payee", "verdict"),
    [
        (FACTS, _confirmed(), None, Verdict.CREDITED),
        (FACTS, _confirmed(payee="U123"), "U123", Verdict.CREDITED),
        (FACTS, _confirmed(payee="U999"), "U123", Verdict.WRONG_PAYEE),
        (FACTS, _confirmed(), "U123", Verdict.WRONG_PAYEE),
        (FACTS, _confirmed(amount=parse_amount("9.99999")), None, Verdict.WRONG_AMOUNT),
        (FACTS, _confirmed(currency="EUR", failed=True), None, Verdict.WRONG_CURRENCY),
        (FACTS, _confirmed(amount=0, failed=True), None, Verdict.FAILED),
        (FACTS, _confirmed(final=False), None, Verdict.NOT_FINAL),
        (PendingFacts(PaymentStatus.PENDING, parse_amount("10"), "USD", NOW), _confirmed(), None, Verdict.CREDITED),
        (
            PendingFacts(PaymentStatus.PENDING, 1, "USD", NOW - timedelta(seconds=1)),
            _confirmed(amount=1),
            None,
            Verdict.LATE,
        ),
        (
            PendingFacts(PaymentStatus.COMPLETED, parse_amount("10"), "USD", None),
            _confirmed(amount=5),
            None,
            Verdict.DUPLICATE,
        ),
        (PendingFacts(PaymentStatus.REFUNDED, parse_amount("10"), "USD", None), _confirmed(), None, Verdict.DUPLICATE),
        (PendingFacts(PaymentStatus.EXPIRED, parse_amount("10"), "USD", None), _confirmed(), None, Verdict.LATE),
        (PendingFacts(PaymentStatus.FAILED, parse_amount("10"), "USD", None), _confirmed(), None, Verdict.NOT_PENDING),
    ],
)
def test_judge(facts: PendingFacts, confirmation: Confirmation, payee: str | None, verdict: Verdict) -> None:
    assert judge(facts, confirmation, payee=payee, now=NOW) is verdict
