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


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What the operator narrowed the log to; None (or empty) means any.

    ``action`` is one action (``order.update``) or, ending in ``.*``, a family (``order.*``);
    ``since`` is inclusive, ``until`` exclusive.
    """

    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        """The conditions; each of actor and action has an index ending in ``id``, for keyset pages."""
        conditions: list[sa.ColumnElement[bool]] = []
        if self.actor:
            conditions.append(audit_log.c.actor == self.actor)
        if self.action.endswith(".*"):
            family = self.action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(audit_log.c.action.like(f"{family}%", escape="\\"))
        elif self.action:
            conditions.append(audit_log.c.action == self.action)
        if self.since is not None:
            conditions.append(audit_log.c.created_at >= self.since)
        if self.until is not None:
            conditions.append(audit_log.c.created_at < self.until)
        return conditions


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

    async def page(
        self, *, before: int | None, after: int | None, limit: int, filters: AuditFilters | None = None
    ) -> list[AuditEntry]:
        """A keyset page on the primary key (see ``smmpanel.db.keyset``), narrowed by ``filters``."""
        query = sa.select(audit_log).where(*(filters or AuditFilters()).where())
        query = keyset(query, audit_log.c.id, before=before, after=after, limit=limit)
        return [AuditEntry(**row._asdict()) for row in await self._conn.execute(query)]
