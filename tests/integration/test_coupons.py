"""Coupons on both back ends: fixed amounts, expiry, usage limit, one use per customer, races.

Races run in threads, each with its own ``Database`` (as separate processes would), released
together by a barrier once connected, so only the redemptions themselves overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from smmpanel.clock import utcnow
from smmpanel.db.repositories import LedgerEntry
from smmpanel.domain import coupons as rules
from smmpanel.domain.coupons import CouponKind
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, coupons
from tests.support.cli import Cli
from tests.support.deposits import approve, bank, deposit, refund, refund_refused, submitted
from tests.support.panel import Panel
from tests.support.race import at_once


@pytest.fixture
def ops(database_url: str) -> Iterator[Panel]:
    panel = Panel(database_url)
    yield panel
    panel.close()


def user_id(ops: Panel, username: str) -> int:
    customers = ops.run(accounts.list_customers)
    return next(customer.id for customer in customers if customer.username == username)


def make(ops: Panel, code: str, kind: CouponKind, value: str, **terms: object) -> None:
    ops.run(lambda db: coupons.create_coupon(db, code, kind, parse_amount(value), **terms))  # type: ignore[arg-type]


def redeem(ops: Panel, username: str, code: str) -> coupons.Redeemed:
    uid = user_id(ops, username)
    return ops.run(lambda db: coupons.redeem_coupon(db, uid, code))


def refusal(ops: Panel, username: str, code: str) -> str:
    with pytest.raises(Refused) as refused:
        redeem(ops, username, code)
    return refused.value.message


def entries(ops: Panel, username: str) -> list[LedgerEntry]:
    return ops.run(lambda db: accounts.ledger_of(db, username, 100))[1]


def test_a_fixed_coupon_credits_its_amount_once_per_customer(ops: Panel) -> None:
    ops.customer("alice", balance="1.5")
    ops.customer("bob", balance="0")
    make(ops, "Welcome5", CouponKind.AMOUNT, "5.00001")

    done = redeem(ops, "alice", "  welcome5 ")  # any case, spaces around
    assert (done.code, done.kind, done.credited, done.balance) == ("WELCOME5", CouponKind.AMOUNT, 500001, 650001)
    assert ops.balance("alice") == "6.50001"
    (entry, _opening) = entries(ops, "alice")
    assert (entry.kind, entry.amount, entry.balance_after, entry.note) == ("coupon", 500001, 650001, "coupon WELCOME5")

    assert refusal(ops, "alice", "WELCOME5") == rules.ALREADY_USED
    assert redeem(ops, "bob", "welcome5").balance == 500001
    assert ops.balance("alice") == "6.50001" and ops.balance("bob") == "5.00001"
    (coupon,) = ops.run(coupons.list_coupons)
    assert coupon.uses == 2
    assert ops.ledger_ok()


def test_expiry_usage_limit_disabling_and_unknown_codes(ops: Panel) -> None:
    for name in ("alice", "bob", "carol"):
        ops.customer(name, balance="0")
    today = utcnow().date()
    make(ops, "TODAY", CouponKind.AMOUNT, "1", expires_on=today)
    make(ops, "YESTERDAY", CouponKind.AMOUNT, "1", expires_on=today - timedelta(days=1))
    make(ops, "TWICE", CouponKind.AMOUNT, "2", max_uses=2)
    make(ops, "STOPPED", CouponKind.AMOUNT, "3")
    ops.run(lambda db: coupons.disable_coupon(db, "stopped"))

    assert redeem(ops, "alice", "today").credited == parse_amount("1")  # valid through its last day
    assert refusal(ops, "alice", "yesterday") == rules.EXPIRED
    assert refusal(ops, "alice", "stopped") == rules.DISABLED
    assert refusal(ops, "alice", "NOPE") == rules.UNKNOWN
    assert refusal(ops, "alice", "   ") == "Enter a coupon code"
    redeem(ops, "alice", "twice")
    redeem(ops, "bob", "twice")
    assert refusal(ops, "carol", "twice") == rules.USED_UP
    assert [ops.balance(name) for name in ("alice", "bob", "carol")] == ["3.00", "2.00", "0.00"]
    assert ops.ledger_ok()


def test_creating_coupons_refuses_bad_terms_and_twins(ops: Panel) -> None:
    make(ops, "spring", CouponKind.PERCENT, "10")
    with pytest.raises(Refused, match="A coupon SPRING already exists"):
        make(ops, "Spring", CouponKind.AMOUNT, "1")
    with pytest.raises(Refused, match="at most 100"):
        make(ops, "HUGE", CouponKind.PERCENT, "150")
    with pytest.raises(Refused, match="3-32 letters"):
        make(ops, "no spaces", CouponKind.AMOUNT, "1")


def test_a_percent_coupon_waits_for_the_next_deposit_one_at_a_time(ops: Panel) -> None:
    ops.customer("alice", balance="0")
    make(ops, "TENPC", CouponKind.PERCENT, "10")
    make(ops, "FIVEPC", CouponKind.PERCENT, "5")
    done = redeem(ops, "alice", "tenpc")
    assert (done.kind, done.credited, done.percent) == (CouponKind.PERCENT, 0, parse_amount("10"))
    assert entries(ops, "alice") == []  # nothing credited yet
    uid = user_id(ops, "alice")
    waiting = ops.run(lambda db: coupons.waiting_coupon(db, uid))
    assert waiting is not None and (waiting.code, waiting.percent) == ("TENPC", parse_amount("10"))
    assert refusal(ops, "alice", "fivepc") == rules.PERCENT_WAITING


def test_a_percent_coupon_pays_on_the_next_deposit_only_and_a_refund_takes_it_back(ops: Panel) -> None:
    ops.customer("alice", balance="0")
    bank(ops, bonus_percent="10")
    make(ops, "TENPC", CouponKind.PERCENT, "10")
    make(ops, "FIVEPC", CouponKind.PERCENT, "5")
    redeem(ops, "alice", "tenpc")

    first = deposit(ops, "alice", "25.55555")
    # deposit, its 10 % gateway bonus, and 10 % of the deposit (2.555555 → 2.55555): never of the bonus
    assert [(e.kind, e.amount) for e in reversed(entries(ops, "alice"))] == [
        ("topup", 2555555),
        ("deposit_bonus", 255555),
        ("coupon", 255555),
    ]
    assert entries(ops, "alice")[0].note == f"coupon TENPC: 10.00% of payment #{first.id}"
    (redemption,) = ops.run(coupons.recent_redemptions)
    assert (redemption.status, redemption.amount, redemption.payment_id) == ("applied", 255555, first.id)
    uid = user_id(ops, "alice")
    assert ops.run(lambda db: coupons.waiting_coupon(db, uid)) is None

    deposit(ops, "alice", "10")  # the next deposit gets its bonus and no coupon
    assert [e.kind for e in entries(ops, "alice")[:2]] == ["deposit_bonus", "topup"]
    assert ops.balance("alice") == "41.66665"
    assert refusal(ops, "alice", "TENPC") == rules.ALREADY_USED

    redeem(ops, "alice", "fivepc")  # the first one paid: another percent coupon may wait now
    # the refund takes back 30.66665 (deposit, bonus, coupon): one unit short, all of it is refused
    ops.run(lambda db: accounts.fund(db, "alice", parse_amount("-11.00001"), "spent"))
    assert refund_refused(ops, first.id) == "refund refused: it would take alice's balance below zero"
    ops.run(lambda db: accounts.fund(db, "alice", parse_amount("0.00001"), "back"))
    refund(ops, first.id)
    assert [(e.kind, e.amount) for e in entries(ops, "alice")[:3]] == [
        ("coupon", -255555),
        ("deposit_bonus", -255555),
        ("payment_refund", -2555555),
    ]
    assert ops.balance("alice") == "0.00"
    assert refusal(ops, "alice", "TENPC") == rules.ALREADY_USED  # a refund does not hand the code out again
    assert ops.ledger_ok()


def _race(database_url: str, work: list[tuple[int, str]]) -> list[coupons.Redeemed | str]:
    """Redeem each (customer id, code) at the same moment."""
    return at_once(
        database_url, [lambda db, uid=uid, code=code: coupons.redeem_coupon(db, uid, code) for uid, code in work]
    )


def test_twenty_customers_race_for_a_one_use_coupon_and_one_wins(ops: Panel) -> None:
    names = [f"racer{index:02d}" for index in range(20)]
    for name in names:
        ops.customer(name, balance="0")
    make(ops, "ONLYONE", CouponKind.AMOUNT, "7.77777", max_uses=1)
    ids = [user_id(ops, name) for name in names]

    results = _race(ops.database_url, [(uid, "onlyone") for uid in ids])

    winners = [result for result in results if isinstance(result, coupons.Redeemed)]
    assert len(winners) == 1 and winners[0].credited == parse_amount("7.77777")
    assert sorted(result for result in results if isinstance(result, str)) == [rules.USED_UP] * 19
    assert sorted(ops.balance(name) for name in names) == ["0.00"] * 19 + ["7.77777"]
    (coupon,) = ops.run(coupons.list_coupons)
    assert coupon.uses == 1
    assert ops.ledger_ok()


def test_one_customer_redeeming_twenty_times_at_once_is_credited_once(ops: Panel) -> None:
    ops.customer("alice", balance="0.5")
    make(ops, "MANY", CouponKind.AMOUNT, "3.33333", max_uses=1000)
    uid = user_id(ops, "alice")

    results = _race(ops.database_url, [(uid, "MANY")] * 20)

    assert len([result for result in results if isinstance(result, coupons.Redeemed)]) == 1
    assert [result for result in results if isinstance(result, str)] == [rules.ALREADY_USED] * 19
    assert ops.balance("alice") == "3.83333"
    assert [entry.kind for entry in entries(ops, "alice")] == ["coupon", "topup"]
    (coupon,) = ops.run(coupons.list_coupons)
    assert coupon.uses == 1
    assert ops.ledger_ok()


def test_coupon_commands(database_url: str, tmp_path: Path) -> None:
    cli = Cli(database_url, tmp_path)
    made = cli.json("coupon", "add", "summer10", "--percent", "10", "--max-uses", "50", "--expires", "2030-06-30")
    assert made == {
        "code": "SUMMER10",
        "kind": "percent",
        "value": "10.00",
        "max_uses": 50,
        "uses": 0,
        "expires": "2030-06-30",
        "disabled": False,
    }
    assert cli.json("coupon", "add", "GIFT", "--amount", "2.5")["value"] == "2.50"
    assert "already exists" in cli.fails("coupon", "add", "gift", "--amount", "1")
    assert "YYYY-MM-DD" in cli.fails("coupon", "add", "LATER", "--amount", "1", "--expires", "30/06/2030")
    assert "not allowed with" in cli.fails("coupon", "add", "BOTH", "--amount", "1", "--percent", "2")
    assert cli.json("coupon", "disable", "Gift") == {"disabled": "GIFT"}
    assert "no coupon NOPE" in cli.fails("coupon", "disable", "nope")
    listed = cli.json("coupon", "list")["coupons"]
    assert [(row["code"], row["disabled"]) for row in listed] == [("GIFT", True), ("SUMMER10", False)]
    assert date.fromisoformat(listed[1]["expires"]) == date(2030, 6, 30)


def test_one_customer_redeeming_ten_percent_coupons_at_once_keeps_one_waiting(ops: Panel) -> None:
    ops.customer("alice", balance="0")
    codes = [f"PCT{index}" for index in range(10)]
    for code in codes:
        make(ops, code, CouponKind.PERCENT, "5")
    uid = user_id(ops, "alice")

    results = _race(ops.database_url, [(uid, code) for code in codes])

    assert len([result for result in results if isinstance(result, coupons.Redeemed)]) == 1
    assert [result for result in results if isinstance(result, str)] == [rules.PERCENT_WAITING] * 9
    assert sorted(coupon.uses for coupon in ops.run(coupons.list_coupons)) == [0] * 9 + [1]


def test_ten_deposits_completing_at_once_pay_a_percent_coupon_once(ops: Panel) -> None:
    ops.customer("alice", balance="0")
    bank(ops)
    make(ops, "TENPC", CouponKind.PERCENT, "10")
    redeem(ops, "alice", "TENPC")
    waiting = [submitted(ops, "alice", "10.00001").id for _ in range(10)]

    results = at_once(
        ops.database_url, [lambda db, payment_id=payment_id: approve(db, payment_id) for payment_id in waiting]
    )

    assert all(not isinstance(result, str) and result.status == "completed" for result in results)
    coupon_entries = [entry for entry in entries(ops, "alice") if entry.kind == "coupon"]
    assert [entry.amount for entry in coupon_entries] == [100000]  # 10 % of 10.00001, rounded down, once
    assert ops.balance("alice") == "101.0001"
    assert ops.ledger_ok()
