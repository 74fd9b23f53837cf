"""Aggregates for the operator's overview: money per day, orders per status, tickets waiting.

Revenue per day is kept by a trigger on the ledger (migration 0031): the folded day totals plus
the deltas not folded yet, exact at the reader's snapshot, costing the same at 10,000 entries a
day as at a million. Other reports of a window still read it: neither the ledger nor the orders
table has an index on ``created_at``, and both grow by the million. Ids grow with time, so a
window "since D" is first turned into an id (a binary search of a few dozen primary-key probes)
and the aggregate then reads only that id range.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import revenue_days, revenue_deltas, tickets
from smmpanel.domain.ledger import EntryKind
from smmpanel.money import Units

_FOLD = """
    INSERT INTO revenue_days (day, amount) SELECT day, sum(amount) FROM {source} WHERE true GROUP BY day
    ON CONFLICT (day) DO UPDATE SET amount = revenue_days.amount + excluded.amount
"""
_FOLD_POSTGRES = sa.text(
    f"WITH gone AS (DELETE FROM revenue_deltas RETURNING day, amount) {_FOLD.format(source='gone')}"
)
"""One statement, one snapshot: a delta is deleted and added here, or left for the next fold."""
_FOLD_SQLITE = sa.text(_FOLD.format(source="revenue_deltas"))
"""SQLite has one writer at a time: what this sums is what the next statement deletes."""
_REVENUE_KINDS = (EntryKind.CHARGE.value, EntryKind.REFUND.value)
_COUNT_LOADED = sa.text(
    _FOLD.format(
        source="(SELECT created_at::date AS day, -amount AS amount FROM ledger_entries"
        " WHERE id > :after AND kind = ANY(:kinds)) AS loaded"
    )
)
"""PostgreSQL only (the benchmark loader's bulk path, with the triggers off)."""


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

    async def fold_revenue(self) -> None:
        """Move the revenue deltas into the day totals (in a write transaction); the figures stay the same."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_FOLD_POSTGRES)
            return
        await self._conn.execute(_FOLD_SQLITE)
        await self._conn.execute(revenue_deltas.delete())

    async def add_loaded_entries(self, after_id: int) -> None:
        """Count the ledger entries after ``after_id``, written with the triggers off (a bulk load)."""
        await self._conn.execute(_COUNT_LOADED, {"after": after_id, "kinds": list(_REVENUE_KINDS)})

    async def revenue_by_day(self, since: date) -> dict[date, Units]:
        """Charges less refunds, per UTC day from ``since`` on: the day totals plus the unfolded deltas."""
        parts = [
            sa.select(table.c.day, table.c.amount).where(table.c.day >= since)
            for table in (revenue_days, revenue_deltas)
        ]
        both = sa.union_all(*parts).subquery()
        rows = await self._conn.execute(sa.select(both.c.day, sa.func.sum(both.c.amount)).group_by(both.c.day))
        return {day_of(day): int(total) for day, total in rows if total}

    async def tickets_waiting(self) -> int:
        """Tickets with a customer message the operator has not read (on the ticket's own index)."""
        result = await self._conn.execute(
            sa.select(sa.func.count()).select_from(tickets).where(tickets.c.unread_by_operator.is_(True))
        )
        return int(result.scalar_one())
