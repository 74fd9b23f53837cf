"""Aggregates for the operator's overview: money per day, orders per status, tickets waiting.

Neither the ledger nor the orders table has an index on ``created_at``, and both
grow by the million. Ids grow with time, so a window "since D" is first turned
into an id (a binary search of a few dozen primary-key probes) and every
aggregate then reads only that id range.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import ledger_entries, tickets
from smmpanel.domain.ledger import EntryKind
from smmpanel.money import Units


def day_of(value: object) -> date:
    """SQLite's ``date()`` answers text, PostgreSQL's a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class Reports:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def first_id_since(self, table: sa.Table, moment: datetime) -> int:
        """The lowest id that may have been created at or after ``moment``.

        Assumes ``created_at`` grows with the id (rows are stamped as they are inserted);
        callers still filter on ``created_at``, so an early answer only costs a few rows.
        """
        bounds = (await self._conn.execute(sa.select(sa.func.min(table.c.id), sa.func.max(table.c.id)))).one()
        if bounds[0] is None:
            return 0
        low, high = int(bounds[0]), int(bounds[1]) + 1
        while low < high:
            middle = (low + high) // 2
            row = (
                await self._conn.execute(
                    sa.select(table.c.id, table.c.created_at).where(table.c.id >= middle).order_by(table.c.id).limit(1)
                )
            ).first()
            if row is None or row.created_at >= moment:
                high = middle
            else:
                low = int(row.id) + 1
        return low

    async def revenue_by_day(self, since: datetime) -> dict[date, Units]:
        """Charges less refunds, per UTC day, from the ledger (charges are negative entries)."""
        start = await self.first_id_since(ledger_entries, since)
        day = sa.func.date(ledger_entries.c.created_at).label("day")
        rows = await self._conn.execute(
            sa.select(day, sa.func.sum(ledger_entries.c.amount).label("total"))
            .where(
                ledger_entries.c.id >= start,
                ledger_entries.c.created_at >= since,
                ledger_entries.c.kind.in_([EntryKind.CHARGE.value, EntryKind.REFUND.value]),
            )
            .group_by(day)
        )
        return {day_of(row.day): -int(row.total) for row in rows}

    async def tickets_waiting(self) -> int:
        """Tickets with a customer message the operator has not read (on the ticket's own index)."""
        result = await self._conn.execute(
            sa.select(sa.func.count()).select_from(tickets).where(tickets.c.unread_by_operator.is_(True))
        )
        return int(result.scalar_one())
