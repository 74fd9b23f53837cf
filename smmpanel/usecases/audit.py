"""The audit log: who changed money, a price or a setting, when, and from what to what.

Design: a use case that moves money or changes a price or a setting takes an
optional ``audit: Audit`` (who is acting). When given, the use case writes the
entry itself, inside the transaction of the change, through ``audited`` — so the
log can never claim a change that rolled back, nor miss one that committed.
Entry points (dashboard, CLI) only say who acts; they never write entries.
``record`` is for the rare change whose use case cannot take part (it writes
its own transaction right after).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smmpanel.clock import utcnow
from smmpanel.db.audit_repository import AuditEntry, AuditFilters
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases.paging import Page, keyset_page

Facts = dict[str, Any]
"""JSON-ready facts: amounts written with ``format_amount``, never as floats."""

PAGE_SIZE = 50


@dataclass(frozen=True)
class Audit:
    """Who is acting: an operator's username, or ``cli`` for the command line."""

    actor: str


async def audited(
    repos: Repositories, audit: Audit | None, action: str, target: str, before: Facts | None, after: Facts | None
) -> None:
    """Record a change in the caller's transaction; nothing when no one asked for an audit."""
    if audit is None:
        return
    await repos.audit.append(actor=audit.actor, action=action, target=target, before=before, after=after, now=utcnow())


async def record(
    db: Database, audit: Audit | None, action: str, target: str, before: Facts | None, after: Facts | None
) -> None:
    """Record a change that already committed elsewhere, in a transaction of its own."""
    if audit is None:
        return
    async with db.write() as repos:
        await audited(repos, audit, action, target, before, after)


async def audit_page(
    db: Database,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
    filters: AuditFilters | None = None,
) -> Page[AuditEntry]:
    """Newest first, a keyset page at a time, narrowed to who, what and when the operator chose."""
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[AuditEntry]:
            return await repos.audit.page(before=before, after=after, limit=limit, filters=filters)

        return await keyset_page(fetch, lambda entry: entry.id, before=before, after=after, limit=limit)
