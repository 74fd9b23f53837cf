"""A new order, its charge and the charge's ledger entry: the write of every ``add`` (issue 17).

On PostgreSQL it is one statement: a data-modifying CTE debits the customer's row (only if the
balance covers the charge), inserts the order from the debit's row and the ledger entry from
both. A refused debit returns no row, so nothing is inserted and no ``orders`` id is drawn from
the sequence; the customer's row stays locked for one round trip and the commit, instead of
three statements and the commit. SQLite has no data-modifying CTE, and one writer at a time:
there the same three statements run in turn, the debit first, so that a refused order inserts
nothing either.

On SQLite an ordinary order (``place_in_one_hop``) runs the same statements, from the customer's
terms to the COMMIT, on a pooled connection's driver in one hop to its thread
(``Database.write_in_one_hop``): through SQLAlchemy the same work took six hops, six statements'
worth of compiling and row processing and a unit of work's set-up, 2 ms of CPU (issue #16 item 1).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.catalog_repositories import CUSTOM_RATE, FORWARDED, PriceTerms
from smmpanel.db.notify_repositories import LOW_BALANCE_CROSSED, UNVERIFIED_REFUSED
from smmpanel.db.sqlite_driver import RawStatement
from smmpanel.db.tables import ledger_entries, notification_prefs, orders, users
from smmpanel.money import Units

ORDER_COLUMNS = (
    *("dispatch", "next_attempt_at", "user_id", "service_id", "link", "quantity", "runs", "interval"),
    *("details", "charge", "status", "remains", "created_at", "updated_at"),
)
"""What ``place_order`` gives a new order; every other column takes its default."""


def _param(column: str) -> sa.BindParameter[Any]:
    """``new_<column>``: a bind parameter named like a column of ``users`` would also be SET by the debit."""
    return sa.bindparam(f"new_{column}", type_=orders.c[column].type)


def _one_statement() -> sa.Select[int, Units, Units | None]:
    debit = (
        users.update()
        .where(users.c.id == _param("user_id"), users.c.balance - _param("charge") >= 0)
        .values(balance=users.c.balance - _param("charge"))
        .returning(users.c.balance)
        .cte("debit")
    )
    placed = (
        orders.insert()
        .from_select(list(ORDER_COLUMNS), sa.select(*(_param(c) for c in ORDER_COLUMNS)).select_from(debit))
        .returning(orders.c.id)
        .cte("placed")
    )
    entry = ledger_entries.insert().from_select(
        ["user_id", "kind", "amount", "balance_after", "order_id", "note", "created_at"],
        sa.select(
            _param("user_id"),
            sa.bindparam("new_kind", type_=ledger_entries.c.kind.type),
            -_param("charge"),
            debit.c.balance,
            placed.c.id,
            sa.literal_column("'order '", sa.Text) + sa.cast(placed.c.id, sa.Text),
            _param("created_at"),
        )
        .select_from(debit.join(placed, sa.true()))
        .where(_param("charge") != 0),  # a free order moves no money: no entry (``post_entry``'s rule)
    )
    crossed = (  # the customer's low-balance alert, armed and now crossed (``Prefs.low_balance_crossed``)
        notification_prefs.update()
        .where(
            notification_prefs.c.user_id == _param("user_id"),
            notification_prefs.c.low_balance_below > debit.c.balance,
            notification_prefs.c.low_balance_alerted == sa.false(),
            _param("charge") != 0,
        )
        .values(low_balance_alerted=sa.true())
        .returning(notification_prefs.c.low_balance_below)
        .cte("crossed")
    )
    return (
        sa.select(placed.c.id, debit.c.balance, crossed.c.low_balance_below)
        .select_from(debit.join(placed, sa.true()).outerjoin(crossed, sa.true()))
        .add_cte(entry.cte("entry"))
    )


_CHARGE_AND_PLACE = _one_statement()
"""Built once: building a statement costs more CPU than running it."""
_DEBIT = (
    users.update()
    .where(users.c.id == sa.bindparam("user_id"), users.c.balance - sa.bindparam("charge") >= 0)
    .values(balance=users.c.balance - sa.bindparam("charge"))
    .returning(users.c.balance)
)
_ADD_ORDER = orders.insert().returning(orders.c.id)
_ADD_ENTRY = ledger_entries.insert()
_ENTRY_COLUMNS = ("user_id", "kind", "amount", "balance_after", "order_id", "note", "created_at")
_ORDER_TERMS = sa.select(
    users.c.discount,
    CUSTOM_RATE.label("custom"),
    FORWARDED.label("forwarded"),
    UNVERIFIED_REFUSED.label("unverified"),
).where(users.c.id == sa.bindparam("user_id"))
"""``CustomerRates.terms`` and ``Emails.refused_unverified`` of the order's customer in one read."""
_RAW_TERMS = RawStatement(_ORDER_TERMS)
_RAW_DEBIT = RawStatement(_DEBIT)
_RAW_ADD_ORDER = RawStatement(_ADD_ORDER, ORDER_COLUMNS)
_RAW_ADD_ENTRY = RawStatement(_ADD_ENTRY, _ENTRY_COLUMNS)
_RAW_CROSSED = RawStatement(LOW_BALANCE_CROSSED)


