"""The operator's desk: how many things wait in each queue, the canned replies for tickets, and how
the order search takes a link part (``smmpanel.db.link_search``).

Every count reads a partial index or a small indexed subset, never a scan of the orders:
the nav shows them on every admin page, and a panel holds millions of orders. On PostgreSQL
(checked by ``tests/integration/test_operators_day.py``)::

    EXPLAIN SELECT count(*) FROM orders WHERE cancel_requested
      AND status IN ('Pending', 'In progress', 'Processing') AND cancel_state IS NULL
    -> Aggregate -> Index Only Scan using ix_orders_cancel_state_cancel_request on orders
         Index Cond: (cancel_state IS NULL)
    EXPLAIN SELECT count(*) FROM orders WHERE dispatch = 'attention'
    -> Aggregate -> Index Only Scan using ix_orders_dispatch_next_attempt_at on orders
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.dispatch_repositories import ATTENTION
from smmpanel.db.link_search import is_common
from smmpanel.db.tables import (
    CANCEL_REQUEST_WHERE,
    OPEN_TICKET_WHERE,
    canned_replies,
    orders,
    payment_gateways,
    payments,
    tickets,
)
from smmpanel.domain.payments import PaymentStatus


@dataclass(frozen=True, slots=True)
class CannedReply:
    id: int
    title: str
    body: str
    updated_at: datetime


_CANNED = sa.select(canned_replies.c.id, canned_replies.c.title, canned_replies.c.body, canned_replies.c.updated_at)


class Desk:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _count(self, query: sa.Select[Any]) -> int:
        return int((await self._conn.execute(query)).scalar_one())

    async def attention_count(self) -> int:
        """Orders the engine handed to the operator (index on ``dispatch``)."""
        return await self._count(sa.select(sa.func.count()).select_from(orders).where(orders.c.dispatch == ATTENTION))

    async def cancel_request_count(self) -> int:
        """Open cancel requests, read from their partial index (the predicate is the index's own text)."""
        waiting = sa.and_(sa.text(CANCEL_REQUEST_WHERE), orders.c.cancel_state.is_(None))
        return await self._count(sa.select(sa.func.count()).select_from(orders).where(waiting))

    async def review_count(self, kinds: Sequence[str]) -> int:
        """Pending deposits through gateways an operator approves (index on ``status, id``)."""
        if not kinds:
            return 0
        return await self._count(
            sa.select(sa.func.count())
            .select_from(payments.join(payment_gateways, payment_gateways.c.id == payments.c.gateway_id))
            .where(payments.c.status == PaymentStatus.PENDING.value, payment_gateways.c.kind.in_(list(kinds)))
        )

    async def open_ticket_count(self) -> int:
        """Tickets waiting for the operator's answer (partial index on Open tickets)."""
        return await self._count(sa.select(sa.func.count()).select_from(tickets).where(sa.text(OPEN_TICKET_WHERE)))

    async def link_is_common(self, part: str) -> bool:
        """Whether the order search walks the orders newest first for ``part`` (``link_search.is_common``)."""
        return await is_common(self._conn, part)

    async def canned_replies(self) -> list[CannedReply]:
        query = _CANNED.order_by(canned_replies.c.title)
        return [CannedReply(**row._asdict()) for row in await self._conn.execute(query)]

    async def canned_reply(self, reply_id: int) -> CannedReply | None:
        row = (await self._conn.execute(_CANNED.where(canned_replies.c.id == reply_id))).first()
        return CannedReply(**row._asdict()) if row else None

    async def title_taken(self, title: str, *, other_than: int | None = None) -> bool:
        query = sa.select(canned_replies.c.id).where(sa.func.lower(canned_replies.c.title) == title.lower())
        if other_than is not None:
            query = query.where(canned_replies.c.id != other_than)
        return (await self._conn.execute(query)).first() is not None

    async def add_canned_reply(self, title: str, body: str, now: datetime) -> int:
        result = await self._conn.execute(
            canned_replies.insert()
            .values(title=title, body=body, created_at=now, updated_at=now)
            .returning(canned_replies.c.id)
        )
        return int(result.scalar_one())

    async def update_canned_reply(self, reply_id: int, title: str, body: str, now: datetime) -> None:
        await self._conn.execute(
            canned_replies.update()
            .where(canned_replies.c.id == reply_id)
            .values(title=title, body=body, updated_at=now)
        )

    async def delete_canned_reply(self, reply_id: int) -> None:
        await self._conn.execute(canned_replies.delete().where(canned_replies.c.id == reply_id))
