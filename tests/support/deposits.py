"""Deposits as a customer makes them: a manual bank transfer submitted, then approved by the operator.

The manual gateway runs the very completion transaction every gateway does
(``payments.complete_payment`` and its ``ON_COMPLETED`` steps), without a fake service.
"""

from __future__ import annotations

from collections.abc import Awaitable
from itertools import count

from smmpanel.db.payment_repositories import Payment
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import payment_desk, payments
from smmpanel.usecases.audit import Audit
from smmpanel.usecases.gateways import GatewayChanges, add_gateway
from tests.support.panel import Panel

OPERATOR = Audit("op")
CONTEXT = payments.PaymentContext("http://127.0.0.1:1", "USD")
_references = count(1)


def bank(panel: Panel, *, bonus_percent: str = "0", name: str = "bank") -> None:
    """A manual transfer gateway, with a deposit bonus if asked."""
    changes = GatewayChanges(bonus_percent=parse_amount(bonus_percent))
    panel.run(lambda db: add_gateway(db, "manual", name, options={}, changes=changes))


def submitted(panel: Panel, username: str, amount: str, *, gateway: str = "bank") -> Payment:
    """``username`` says they transferred ``amount``: the payment, pending the operator's review."""

    async def work(db: Database) -> Payment:
        async with db.read() as repos:
            customer = await repos.users.by_username(username)
        assert customer is not None
        checkout = await payments.start_payment(
            db,
            CONTEXT,
            user_id=customer.id,
            gateway_name=gateway,
            amount=parse_amount(amount),
            payer_reference=f"transfer {next(_references)}",
        )
        return checkout.payment

    return panel.run(work)


def approve(db: Database, payment_id: int) -> Awaitable[Payment]:
    return payment_desk.approve(db, payment_id, audit=OPERATOR)


def deposit(panel: Panel, username: str, amount: str, *, gateway: str = "bank") -> Payment:
    """``username`` transfers ``amount`` and the operator approves it: the completed payment."""
    payment_id = submitted(panel, username, amount, gateway=gateway).id
    return panel.run(lambda db: approve(db, payment_id))


def refund(panel: Panel, payment_id: int) -> Payment:
    return panel.run(lambda db: payment_desk.refund(db, payment_id, "chargeback", audit=OPERATOR))


def refund_refused(panel: Panel, payment_id: int) -> str:
    try:
        refund(panel, payment_id)
    except Refused as refused:
        return refused.message
    raise AssertionError("the refund went through")
