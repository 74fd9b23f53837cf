"""The audit log: append-only, read newest first a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.keyset import keyset
from smmpanel.db.tables import audit_log

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    target: str
    before: JsonObject | None
    after: JsonObject | None
    created_at: datetime


class AuditLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        before: JsonObject | None,
        after: JsonObject | None,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            audit_log.insert().values(
                actor=actor[:64], action=action[:64], target=target[:255], before=before, after=after, created_at=now
            )
        )

    async def page(self, *, before: int | None, after: int | None, limit: int) -> list[AuditEntry]:
        """A keyset page on the primary key (see ``smmpanel.db.keyset``)."""
        query = keyset(sa.select(audit_log), audit_log.c.id, before=before, after=after, limit=limit)
        return [AuditEntry(**row._asdict()) for row in await self._conn.execute(query)]
