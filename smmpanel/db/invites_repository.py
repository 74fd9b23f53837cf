"""Signup invites: one-use tokens (kept as their SHA-256) that let a stranger into an invite-only panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import signup_invites, users


@dataclass(frozen=True)
class Invite:
    id: int
    note: str
    created_by: str
    created_at: datetime
    used_at: datetime | None
    used_by: str | None
    revoked_at: datetime | None

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None


class Invites:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token_hash: str, note: str, created_by: str, now: datetime) -> int:
        values = {"token_hash": token_hash, "note": note, "created_by": created_by, "created_at": now}
        result = await self._conn.execute(signup_invites.insert().values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def is_usable(self, token_hash: str) -> bool:
        query = sa.select(signup_invites.c.id).where(
            signup_invites.c.token_hash == token_hash,
            signup_invites.c.used_at.is_(None),
            signup_invites.c.revoked_at.is_(None),
        )
        return (await self._conn.execute(query)).first() is not None

    async def use(self, token_hash: str, user_id: int, now: datetime) -> bool:
        """Spend the token for ``user_id``; False when it is unknown, used or revoked (a conditional
        update, so two sign-ups racing for one token cannot both win)."""
        updated = await self._conn.execute(
            signup_invites.update()
            .where(
                signup_invites.c.token_hash == token_hash,
                signup_invites.c.used_at.is_(None),
                signup_invites.c.revoked_at.is_(None),
            )
            .values(used_at=now, used_by=user_id)
        )
        return updated.rowcount == 1

    async def revoke(self, invite_id: int, now: datetime) -> bool:
        updated = await self._conn.execute(
            signup_invites.update()
            .where(signup_invites.c.id == invite_id, signup_invites.c.used_at.is_(None))
            .where(signup_invites.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return updated.rowcount == 1

    async def newest(self, limit: int = 100) -> list[Invite]:
        query = (
            sa.select(signup_invites, users.c.username)
            .select_from(signup_invites.outerjoin(users, users.c.id == signup_invites.c.used_by))
            .order_by(signup_invites.c.id.desc())
            .limit(limit)
        )
        return [
            Invite(
                id=row.id,
                note=row.note,
                created_by=row.created_by,
                created_at=row.created_at,
                used_at=row.used_at,
                used_by=row.username,
                revoked_at=row.revoked_at,
            )
            for row in await self._conn.execute(query)
        ]
