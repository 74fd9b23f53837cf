"""Orders counted by status and engine state without reading the orders table.

Triggers on ``orders`` (migration 0023) append a delta row for every order placed, removed,
or moved to another status or engine state, in the writer's own transaction. A count is
the folded totals plus the deltas not folded yet, so it is exact at the reader's snapshot
and costs the same at 10,000 orders as at 10 million: it grows with the days the panel has
run and the deltas since the last fold, never with the orders. Anyone may count this way
(the overview, ``/metrics``, a nav badge of orders waiting for attention: ``by_dispatch``).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.report_repositories import day_of
from smmpanel.db.tables import order_count_deltas, order_counts
from smmpanel.money import Units

_UPSERT = """
    INSERT INTO order_counts (day, status, dispatch, n, upstream_charge)
    SELECT day, status, dispatch, sum(n), sum(upstream_charge) FROM {source} WHERE true
    GROUP BY day, status, dispatch
    ON CONFLICT (day, status, dispatch) DO UPDATE SET
        n = order_counts.n + excluded.n, upstream_charge = order_counts.upstream_charge + excluded.upstream_charge
"""
_FOLD_POSTGRES = sa.text(
    "WITH gone AS (DELETE FROM order_count_deltas RETURNING day, status, dispatch, n, upstream_charge) "
    + _UPSERT.format(source="gone")
)
"""One statement, one snapshot: a delta is either deleted and added here, or left for the next
fold (a concurrent fold waits for these rows and then passes them by), never counted twice."""
_COUNT_LOADED = sa.text(
    _UPSERT.format(
        source="(SELECT created_at::date AS day, status, coalesce(dispatch, '') AS dispatch, 1 AS n,"
        " coalesce(upstream_charge, 0) AS upstream_charge FROM orders WHERE id BETWEEN :first AND :last) AS loaded"
    )
)
"""PostgreSQL only (the benchmark loader's bulk path)."""
_FOLD_SQLITE = sa.text(_UPSERT.format(source="order_count_deltas"))
"""SQLite has one writer at a time: what this sums is what the next statement deletes."""


class OrderCounts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def fold(self) -> None:
        """Move the deltas into the totals (in a write transaction); the counts stay the same."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_FOLD_POSTGRES)
            return
        await self._conn.execute(_FOLD_SQLITE)
        await self._conn.execute(order_count_deltas.delete())

    async def add_orders(self, first_id: int, last_id: int) -> None:
        """Count the orders ``first_id`` to ``last_id``, written with the triggers off (a bulk load)."""
        await self._conn.execute(_COUNT_LOADED, {"first": first_id, "last": last_id})

    def _all(self, since: date | None) -> sa.Subquery:
        parts = []
        for table in (order_counts, order_count_deltas):
            part = sa.select(table.c.day, table.c.status, table.c.dispatch, table.c.n, table.c.upstream_charge)
            if since is not None:
                part = part.where(table.c.day >= since)
            parts.append(part)
        return sa.union_all(*parts).subquery()

    async def by_status(self, since: date | None = None) -> dict[str, int]:
        """Orders per status (placed on ``since`` or later, when given); statuses with none left out."""
        rows = self._all(since)
        found = await self._conn.execute(
            sa.select(rows.c.status, sa.func.sum(rows.c.n)).group_by(rows.c.status).having(sa.func.sum(rows.c.n) != 0)
        )
        return {str(status): int(n) for status, n in found}

    async def by_dispatch(self) -> dict[str, int]:
        """Orders per engine state (``queued``, ``sent``, ``attention`` …); orders the engine does not hold left out."""
        rows = self._all(None)
        found = await self._conn.execute(
            sa.select(rows.c.dispatch, sa.func.sum(rows.c.n))
            .where(rows.c.dispatch != "")
            .group_by(rows.c.dispatch)
            .having(sa.func.sum(rows.c.n) != 0)
        )
        return {str(state): int(n) for state, n in found}

    async def upstream_cost_by_day(self, since: date) -> dict[date, Units]:
        """What providers charged for the orders placed each day from ``since`` on."""
        rows = self._all(since)
        found = await self._conn.execute(
            sa.select(rows.c.day, sa.func.sum(rows.c.upstream_charge)).group_by(rows.c.day)
        )
        return {day_of(day): int(total) for day, total in found if total}
