"""Orders over a date range, summed per service, provider or customer (the operator's reports).

The window is turned into an id range first (``Reports.first_id_since``: orders get their ids
in the order they are stamped), so a report reads the primary key's range for its days and no
more, however many millions of orders lie outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.report_repositories import Reports
from smmpanel.db.tables import orders, providers, services, users
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
    BreakdownBy.SERVICE: (orders.c.service_id, services, services.c.name),
    BreakdownBy.PROVIDER: (orders.c.provider_id, providers, providers.c.name),
    BreakdownBy.CUSTOMER: (orders.c.user_id, users, users.c.username),
}


class Breakdowns:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def id_range(self, since: datetime, until: datetime) -> tuple[int, int]:
        """The ids orders placed in ``[since, until)`` can have: ``first <= id < end``."""
        reports = Reports(self._conn)
        return await reports.first_id_since(orders, since), await reports.first_id_since(orders, until)

    async def by(self, by: BreakdownBy, since: datetime, until: datetime, limit: int) -> list[BreakdownRow]:
        """The ``limit`` groups that were charged most, most first."""
        first, end = await self.id_range(since, until)
        key, table, name = _GROUPS[by]
        charged = sa.func.sum(orders.c.charge - orders.c.refunded).label("charged")
        totals = (
            sa.select(
                key.label("key"),
                sa.func.count().label("orders"),
                charged,
                sa.func.coalesce(sa.func.sum(orders.c.upstream_charge), 0).label("cost"),
            )
            .where(orders.c.id >= first, orders.c.id < end, orders.c.created_at >= since, orders.c.created_at < until)
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
