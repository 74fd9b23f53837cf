"""Providers and the links that map a local service onto their services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.id_lists import ids_in
from smmpanel.db.tables import providers, service_providers
from smmpanel.money import Units

OK_REFRESH = timedelta(seconds=1)
"""How stale a provider's ``last_ok_at`` may be while it keeps answering."""


@dataclass(frozen=True, slots=True)
class Provider:
    id: int
    name: str
    url: str
    api_key: str
    last_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime
    checked_at: datetime | None = None
    """When the engine last asked its balance (``smmpanel.engine.provider_checks``)."""
    alert: str | None = None
    """What the operator was last told of it: ``low``, ``unreachable``, or nothing."""
    down_since: datetime | None = None
    """Unreachable since then; None while it answers."""
    outage_limit: int | None = None
    """Seconds its orders wait out an outage before failing over or being canceled; None: the setting."""

    def __repr__(self) -> str:  # the key is a secret: never in a log line or a traceback
        return f"Provider(id={self.id}, name={self.name!r}, url={self.url!r})"

    @property
    def masked_key(self) -> str:
        return "…" + self.api_key[-4:] if len(self.api_key) > 8 else "…"


@dataclass(frozen=True, slots=True)
class ServiceLink:
    service_id: int
    provider_id: int
    provider_service_id: int
    priority: int
    provider_rate: Units | None


def _provider(row: Any) -> Provider:
    return Provider(**row._asdict())


def _link(row: Any) -> ServiceLink:
    return ServiceLink(row.service_id, row.provider_id, row.provider_service_id, row.priority, row.provider_rate)


class Providers:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, name: str, url: str, api_key: str, now: datetime) -> int:
        result = await self._conn.execute(
            providers.insert().values(name=name, url=url, api_key=api_key, created_at=now).returning(providers.c.id)
        )
        return int(result.scalar_one())

    async def by_name(self, name: str) -> Provider | None:
        row = (await self._conn.execute(sa.select(providers).where(providers.c.name == name))).first()
        return _provider(row) if row else None

    async def many(self, provider_ids: set[int]) -> dict[int, Provider]:
        rows = await self._conn.execute(sa.select(providers).where(ids_in(self._conn, providers.c.id, provider_ids)))
        return {row.id: _provider(row) for row in rows}

    async def all(self) -> list[Provider]:
        return [_provider(row) for row in await self._conn.execute(sa.select(providers).order_by(providers.c.id))]

    async def remove(self, provider_id: int) -> None:
        await self._conn.execute(service_providers.delete().where(service_providers.c.provider_id == provider_id))
        await self._conn.execute(providers.delete().where(providers.c.id == provider_id))

    async def set_url(self, provider_id: int, url: str) -> None:
        await self._conn.execute(providers.update().where(providers.c.id == provider_id).values(url=url))

    async def set_key(self, provider_id: int, api_key: str) -> None:
        await self._conn.execute(providers.update().where(providers.c.id == provider_id).values(api_key=api_key))

    async def record_health(self, provider_id: int, error: str | None, now: datetime) -> bool:
        """An answer clears the last error and any outage; return whether it ended an outage.

        A provider that answers well is written only when that changes something, or its
        ``last_ok_at`` is more than ``OK_REFRESH`` old: the engine records a batch of answers
        many times a second, and rewriting the provider's row in each would lock it (so the
        workers' batches would queue on it) and leave a dead row version every time. An UPDATE
        whose condition does not hold locks nothing.
        """
        if error is not None:
            values: dict[str, object] = {"last_error": error, "last_error_at": now}
            await self._conn.execute(providers.update().where(providers.c.id == provider_id).values(**values))
            return False
        ended = await self._conn.execute(
            providers.update()
            .where(providers.c.id == provider_id, providers.c.down_since.is_not(None))
            .values(last_ok_at=now, last_error=None, down_since=None)
        )
        if ended.rowcount:
            return True
        stale = sa.or_(
            providers.c.last_error.is_not(None),
            providers.c.last_ok_at.is_(None),
            providers.c.last_ok_at < now - OK_REFRESH,
        )
        await self._conn.execute(
            providers.update().where(providers.c.id == provider_id, stale).values(last_ok_at=now, last_error=None)
        )
        return False

    async def mark_down(self, provider_id: int, error: str, now: datetime) -> datetime:
        """The provider could not be reached: down since the first such failure; when that was."""
        await self._conn.execute(
            providers.update()
            .where(providers.c.id == provider_id)
            .values(last_error=error, last_error_at=now, down_since=sa.func.coalesce(providers.c.down_since, now))
        )
        since: datetime = (
            await self._conn.execute(sa.select(providers.c.down_since).where(providers.c.id == provider_id))
        ).scalar_one()
        return since

    async def set_outage_limit(self, provider_id: int, seconds: int | None) -> None:
        await self._conn.execute(providers.update().where(providers.c.id == provider_id).values(outage_limit=seconds))


class ServiceLinks:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of_service(self, service_id: int) -> list[ServiceLink]:
        """The service's providers in order of preference: the failover order."""
        rows = await self._conn.execute(
            sa.select(service_providers)
            .where(service_providers.c.service_id == service_id)
            .order_by(service_providers.c.priority, service_providers.c.id)
        )
        return [_link(row) for row in rows]

    async def of_provider(self, provider_id: int) -> list[ServiceLink]:
        rows = await self._conn.execute(
            sa.select(service_providers).where(service_providers.c.provider_id == provider_id)
        )
        return [_link(row) for row in rows]

    async def put(self, link: ServiceLink, now: datetime) -> None:
        """Create the link, or update it where the service is already linked to that provider."""
        values = {
            "provider_service_id": link.provider_service_id,
            "priority": link.priority,
            "provider_rate": link.provider_rate,
        }
        updated = await self._conn.execute(
            service_providers.update()
            .where(
                service_providers.c.service_id == link.service_id, service_providers.c.provider_id == link.provider_id
            )
            .values(**values)
        )
        if updated.rowcount == 0:
            await self._conn.execute(
                service_providers.insert().values(
                    service_id=link.service_id, provider_id=link.provider_id, created_at=now, **values
                )
            )

    async def remove(self, service_id: int, provider_id: int) -> bool:
        removed = await self._conn.execute(
            service_providers.delete().where(
                service_providers.c.service_id == service_id, service_providers.c.provider_id == provider_id
            )
        )
        return bool(removed.rowcount)

    async def all_first(self) -> dict[int, ServiceLink]:
        """Every linked service's first provider in order of preference."""
        rows = await self._conn.execute(
            sa.select(service_providers).order_by(
                service_providers.c.service_id, service_providers.c.priority, service_providers.c.id
            )
        )
        first: dict[int, ServiceLink] = {}
        for row in rows:
            first.setdefault(row.service_id, _link(row))
        return first
