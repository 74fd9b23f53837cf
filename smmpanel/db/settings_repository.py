"""Panel-wide values kept in the database, shared by every process (e.g. the session secret)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import panel_settings


class PanelSettings:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, name: str) -> str | None:
        row = await self._conn.execute(sa.select(panel_settings.c.value).where(panel_settings.c.name == name))
        value = row.scalar_one_or_none()
        return None if value is None else str(value)

    async def put(self, name: str, value: str) -> None:
        updated = await self._conn.execute(
            panel_settings.update().where(panel_settings.c.name == name).values(value=value)
        )
        if updated.rowcount == 0:
            await self._conn.execute(panel_settings.insert().values(name=name, value=value))

    async def many(self, names: Sequence[str]) -> dict[str, str]:
        """The settings of these names that are set, in one statement."""
        query = sa.select(panel_settings).where(panel_settings.c.name.in_(names))
        return {row.name: str(row.value) for row in await self._conn.execute(query)}
