"""TOTP secrets and recovery codes (``tables.two_factor``, ``tables.recovery_codes``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import recovery_codes, two_factor


@dataclass(frozen=True, slots=True)
class TwoFactorSecret:
    user_id: int
    secret: str
    confirmed: bool
    last_step: int | None


class TwoFactor:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: int) -> TwoFactorSecret | None:
        row = (await self._conn.execute(sa.select(two_factor).where(two_factor.c.user_id == user_id))).first()
        if row is None:
            return None
        return TwoFactorSecret(row.user_id, row.secret, row.confirmed_at is not None, row.last_step)

    async def confirmed_user_ids(self, user_ids: list[int]) -> set[int]:
        rows = await self._conn.execute(
            sa.select(two_factor.c.user_id).where(
                two_factor.c.user_id.in_(user_ids), two_factor.c.confirmed_at.is_not(None)
            )
        )
        return {int(row.user_id) for row in rows}

    async def start(self, user_id: int, secret: str, now: datetime) -> None:
        """A new, unconfirmed secret, replacing any earlier one and its recovery codes."""
        await self.remove(user_id)
        await self._conn.execute(two_factor.insert().values(user_id=user_id, secret=secret, created_at=now))

    async def use_step(self, user_id: int, step: int, *, confirm_at: datetime | None = None) -> bool:
        """Record ``step`` as used unless it (or a later one) already was: one conditional statement."""
        values: dict[str, object] = {"last_step": step}
        if confirm_at is not None:
            values["confirmed_at"] = confirm_at
        result = await self._conn.execute(
            two_factor.update()
            .where(
                two_factor.c.user_id == user_id,
                sa.or_(two_factor.c.last_step.is_(None), two_factor.c.last_step < step),
            )
            .values(**values)
        )
        return result.rowcount == 1

    async def remove(self, user_id: int) -> None:
        await self._conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
        await self._conn.execute(two_factor.delete().where(two_factor.c.user_id == user_id))

    async def add_recovery_codes(self, user_id: int, digests: list[str], now: datetime) -> None:
        await self._conn.execute(
            recovery_codes.insert(), [{"user_id": user_id, "code_hash": d, "created_at": now} for d in digests]
        )

    async def use_recovery_code(self, user_id: int, digest: str, now: datetime) -> bool:
        """Mark the code used if it is this user's and still unused; True when it was."""
        result = await self._conn.execute(
            recovery_codes.update()
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == digest,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def unused_recovery_codes(self, user_id: int) -> int:
        count = await self._conn.execute(
            sa.select(sa.func.count())
            .select_from(recovery_codes)
            .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
        )
        return int(count.scalar_one())
