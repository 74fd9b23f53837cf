"""Support tickets and their messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.keyset import keyset
from smmpanel.db.tables import ticket_messages, tickets, users
from smmpanel.domain.tickets import TicketStatus


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    user_id: int
    username: str
    subject: str
    order_id: int | None
    status: TicketStatus
    unread_by_operator: bool
    unread_by_customer: bool
    created_at: datetime
    updated_at: datetime
    assigned_to: int | None = None  # the member of staff handling it


@dataclass(frozen=True, slots=True)
class TicketMessage:
    id: int
    ticket_id: int
    author_id: int
    author: str
    from_operator: bool
    body: str
    created_at: datetime


def _ticket(row: Any) -> Ticket:
    values = row._asdict()
    values["status"] = TicketStatus(values["status"])
    return Ticket(**values)


_TICKET_COLUMNS = [
    tickets.c.id,
    tickets.c.user_id,
    users.c.username,
    tickets.c.subject,
    tickets.c.order_id,
    tickets.c.status,
    tickets.c.unread_by_operator,
    tickets.c.unread_by_customer,
    tickets.c.created_at,
    tickets.c.updated_at,
    tickets.c.assigned_to,
]


def _with_username() -> sa.Select[Any]:
    return sa.select(*_TICKET_COLUMNS).join(users, users.c.id == tickets.c.user_id)


class Tickets:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, user_id: int, subject: str, order_id: int | None, now: datetime) -> int:
        result = await self._conn.execute(
            tickets.insert()
            .values(
                user_id=user_id,
                subject=subject,
                order_id=order_id,
                status=TicketStatus.OPEN.value,
                unread_by_operator=True,
                unread_by_customer=False,
                created_at=now,
                updated_at=now,
            )
            .returning(tickets.c.id)
        )
        return int(result.scalar_one())

    async def get(self, ticket_id: int, *, for_update: bool = False) -> Ticket | None:
        query = _with_username().where(tickets.c.id == ticket_id)
        if for_update:
            query = query.with_for_update(of=tickets)
        row = (await self._conn.execute(query)).first()
        return _ticket(row) if row else None

    async def update(self, ticket_id: int, values: dict[str, Any]) -> None:
        await self._conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(**values))

    async def of_customer(self, user_id: int, *, before: int | None, after: int | None, limit: int) -> list[Ticket]:
        query = _with_username().where(tickets.c.user_id == user_id)
        rows = await self._conn.execute(keyset(query, tickets.c.id, before=before, after=after, limit=limit))
        return [_ticket(row) for row in rows]

    async def for_operator(self, *, status: str | None, limit: int, assigned_to: int | None = None) -> list[Ticket]:
        """Unread first, then the most recently active: what the operator should answer next."""
        query = (
            _with_username()
            .order_by(tickets.c.unread_by_operator.desc(), tickets.c.updated_at.desc(), tickets.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(tickets.c.status == status)
        if assigned_to is not None:
            query = query.where(tickets.c.assigned_to == assigned_to)
        return [_ticket(row) for row in await self._conn.execute(query)]

    async def unread_by_operator(self) -> int:
        result = await self._conn.execute(
            sa.select(sa.func.count()).select_from(tickets).where(tickets.c.unread_by_operator.is_(True))
        )
        return int(result.scalar_one())

    async def add_message(
        self, ticket_id: int, author_id: int, *, from_operator: bool, body: str, now: datetime
    ) -> None:
        await self._conn.execute(
            ticket_messages.insert().values(
                ticket_id=ticket_id, author_id=author_id, from_operator=from_operator, body=body, created_at=now
            )
        )

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        rows = await self._conn.execute(
            sa.select(
                ticket_messages.c.id,
                ticket_messages.c.ticket_id,
                ticket_messages.c.author_id,
                users.c.username.label("author"),
                ticket_messages.c.from_operator,
                ticket_messages.c.body,
                ticket_messages.c.created_at,
            )
            .join(users, users.c.id == ticket_messages.c.author_id)
            .where(ticket_messages.c.ticket_id == ticket_id)
            .order_by(ticket_messages.c.id)
        )
        return [TicketMessage(**row._asdict()) for row in rows]
