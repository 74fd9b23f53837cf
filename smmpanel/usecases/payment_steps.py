"""What else happens, in the same transaction, when a payment completes or is refunded.

This is the extension point of the payments core: a step is an async function given the
transaction's repositories and the payment; it may post ledger entries (``post_entry``) and
write its own records. Steps run in list order inside the completing (or refunding)
transaction, after the top-up entry (or the refund entry) is posted, so they commit with it or
not at all: a step that raises rolls the whole completion back. Coupons and affiliate
commissions append their steps to these lists; nothing else needs to change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from smmpanel.db.payment_repositories import GatewayRecord, Payment
from smmpanel.db.repositories import Repositories
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.payments import deposit_bonus
from smmpanel.usecases import notifications
from smmpanel.usecases.affiliates import earn_commission, take_back_commission
from smmpanel.usecases.coupons import pay_deposit_coupon, take_back_deposit_coupon
from smmpanel.usecases.money_moves import post_entry


@dataclass(frozen=True, slots=True)
class Settled:
    """A payment that has just completed (or just been refunded) in this transaction.

    ``payment`` is as it was read before the change (``amount`` is what was credited);
    ``gateway`` is its gateway's current configuration.
    """

    payment: Payment
    gateway: GatewayRecord
    now: datetime


Step = Callable[[Repositories, Settled], Awaitable[None]]


async def pay_deposit_bonus(repos: Repositories, settled: Settled) -> None:
    """The gateway's bonus percent (from its bonus-from amount up), as its own ledger entry."""
    gateway, payment = settled.gateway, settled.payment
    bonus = deposit_bonus(payment.amount, gateway.bonus_percent, gateway.bonus_from)
    if bonus:
        note = f"bonus on payment #{payment.id} via {gateway.name}"
        await post_entry(
            repos, user_id=payment.user_id, kind=EntryKind.DEPOSIT_BONUS, amount=bonus, now=settled.now, note=note
        )
        await repos.payments.set_bonus(payment.id, bonus)


async def take_back_bonus(repos: Repositories, settled: Settled) -> None:
    """A refunded deposit takes its bonus back (refused with the refund if the balance is short)."""
    payment = settled.payment
    if payment.bonus:
        note = f"bonus taken back: payment #{payment.id} refunded"
        await post_entry(
            repos,
            user_id=payment.user_id,
            kind=EntryKind.DEPOSIT_BONUS,
            amount=-payment.bonus,
            now=settled.now,
            note=note,
        )


async def tell_customer(repos: Repositories, settled: Settled) -> None:
    """The customer's "payment credited" notification, queued with the credit (keep it the last step:
    the balance it tells includes every bonus the steps before it paid)."""
    payment = settled.payment
    balance = await repos.users.balance(payment.user_id)
    reference = payment.reference or f"#{payment.id}"
    await notifications.payment_credited(repos, payment.user_id, payment.amount, balance, reference, settled.now)


ON_COMPLETED: list[Step] = [pay_deposit_bonus, pay_deposit_coupon, earn_commission, tell_customer]
"""Run after a payment's top-up entry, in the completing transaction."""

ON_REFUNDED: list[Step] = [take_back_bonus, take_back_deposit_coupon, take_back_commission]
"""Run after a payment's refund entry, in the refunding transaction."""
