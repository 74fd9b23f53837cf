"""Provider currencies and sync schedules, services' loss rules and hand-edited fields, change lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import (
    catalog_changes,
    categories,
    orders_below_cost,
    provider_catalogs,
    service_upkeep,
    services,
)
from smmpanel.domain.upstream_cost import PANEL_RATE, LossRule
from smmpanel.money import Units


@dataclass(frozen=True, slots=True)
class ProviderCatalog:
    """How a provider bills (currency, exchange rate) and how often its catalog is synced."""

    provider_id: int
    currency: str | None = None
    exchange_rate: str = PANEL_RATE
    sync_minutes: int | None = None
    synced_at: datetime | None = None
    sync_error: str | None = None


@dataclass(frozen=True, slots=True)
class Upkeep:
    """A service's loss rule, the fields its operator owns, and whether it sells below cost."""

    service_id: int
    loss_rule: LossRule = LossRule.RAISE
    operator_fields: frozenset[str] = frozenset()
    at_loss: bool = False
    sync_disabled: bool = False


@dataclass(frozen=True, slots=True)
class CatalogChange:
    id: int
    provider_id: int | None
    service_id: int
    kind: str
    field: str
    old: str | None
    new: str | None
    created_at: datetime


def _upkeep(row: Any) -> Upkeep:
    fields = frozenset(f for f in row.operator_fields.split(",") if f)
    return Upkeep(row.service_id, LossRule(row.loss_rule), fields, bool(row.at_loss), bool(row.sync_disabled))


class ProviderCatalogs:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, provider_id: int) -> ProviderCatalog:
        row = (
            await self._conn.execute(sa.select(provider_catalogs).where(provider_catalogs.c.provider_id == provider_id))
        ).first()
        return ProviderCatalog(**row._asdict()) if row else ProviderCatalog(provider_id)

    async def many(self, provider_ids: Iterable[int]) -> dict[int, ProviderCatalog]:
        ids = set(provider_ids)
        rows = await self._conn.execute(sa.select(provider_catalogs).where(provider_catalogs.c.provider_id.in_(ids)))
        found = {row.provider_id: ProviderCatalog(**row._asdict()) for row in rows}
        return {i: found.get(i, ProviderCatalog(i)) for i in ids}

    async def put(self, provider_id: int, **values: object) -> None:
        updated = await self._conn.execute(
            provider_catalogs.update().where(provider_catalogs.c.provider_id == provider_id).values(**values)
        )
        if updated.rowcount == 0:
            await self._conn.execute(provider_catalogs.insert().values(provider_id=provider_id, **values))

    async def claim_sync(self, provider_id: int, previous: datetime | None, now: datetime) -> bool:
        """Mark a due sync as started, unless another worker did since ``previous`` was read."""
        row = provider_catalogs.c
        same = row.synced_at.is_(None) if previous is None else row.synced_at == previous
        claimed = await self._conn.execute(
            provider_catalogs.update().where(row.provider_id == provider_id, same).values(synced_at=now)
        )
        return bool(claimed.rowcount)

    async def scheduled(self) -> list[ProviderCatalog]:
        """Providers with a sync interval, the longest unsynced first."""
        rows = await self._conn.execute(
            sa.select(provider_catalogs)
            .where(provider_catalogs.c.sync_minutes.is_not(None))
            .order_by(provider_catalogs.c.synced_at.is_not(None), provider_catalogs.c.synced_at)
        )
        return [ProviderCatalog(**row._asdict()) for row in rows]


class ServiceUpkeeps:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def many(self, service_ids: Iterable[int]) -> dict[int, Upkeep]:
        ids = set(service_ids)
        rows = await self._conn.execute(sa.select(service_upkeep).where(service_upkeep.c.service_id.in_(ids)))
        found = {row.service_id: _upkeep(row) for row in rows}
        return {i: found.get(i, Upkeep(i)) for i in ids}

    async def get(self, service_id: int) -> Upkeep:
        return (await self.many([service_id]))[service_id]

    async def put(self, upkeep: Upkeep) -> None:
        values = {
            "loss_rule": upkeep.loss_rule.value,
            "operator_fields": ",".join(sorted(upkeep.operator_fields)),
            "at_loss": upkeep.at_loss,
            "sync_disabled": upkeep.sync_disabled,
        }
        updated = await self._conn.execute(
            service_upkeep.update().where(service_upkeep.c.service_id == upkeep.service_id).values(**values)
        )
        if updated.rowcount == 0:
            await self._conn.execute(service_upkeep.insert().values(service_id=upkeep.service_id, **values))


class CatalogChanges:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, rows: list[dict[str, object]], now: datetime) -> None:
        if rows:
            await self._conn.execute(catalog_changes.insert(), [{**row, "created_at": now} for row in rows])

    async def latest(self, *, provider_id: int | None, kinds: Iterable[str] | None, limit: int) -> list[CatalogChange]:
        """The newest changes first, of one provider or of all, of the given kinds or of every kind."""
        query = sa.select(catalog_changes).order_by(catalog_changes.c.id.desc()).limit(limit)
        if provider_id is not None:
            query = query.where(catalog_changes.c.provider_id == provider_id)
        if kinds is not None:
            query = query.where(catalog_changes.c.kind.in_(list(kinds)))
        return [CatalogChange(**row._asdict()) for row in await self._conn.execute(query)]


class OrdersBelowCost:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def flag(self, order_id: int, provider_id: int, cost: Units, now: datetime) -> None:
        await self._conn.execute(orders_below_cost.delete().where(orders_below_cost.c.order_id == order_id))
        await self._conn.execute(
            orders_below_cost.insert().values(order_id=order_id, provider_id=provider_id, cost=cost, created_at=now)
        )

    async def flagged(self, order_ids: Iterable[int]) -> dict[int, Units]:
        """Order id → the cost it was forwarded at, for those sent below cost with the operator's leave."""
        rows = await self._conn.execute(
            sa.select(orders_below_cost.c.order_id, orders_below_cost.c.cost).where(
                orders_below_cost.c.order_id.in_(list(order_ids))
            )
        )
        return {row.order_id: row.cost for row in rows}


class CategoryNames:
    """Renaming a category: its services and its stored position follow the new name."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def rename(self, old: str, new: str, now: datetime) -> int:
        moved = await self._conn.execute(
            services.update().where(services.c.category == old).values(category=new, updated_at=now)
        )
        await self._conn.execute(categories.update().where(categories.c.name == old).values(name=new))
        return int(moved.rowcount)


class CatalogUpkeep:
    """The repositories of this module under one attribute of ``Repositories``."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.providers = ProviderCatalogs(conn)
        self.services = ServiceUpkeeps(conn)
        self.changes = CatalogChanges(conn)
        self.below_cost = OrdersBelowCost(conn)
        self.categories = CategoryNames(conn)
