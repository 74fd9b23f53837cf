"""The payments core on both back ends: a confirmation credits once, and only when it is right.

Confirmations are handed to ``payments.confirm`` as a verified adapter would (the adapters'
own signature checks are tested with their gateways). Every test ends with ``ledger verify``.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest

from smmpanel.clock import utcnow
from smmpanel.db.payment_repositories import Payment, PaymentSearch
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.payments import Confirmation, PaymentStatus, Verdict
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, payment_desk, payments
from smmpanel.usecases.audit import Audit
from smmpanel.usecases.gateways import GatewayChanges, add_gateway
from tests.support.panel import Panel

OPERATOR = Audit("op")
CONTEXT = payments.PaymentContext("http://127.0.0.1:1", "USD")


@pytest.fixture
def books(database_url: str) -> Panel:
    panel = Panel(database_url)
    panel.customer("alice", "0")
    return panel


def gateway(panel: Panel, name: str = "bank", **changes: Any) -> int:
    return panel.run(lambda db: add_gateway(db, "manual", name, options={}, changes=GatewayChanges(**changes))).id


def pending(panel: Panel, gateway_id: int, amount: str, reference: str, *, expires_in: timedelta | None = None) -> int:
    """A pending gateway payment, as ``start_payment`` leaves one once the gateway gave its reference."""

    async def add(db: Database) -> int:
        now = utcnow()
        async with db.write() as repos:
            alice = await repos.users.by_username("alice")
            assert alice is not None
            values = {
                "user_id": alice.id,
                "gateway_id": gateway_id,
                "amount": parse_amount(amount),
                "currency": "USD",
                "status": "pending",
                "reference": reference,
                "expires_at": None if expires_in is None else now + expires_in,
            }
            return await repos.payments.add(values, now)

    return panel.run(add)


def confirm(panel: Panel, gateway_id: int, confirmation: Confirmation) -> Verdict:
    return panel.run(lambda db: payments.confirm(db, gateway_id, confirmation, payee=None))[0]


def paid(reference: str, amount: str, **fields: Any) -> Confirmation:
    return Confirmation(
        reference, parse_amount(amount), fields.pop("currency", "USD"), fields.pop("final", True), **fields
    )


def payment(panel: Panel, payment_id: int) -> Payment:
    return panel.run(lambda db: payment_desk.payment_detail(db, payment_id)).payment


def outcomes(panel: Panel, payment_id: int) -> list[str]:
    return [event.outcome for event in panel.run(lambda db: payment_desk.payment_detail(db, payment_id)).events]


def kinds_and_amounts(panel: Panel) -> list[tuple[str, int]]:
    _, entries = panel.run(lambda db: accounts.ledger_of(db, "alice", 100))
    return [(entry.kind, entry.amount) for entry in reversed(entries)]


def test_a_confirmation_credits_once_and_a_replay_is_recorded(books: Panel) -> None:
    gateway_id = gateway(books)
    payment_id = pending(books, gateway_id, "12.34567", "ref-1")
    assert confirm(books, gateway_id, paid("ref-1", "12.34567", raw={"id": "ref-1"})) is Verdict.CREDITED
    assert confirm(books, gateway_id, paid("ref-1", "12.34567")) is Verdict.DUPLICATE
    assert books.balance("alice") == "12.34567"
    done = payment(books, payment_id)
    assert (done.status, done.amount_confirmed, done.confirmation) == ("completed", 1234567, {"id": "ref-1"})
    assert outcomes(books, payment_id) == ["credited", "duplicate"]
    assert kinds_and_amounts(books) == [("topup", 1234567)]
    assert books.ledger_ok()


def test_the_bonus_is_its_own_entry_from_its_threshold_up(books: Panel) -> None:
    gateway_id = gateway(books, bonus_percent=parse_amount("7.5"), bonus_from=parse_amount("50"))
    small, large = pending(books, gateway_id, "49.99", "a"), pending(books, gateway_id, "100.01", "b")
    assert confirm(books, gateway_id, paid("a", "49.99")) is Verdict.CREDITED
    assert confirm(books, gateway_id, paid("b", "100.01")) is Verdict.CREDITED
    # 7.5 % of 100.01 is 7.50075: exact to the last unit.
    assert kinds_and_amounts(books) == [("topup", 4999000), ("topup", 10001000), ("deposit_bonus", 750075)]
    assert (payment(books, small).bonus, payment(books, large).bonus) == (0, 750075)
    assert books.balance("alice") == "157.50075"
    assert books.ledger_ok()


@pytest.mark.parametrize(
    ("confirmation", "verdict", "status"),
    [
        (paid("r", "10.01"), Verdict.WRONG_AMOUNT, "pending"),
        (paid("r", "10.00", currency="EUR"), Verdict.WRONG_CURRENCY, "pending"),
        (paid("r", "10.00", final=False), Verdict.NOT_FINAL, "pending"),
        (paid("r", "10.00", failed=True), Verdict.FAILED, "failed"),
        (paid("other", "10.00"), Verdict.UNKNOWN_REFERENCE, "pending"),
    ],
)
def test_what_does_not_match_credits_nothing_and_is_recorded(
    books: Panel, confirmation: Confirmation, verdict: Verdict, status: str
) -> None:
    gateway_id = gateway(books)
    payment_id = pending(books, gateway_id, "10", "r")
    assert confirm(books, gateway_id, confirmation) is verdict
    assert payment(books, payment_id).status == status
    assert books.balance("alice") == "0.00"
    events = books.run(lambda db: _all_events(db))
    assert [(event.outcome, event.reference) for event in events] == [(verdict.value, confirmation.reference)]
    assert books.ledger_ok()


async def _all_events(db: Database) -> list[Any]:
    async with db.read() as repos:
        return await repos.payment_events.page(gateway_id=None, before=None, after=None, limit=10)


def test_a_late_confirmation_expires_the_payment_and_a_failed_one_stays_failed(books: Panel) -> None:
    gateway_id = gateway(books)
    late = pending(books, gateway_id, "5", "late", expires_in=timedelta(seconds=-1))
    assert confirm(books, gateway_id, paid("late", "5")) is Verdict.LATE
    assert confirm(books, gateway_id, paid("late", "5")) is Verdict.LATE
    assert payment(books, late).status == "expired"
    gone = pending(books, gateway_id, "5", "gone")
    assert confirm(books, gateway_id, paid("gone", "5", failed=True)) is Verdict.FAILED
    assert confirm(books, gateway_id, paid("gone", "5")) is Verdict.NOT_PENDING  # out of order: credits nothing
    assert (payment(books, gone).status, payment(books, gone).note) == ("failed", payments.FAILED_NOTE)
    assert books.balance("alice") == "0.00"
    assert books.ledger_ok()


def test_fifty_concurrent_deliveries_of_one_confirmation_credit_once(books: Panel) -> None:
    gateway_id = gateway(books, bonus_percent=parse_amount("10"))
    payment_id = pending(books, gateway_id, "3.21", "race")
    threads, per_thread = 5, 10
    barrier = threading.Barrier(threads)
    verdicts: list[Verdict] = []
    errors: list[BaseException] = []

    def worker() -> None:
        async def deliver() -> list[Verdict]:
            db = Database(books.database_url, pool_size=per_thread // 2, cache_seconds=0)
            try:
                async with db.read():
                    pass
                await asyncio.to_thread(barrier.wait, 60)
                results = await asyncio.gather(
                    *(payments.confirm(db, gateway_id, paid("race", "3.21"), payee=None) for _ in range(per_thread))
                )
                return [verdict for verdict, _ in results]
            finally:
                await db.close()

        try:
            verdicts.extend(asyncio.run(deliver()))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(verdicts) == sorted([Verdict.CREDITED] + [Verdict.DUPLICATE] * 49)
    assert kinds_and_amounts(books) == [("topup", 321000), ("deposit_bonus", 32100)]
    assert books.balance("alice") == "3.531"
    assert outcomes(books, payment_id).count("credited") == 1
    assert len(outcomes(books, payment_id)) == 50
    assert books.ledger_ok()


def transfer(panel: Panel, amount: str, reference: str, gateway_name: str = "bank") -> Payment:
    async def submit(db: Database) -> Payment:
        async with db.read() as repos:
            alice = await repos.users.by_username("alice")
        assert alice is not None
        checkout = await payments.start_payment(
            db,
            CONTEXT,
            user_id=alice.id,
            gateway_name=gateway_name,
            amount=parse_amount(amount),
            payer_reference=reference,
        )
        return checkout.payment

    return panel.run(submit)


def test_a_manual_transfer_waits_for_review_then_credits_once(books: Panel) -> None:
    gateway(books, min_amount=parse_amount("5"), max_amount=parse_amount("500"))
    for amount, message in (
        ("4.99", "The minimum for this method is 5.00"),
        ("500.01", "The maximum for this method is 500.00"),
    ):
        with pytest.raises(Refused, match=message):
            transfer(books, amount, "too")
    submitted = transfer(books, "20.5", "  BANK   123 ")
    assert (submitted.status, submitted.reference, submitted.expires_at) == ("pending", "BANK 123", None)
    with pytest.raises(Refused, match="already submitted"):
        transfer(books, "20.5", "BANK 123")
    review = books.run(
        lambda db: payment_desk.payments_page(
            db, PaymentSearch(status=PaymentStatus.PENDING, kinds=payment_desk.review_kinds())
        )
    )
    assert [p.id for p in review.items] == [submitted.id]
    approved = books.run(lambda db: payment_desk.approve(db, submitted.id, audit=OPERATOR))
    assert approved.status == "completed"
    with pytest.raises(Refused, match="not pending"):
        books.run(lambda db: payment_desk.approve(db, submitted.id, audit=OPERATOR))
    assert books.balance("alice") == "20.50"
    assert outcomes(books, submitted.id) == ["approved"]
    assert books.ledger_ok()


def test_a_rejected_transfer_shows_its_reason_and_credits_nothing(books: Panel) -> None:
    gateway(books)
    submitted = transfer(books, "9", "T-9")
    with pytest.raises(Refused, match="Say why"):
        books.run(lambda db: payment_desk.reject(db, submitted.id, "  ", audit=OPERATOR))
    rejected = books.run(lambda db: payment_desk.reject(db, submitted.id, "No such transfer arrived", audit=OPERATOR))
    assert (rejected.status, rejected.note) == ("failed", "No such transfer arrived")
    with pytest.raises(Refused, match="not pending"):
        books.run(lambda db: payment_desk.approve(db, submitted.id, audit=OPERATOR))
    assert books.balance("alice") == "0.00"
    assert books.ledger_ok()


def test_a_refund_takes_back_deposit_and_bonus_unless_the_balance_is_short(books: Panel) -> None:
    gateway_id = gateway(books, bonus_percent=parse_amount("10"))
    payment_id = pending(books, gateway_id, "10", "r")
    confirm(books, gateway_id, paid("r", "10"))
    books.run(lambda db: accounts.fund(db, "alice", parse_amount("-0.00001"), "spent"))
    with pytest.raises(Refused, match="below zero"):
        books.run(lambda db: payment_desk.refund(db, payment_id, "chargeback", audit=OPERATOR))
    assert payment(books, payment_id).status == "completed"
    assert books.balance("alice") == "10.99999"
    books.run(lambda db: accounts.fund(db, "alice", parse_amount("0.00001"), "back"))
    refunded = books.run(lambda db: payment_desk.refund(db, payment_id, "chargeback", audit=OPERATOR))
    assert (refunded.status, refunded.note) == ("refunded", "chargeback")
    assert books.balance("alice") == "0.00"
    assert kinds_and_amounts(books)[-2:] == [("payment_refund", -1000000), ("deposit_bonus", -100000)]
    assert confirm(books, gateway_id, paid("r", "10")) is Verdict.DUPLICATE
    with pytest.raises(Refused, match="only a completed payment"):
        books.run(lambda db: payment_desk.refund(db, payment_id, "again", audit=OPERATOR))
    assert books.ledger_ok()
