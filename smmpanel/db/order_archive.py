"""Finished orders move out of ``orders`` into ``orders_archive``, and back when one is written to.

Why an archive table and not PostgreSQL's declarative partitioning: a partitioned ``orders``
needs its partition key (a time) in every unique key, the id and the provider's order id
included, and SQLite, the default install, has no partitions at all. One more table of the
same columns works the same on both (migration 0025 says what else that changed).

What moves: an order in a final state (``domain.orders.FINAL_STATUSES``) that the engine no
longer holds (``dispatch`` none or done), with no open refill and no running drip-feed run,
untouched (``updated_at``) since the cutoff. A move is one transaction per batch, and
repeating it moves nothing twice. On PostgreSQL a batch is one statement that locks its
orders ``FOR UPDATE SKIP LOCKED``: an order a refill or a cancel is being written to is
skipped, and one locked by the move makes that writer wait, then find the order here. On
SQLite writers take turns.

Readers of one order fall back here (``Orders.get``, ``many``, ``of_customer``, ``children``,
the API's direct reads) and lists read both tables in one statement; a writer that locks an
order (``Orders.get(for_update=True)``) moves it back into ``orders`` first, inside its own
transaction, so every rule and every answer is the one the order had before it moved. A write
that is refused rolls back and the order stays archived.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.id_lists import ids_in, is_postgres
from smmpanel.db.tables import orders, orders_archive, refills
from smmpanel.domain.orders import ACTIVE_STATUSES, FINAL_STATUSES
from smmpanel.domain.refills import RefillStatus

MAX_BATCH = 10_000
"""Orders moved by one transaction at most: a batch holds its locks (SQLite: the write lock) until it commits."""

_NAMES = [column.name for column in orders.columns]
_OPEN_REFILLS = [RefillStatus.PENDING.value, RefillStatus.IN_PROGRESS.value]
_RUN = orders.alias("run")


def _movable(cutoff: datetime) -> sa.ColumnElement[bool]:
    """An order the panel will not change again by itself, and nobody has touched since ``cutoff``.

    Written so that no index of ``orders`` answers it (``status || ''``, ``coalesce``): a batch walks
    its range of ids on the primary key, whatever the planner guesses without statistics (SQLite
    would otherwise read every finished order through ``(status, id)`` and sort them, per batch).
    """
    return sa.and_(
        orders.c.status.concat("").in_(sorted(status.value for status in FINAL_STATUSES)),
        sa.func.coalesce(orders.c.dispatch, "done") == "done",
        orders.c.updated_at < cutoff,
        ~sa.exists().where(refills.c.order_id == orders.c.id, refills.c.status.in_(_OPEN_REFILLS)),
        ~sa.exists().where(
            _RUN.c.parent_id == orders.c.id, _RUN.c.status.in_(sorted(status.value for status in ACTIVE_STATUSES))
        ),
    )


class OrderArchive:
    """Moves between the two tables; the reads of archived orders are ``Orders``' own."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def move(self, cutoff: datetime, limit: int, after: int = 0) -> tuple[list[int], int | None]:
        """Archive the movable orders among the next ``limit`` ids of ``orders`` after ``after``.

        Returns the ids moved and the id the next batch starts after (None: the table's end). A
        batch costs the same wherever it is in the table, moved or not.
        """
        window = sa.select(orders.c.id).where(orders.c.id > after).order_by(orders.c.id).limit(limit).subquery()
        end = (await self._conn.execute(sa.select(sa.func.max(window.c.id)))).scalar_one_or_none()
        if end is None:
            return [], None
        in_window = sa.and_(orders.c.id > after, orders.c.id <= end)
        due = sa.select(orders.c.id).where(in_window, _movable(cutoff)).order_by(orders.c.id)
        return await self._move(due), int(end)

    async def _move(self, due: sa.Select[Any]) -> list[int]:
        if is_postgres(self._conn):
            moving = due.with_for_update(of=orders, skip_locked=True).cte("moving")
            gone = orders.delete().where(orders.c.id.in_(sa.select(moving.c.id))).returning(*orders.columns).cte("gone")
            moved = await self._conn.execute(
                orders_archive.insert()
                .from_select(_NAMES, sa.select(*(gone.c[name] for name in _NAMES)))
                .returning(orders_archive.c.id)
            )
            return sorted(int(order_id) for order_id in moved.scalars())
        ids = [int(order_id) for order_id in (await self._conn.execute(due)).scalars()]
        if ids:
            await self._copy(orders, orders_archive, ids)
        return ids

    async def restore(self, order_id: int) -> bool:
        """Move one archived order back into ``orders`` (False: it is not archived)."""
        if is_postgres(self._conn):  # one statement: it stands alone under ``Database.write_each`` too
            gone = (
                orders_archive.delete()
                .where(orders_archive.c.id == order_id)
                .returning(*orders_archive.columns)
                .cte("gone")
            )
            restored = await self._conn.execute(
                orders.insert()
                .from_select(_NAMES, sa.select(*(gone.c[name] for name in _NAMES)))
                .returning(orders.c.id)
            )
            return restored.first() is not None
        return bool(await self._copy(orders_archive, orders, [order_id]))

    async def _copy(self, source: sa.Table, target: sa.Table, ids: list[int]) -> int:
        """Move the rows of ``ids`` from ``source`` to ``target`` (SQLite, inside the writer's transaction)."""
        chosen = ids_in(self._conn, source.c.id, ids)
        await self._conn.execute(target.insert().from_select(_NAMES, sa.select(*source.columns).where(chosen)))
        deleted = await self._conn.execute(source.delete().where(chosen))
        return int(deleted.rowcount)

    async def count(self) -> int:
        return int((await self._conn.execute(sa.select(sa.func.count()).select_from(orders_archive))).scalar_one())


def archived(columns: list[Any]) -> list[Any]:
    """The archive's columns of the same names as ``columns`` (of ``orders``)."""
    return [orders_archive.c[column.name] for column in columns]
