"""The language each person chose (``users.language``): read at login and when mail is written to them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import users


class Languages:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of(self, user_id: int) -> str | None:
        row = await self._conn.execute(sa.select(users.c.language).where(users.c.id == user_id))
        value = row.scalar_one_or_none()
        return None if value is None else str(value)

    async def set(self, user_id: int, code: str) -> None:
        await self._conn.execute(users.update().where(users.c.id == user_id).values(language=code))
