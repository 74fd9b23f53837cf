"""Dashboard sessions: one row per login, ended on the server by setting ``revoked_at``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import web_sessions


class WebSessions:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, key: str, user_id: int, now: datetime) -> None:
        await self._conn.execute(
            web_sessions.insert().values(id=key, user_id=user_id, created_at=now, last_seen_at=now)
        )

    async def live(self, key: str, idle_since: datetime) -> tuple[int, datetime] | None:
        """``(user_id, last_seen_at)`` of a session not revoked and seen after ``idle_since``: one
        primary-key lookup."""
        row = (
            await self._conn.execute(
                sa.select(web_sessions.c.user_id, web_sessions.c.last_seen_at).where(
                    web_sessions.c.id == key,
                    web_sessions.c.revoked_at.is_(None),
                    web_sessions.c.last_seen_at > idle_since,
                )
            )
        ).first()
        return None if row is None else (int(row.user_id), row.last_seen_at)

    async def touch(self, key: str, now: datetime) -> None:
        await self._conn.execute(web_sessions.update().where(web_sessions.c.id == key).values(last_seen_at=now))

    async def revoke(self, key: str, now: datetime) -> None:
        await self._conn.execute(
            web_sessions.update()
            .where(web_sessions.c.id == key, web_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all(self, user_id: int, now: datetime, *, keep: str | None = None) -> int:
        """End every live session of a user but ``keep``; the number ended."""
        query = web_sessions.update().where(web_sessions.c.user_id == user_id, web_sessions.c.revoked_at.is_(None))
        if keep is not None:
            query = query.where(web_sessions.c.id != keep)
        return int((await self._conn.execute(query.values(revoked_at=now))).rowcount)

    async def prune(self, user_id: int, idle_since: datetime) -> None:
        """Forget a user's ended and long-idle sessions (on the user_id index), so rows do not pile up."""
        await self._conn.execute(
            web_sessions.delete().where(
                web_sessions.c.user_id == user_id,
                sa.or_(web_sessions.c.revoked_at.is_not(None), web_sessions.c.last_seen_at <= idle_since),
            )
        )
