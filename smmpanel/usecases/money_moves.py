"""The one place where a balance changes, always with the ledger entry that explains it."""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Any

from smmpanel.db.order_charges import AlertDue, Placed, Pricing, place_in_one_hop
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import messages as msg
from smmpanel.domain.ledger import EntryKind
from smmpanel.errors import Refused
from smmpanel.money import Units
from smmpanel.usecases import notifications

log = logging.getLogger(__name__)


async def post_entry(
    repos: Repositories,
    *,
    user_id: int,
    kind: EntryKind,
    amount: Units,
    now: datetime,
    order_id: int | None = None,
    note: str = "",
) -> Units:
    """Move ``amount`` (negative for a debit) and record why; refuse to go below zero.

    Must run inside a write unit of work: the balance and its entry commit together.
    """
    balance = await repos.users.change_balance(user_id, amount)
    if balance is None:
        raise Refused(msg.NOT_ENOUGH_FUNDS)
    if amount:
        await repos.ledger.append(
            user_id=user_id,
            kind=kind.value,
            amount=amount,
            balance_after=balance,
            order_id=order_id,
            note=note,
            now=now,
        )
        await notifications.balance_changed(repos, user_id, amount, balance, now)
    return balance


async def charge_new_order(repos: Repositories, values: dict[str, Any], now: datetime) -> int:
    """Insert the order ``values`` describe and charge ``values["charge"]`` for it, with its ledger
    entry (note ``order <id>``); refuse, writing nothing, when the balance is short. Return its id.

    ``post_entry``'s rules in one write (``OrderCharges.place``): on PostgreSQL one statement, so
    the customer's row is held for the shortest time, and a refused order draws no order id.
    """
    placed = _covered(await repos.order_charges.place(values, EntryKind.CHARGE.value, now))
    if placed.low_balance is not None:
        await _tell_low_balance(repos, values["user_id"], placed.balance, placed.low_balance, now)
    return placed.order_id


async def charge_priced_order(db: Database, user_id: int, service_id: int, price: Pricing, now: datetime) -> int:
    """``charge_new_order`` of the order ``price`` makes of the customer's terms for ``service_id``,
    read in the same write: a unit of work of its own. On SQLite all of it is one hop to the
    database's thread (``Database.write_in_one_hop``), unless the charge crosses the customer's
    low-balance alert: that order is placed statement by statement, with the alert, in one transaction.
    """
    if db.writes_in_one_hop:
        work = functools.partial(
            place_in_one_hop, user_id=user_id, service_id=service_id, price=price, kind=EntryKind.CHARGE.value, now=now
        )
        try:
            return _covered(await db.write_in_one_hop(work)).order_id
        except AlertDue:
            pass  # nothing was written: placed below
    async with db.write_each() as repos:
        return await charge_new_order(repos, price(await repos.order_charges.terms(user_id, service_id)), now)


def _covered(placed: Placed | None) -> Placed:
    if placed is None:
        raise Refused(msg.NOT_ENOUGH_FUNDS)
    return placed


async def _tell_low_balance(repos: Repositories, user_id: int, balance: Units, threshold: Units, now: datetime) -> None:
    """Queue the low-balance alert the new order's charge crossed.

    Inside a transaction a failure here rolls the order back with it, and the customer is told
    the order failed. When the order's statement has committed on its own (``write_each``), the
    order stands whatever happens next: a failure to queue the alert is logged, and the order's
    answer stays its id, so that a reseller's client never retries an order that was placed.
    """
    try:
        await notifications.low_balance_reached(repos, user_id, balance, threshold, now)
    except Exception:
        if not repos.commits_each_statement:
            raise
        log.exception("order placed, but its low-balance alert for customer %s could not be queued", user_id)
