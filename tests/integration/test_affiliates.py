"""Affiliate commissions on both back ends, through real deposits (approved bank transfers).

Every amount is checked to the last of its five digits, and every test ends with ``ledger verify``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smmpanel.db.affiliate_repositories import Commission
from smmpanel.domain.affiliates import NOTHING_PENDING, CommissionKind, CommissionStatus
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, affiliates
from tests.support.cli import Cli
from tests.support.deposits import bank, deposit, refund
from tests.support.panel import Panel
from tests.support.race import at_once


@pytest.fixture
def ops(database_url: str) -> Iterator[Panel]:
    """A panel paying 7.5 % from a 1.00 minimum, a bank gateway with a 10 % bonus, and
    ``ref`` who referred ``kid`` (``solo`` signed up on their own)."""
    panel = Panel(database_url)
    panel.run(lambda db: affiliates.set_terms(db, parse_amount("7.5"), parse_amount("1")))
    bank(panel, bonus_percent="10")
    panel.customer("ref", balance="0")
    code = view(panel, "ref").code
    panel.run(lambda db: accounts.create_customer(db, "kid", referral_code=code))
    panel.run(lambda db: accounts.create_customer(db, "solo"))
    yield panel
    panel.close()


def uid(panel: Panel, username: str) -> int:
    return next(user.id for user in panel.run(accounts.list_customers) if user.username == username)


def view(panel: Panel, username: str) -> affiliates.AffiliateView:
    user_id = uid(panel, username)
    return panel.run(lambda db: affiliates.affiliate_view(db, user_id))


def pay_out(panel: Panel, username: str) -> int:
    user_id = uid(panel, username)
    return panel.run(lambda db: affiliates.pay_out(db, user_id))


def payout_refusal(panel: Panel, username: str) -> str:
    with pytest.raises(Refused) as refused:
        pay_out(panel, username)
    return refused.value.message


def commissions(panel: Panel) -> list[Commission]:
    return panel.run(affiliates.overview).commissions


def test_a_referrals_deposit_earns_the_exact_percent_of_the_deposit_not_of_its_bonus(ops: Panel) -> None:
    payment = deposit(ops, "kid", "33.33333")
    assert ops.balance("kid") == "36.66666"  # 33.33333 + its 10 % bonus 3.33333
    (commission,) = commissions(ops)
    # 7.5 % of 33.33333 is 2.4999997…, rounded down to the unit: the bonus earns nothing
    assert (commission.amount, commission.deposit, commission.percent) == (249999, 3333333, 750000)
    assert (commission.referrer, commission.referred, commission.payment_id) == ("ref", "kid", payment.id)
    assert (commission.kind, commission.status) == (CommissionKind.EARNED, CommissionStatus.PENDING)
    assert ops.balance("ref") == "0.00"  # a commission is not money until paid out
    mine = view(ops, "ref")
    assert (mine.referrals, mine.pending, mine.paid) == (1, 249999, 0)

    deposit(ops, "solo", "50")  # no referrer: no commission
    assert len(commissions(ops)) == 1
    assert ops.ledger_ok()


def test_the_percent_is_taken_when_the_deposit_completes_and_may_be_the_referrers_own(ops: Panel) -> None:
    deposit(ops, "kid", "10")
    ops.run(lambda db: affiliates.set_referrer_percent(db, "ref", parse_amount("12.34567")))
    deposit(ops, "kid", "10")
    ops.run(lambda db: affiliates.set_referrer_percent(db, "ref", None))
    ops.run(lambda db: affiliates.set_terms(db, 0, parse_amount("1")))  # the program off: nothing earned
    deposit(ops, "kid", "10")
    assert [(c.percent, c.amount) for c in commissions(ops)] == [(1234567, 123456), (750000, 75000)]
    assert view(ops, "ref").pending == 198456
    assert ops.ledger_ok()


def test_a_payout_below_the_minimum_is_refused_and_above_it_credits_once(ops: Panel) -> None:
    deposit(ops, "kid", "13.33332")  # 7.5 % → 0.99999
    assert payout_refusal(ops, "ref") == "The minimum payout is 1.00: 0.99999 is pending"
    assert ops.balance("ref") == "0.00"
    deposit(ops, "kid", "0.00014")  # 7.5 % → 0.0000105 → 0.00001
    assert pay_out(ops, "ref") == parse_amount("1")
    assert ops.balance("ref") == "1.00"
    assert payout_refusal(ops, "ref") == NOTHING_PENDING
    entries = ops.run(lambda db: accounts.ledger_of(db, "ref", 10))[1]
    assert [(e.kind, e.amount, e.balance_after) for e in entries] == [("affiliate_payout", 100000, 100000)]
    mine = view(ops, "ref")
    assert (mine.pending, mine.paid) == (0, 100000)
    assert {c.status for c in commissions(ops)} == {CommissionStatus.PAID}
    (payout,) = ops.run(affiliates.overview).payouts
    assert (payout.username, payout.amount) == ("ref", 100000)
    assert all(c.payout_id == payout.id for c in commissions(ops))
    assert ops.ledger_ok()


def test_twenty_payout_clicks_at_once_pay_once(ops: Panel) -> None:
    deposit(ops, "kid", "100")  # 7.5 → 7.50
    referrer = uid(ops, "ref")
    results = at_once(ops.database_url, [lambda db: affiliates.pay_out(db, referrer)] * 20)

    assert sorted(results, key=str) == sorted([parse_amount("7.5")] + [NOTHING_PENDING] * 19, key=str)
    assert ops.balance("ref") == "7.50"
    assert len(ops.run(affiliates.overview).payouts) == 1
    assert ops.ledger_ok()


def test_a_refunded_deposit_takes_back_its_unpaid_commission(ops: Panel) -> None:
    kept = deposit(ops, "kid", "20")  # 1.50
    refunded = deposit(ops, "kid", "40")  # 3.00
    assert view(ops, "ref").pending == 450000
    refund(ops, refunded.id)
    assert ops.balance("kid") == "22.00"  # the first deposit and its bonus remain
    by_payment = {c.payment_id: c for c in commissions(ops)}
    assert by_payment[refunded.id].status is CommissionStatus.REVERSED
    assert by_payment[kept.id].status is CommissionStatus.PENDING
    assert view(ops, "ref").pending == 150000
    assert pay_out(ops, "ref") == 150000
    assert ops.balance("ref") == "1.50"
    assert ops.ledger_ok()


def test_a_refund_after_the_payout_is_offset_against_future_commissions(ops: Panel) -> None:
    first = deposit(ops, "kid", "40")  # 3.00
    assert pay_out(ops, "ref") == 300000
    ops.run(lambda db: accounts.fund(db, "ref", parse_amount("-3"), "spent it all"))
    refund(ops, first.id)  # the referrer's balance is 0: it is not touched
    assert ops.balance("ref") == "0.00"
    clawback = commissions(ops)[0]
    assert (clawback.kind, clawback.status, clawback.amount) == (
        CommissionKind.CLAWBACK,
        CommissionStatus.PENDING,
        -300000,
    )
    mine = view(ops, "ref")
    assert (mine.pending, mine.paid) == (-300000, 300000)
    assert payout_refusal(ops, "ref") == NOTHING_PENDING

    deposit(ops, "kid", "60")  # 4.50 earned, 3.00 of it offsets the refund
    assert view(ops, "ref").pending == 150000
    assert pay_out(ops, "ref") == 150000
    assert ops.balance("ref") == "1.50"
    assert view(ops, "ref").pending == 0
    assert ops.ledger_ok()


def test_affiliate_commands(ops: Panel, tmp_path: Path) -> None:
    cli = Cli(ops.database_url, tmp_path)
    assert cli.json("affiliate", "terms") == {"percent": "7.50", "minimum_payout": "1.00"}
    assert cli.json("affiliate", "terms", "--percent", "5.25") == {"percent": "5.25", "minimum_payout": "1.00"}
    assert cli.json("affiliate", "terms", "--minimum", "20") == {"percent": "5.25", "minimum_payout": "20.00"}
    assert "between 0 and 100" in cli.fails("affiliate", "terms", "--percent", "101")
    assert "above zero" in cli.fails("affiliate", "terms", "--minimum", "0")
    assert cli.json("affiliate", "percent", "ref", "9") == {"username": "ref", "percent": "9.00"}
    assert view(ops, "ref").percent == parse_amount("9")
    assert cli.json("affiliate", "percent", "ref") == {"username": "ref", "percent": None}
    assert view(ops, "ref").percent == parse_amount("5.25")
    assert "no user named 'ghost'" in cli.fails("affiliate", "percent", "ghost", "3")
