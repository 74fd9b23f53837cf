"""Orders over a date range, summed per service, provider or customer (the operator's reports).

The window is turned into an id range first (``Reports.first_id_since``: orders get their ids
in the order they are stamped), so a report reads the primary key's range for its days and no
more, however many millions of orders lie outside it. Archived orders count as they did before
they moved: each of the two tables is read over its own id range, and the rows summed together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.report_repositories import Reports
from smmpanel.db.tables import orders, orders_archive, providers, services, users
from smmpanel.money import Units


class BreakdownBy(StrEnum):
    SERVICE = "service"
    PROVIDER = "provider"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    key: int | None
    """The service, provider or customer id; None for orders no provider took (manual ones)."""
    name: str
    orders: int
    charged: Units
    """What customers paid for these orders, less what they got back."""
    cost: Units
    """What providers said they charged (``orders.upstream_charge``)."""

    @property
    def profit(self) -> Units:
        return self.charged - self.cost


_GROUPS = {
    BreakdownBy.SERVICE: ("service_id", services, services.c.name),
    BreakdownBy.PROVIDER: ("provider_id", providers, providers.c.name),
    BreakdownBy.CUSTOMER: ("user_id", users, users.c.username),
}


class Breakdowns:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _placed(self, source: sa.Table, key: str, since: datetime, until: datetime) -> sa.Select[Any]:
        """The orders of ``source`` (``orders`` or its archive) placed in ``[since, until)``, over their id range."""
        reports = Reports(self._conn)
        first, end = await reports.first_id_since(source, since), await reports.first_id_since(source, until)
        return sa.select(
            source.c[key].label("key"), (source.c.charge - source.c.refunded).label("net"), source.c.upstream_charge
        ).where(source.c.id >= first, source.c.id < end, source.c.created_at >= since, source.c.created_at < until)

    async def by(self, by: BreakdownBy, since: datetime, until: datetime, limit: int) -> list[BreakdownRow]:
        """The ``limit`` groups that were charged most, most first."""
        key_name, table, name = _GROUPS[by]
        placed = sa.union_all(
            *[await self._placed(source, key_name, since, until) for source in (orders, orders_archive)]
        ).subquery()
        key = placed.c.key
        charged = sa.func.sum(placed.c.net).label("charged")
        totals = (
            sa.select(
                key.label("key"),
                sa.func.count().label("orders"),
                charged,
                sa.func.coalesce(sa.func.sum(placed.c.upstream_charge), 0).label("cost"),
            )
            .group_by(key)
            .order_by(charged.desc(), key)
            .limit(limit)
            .subquery()
        )
        query = (
            sa.select(totals, name.label("name"))
            .select_from(totals.outerjoin(table, table.c.id == totals.c.key))
            .order_by(totals.c.charged.desc(), totals.c.key)
        )
        return [
            BreakdownRow(
                None if row.key is None else int(row.key),
                row.name or "",
                int(row.orders),
                int(row.charged or 0),
                int(row.cost or 0),
            )
            for row in await self._conn.execute(query)
        ]