@dataclass(frozen=True)
class OrderTerms:
    price: PriceTerms
    unverified: bool
    """The operator requires a verified email to order, and the customer has none."""


@dataclass(frozen=True)
class Placed:
    order_id: int
    balance: Units
    """The customer's balance after the charge."""
    low_balance: Units | None = None
    """The customer's low-balance threshold, when this charge took the balance under it (once)."""


Pricing = Callable[[OrderTerms], dict[str, Any]]
"""The new order's ``values`` (as ``OrderCharges.place`` takes them) at the customer's terms, or
``Refused``: pure computation, which on SQLite runs on the database connection's thread."""


def _terms_of(row: Any) -> OrderTerms:
    if row is None:
        return OrderTerms(PriceTerms(0, None), False)
    discount, custom, forwarded, unverified = row
    custom = None if custom is None else int(custom)
    return OrderTerms(PriceTerms(int(discount), custom, bool(forwarded)), bool(unverified))


class AlertDue(Exception):
    """The charge would take the balance under the customer's low-balance alert: ``place_in_one_hop``
    wrote nothing, and the order goes through the unit of work that queues the alert with it."""


def place_in_one_hop(
    conn: sqlite3.Connection, user_id: int, service_id: int, price: Pricing, kind: str, now: datetime
) -> Placed | None:
    """``OrderCharges.terms``, then ``OrderCharges.place`` of what ``price`` makes of them, as the
    ``work`` of ``Database.write_in_one_hop`` (SQLite): the same statements in the same order, on the
    raw connection. Raises ``AlertDue`` when the charge crosses the low-balance alert."""
    values = price(_terms_of(_RAW_TERMS.first(conn, {"user_id": user_id, "service_id": service_id})))
    charge = values["charge"]
    debit = _RAW_DEBIT.first(conn, {"user_id": user_id, "charge": charge})
    if debit is None:
        return None  # nothing written
    balance = int(debit[0])
    order_id = int(_RAW_ADD_ORDER.first(conn, {**values, "created_at": now, "updated_at": now})[0])
    if charge:
        entry = {"user_id": user_id, "kind": kind, "amount": -charge, "balance_after": balance}
        _RAW_ADD_ENTRY.first(conn, {**entry, "order_id": order_id, "note": f"order {order_id}", "created_at": now})
        if _RAW_CROSSED.first(conn, {"owner": user_id, "new_balance": balance}) is not None:
            raise AlertDue
    return Placed(order_id, balance)


class OrderCharges:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def terms(self, user_id: int, service_id: int) -> OrderTerms:
        """What the order's customer pays for ``service_id`` and whether they may order yet: one read."""
        found = await self._conn.execute(_ORDER_TERMS, {"user_id": user_id, "service_id": service_id})
        return _terms_of(found.first())

    async def place(self, values: dict[str, Any], kind: str, now: datetime) -> Placed | None:
        """Debit ``values["charge"]``, insert the order and the ledger entry (``kind``, note
        ``order <id>``) in the caller's transaction; None (and nothing written) when the balance
        is short. ``values`` holds every ``ORDER_COLUMNS`` name but the two timestamps. The
        low-balance alert is marked sent here too when the charge crosses it (``low_balance``)."""
        params = {**values, "created_at": now, "updated_at": now}
        if self._conn.dialect.name == "postgresql":
            named = {f"new_{name}": value for name, value in params.items()}
            row = (await self._conn.execute(_CHARGE_AND_PLACE, {**named, "new_kind": kind})).first()
            if row is None:
                return None
            return Placed(int(row[0]), int(row[1]), None if row[2] is None else int(row[2]))
        debit = {"user_id": values["user_id"], "charge": values["charge"]}
        balance = (await self._conn.execute(_DEBIT, debit)).scalar_one_or_none()
        if balance is None:
            return None
        order_id = int((await self._conn.execute(_ADD_ORDER, params)).scalar_one())
        if not values["charge"]:
            return Placed(order_id, int(balance))
        entry = {"user_id": values["user_id"], "kind": kind, "amount": -values["charge"], "balance_after": balance}
        note = f"order {order_id}"
        await self._conn.execute(_ADD_ENTRY, {**entry, "order_id": order_id, "note": note, "created_at": now})
        crossed = await self._conn.execute(LOW_BALANCE_CROSSED, {"owner": values["user_id"], "new_balance": balance})
        threshold = crossed.scalar_one_or_none()
        return Placed(order_id, int(balance), None if threshold is None else int(threshold))
