"""API v2's polling reads (a balance, orders' statuses) straight through the database driver.

Reseller software asks for ``balance`` and ``status`` far more often than for anything else,
and each answer is one index probe that the database serves in microseconds. Through
SQLAlchemy's async layer such a read cost ~0.29 ms of CPU on SQLite (a pool checkout, greenlet
switches, statement execution and result processing around one driver call of 0.08 ms), which
made these two actions half as fast as the bare limit (benchmarks/RESULTS.md, "API v2"). Here
the two reads run as fixed SQL on the driver's own connections: on SQLite on the event loop's
thread under a deadline (``smmpanel.db.inline_sqlite``), else on a small pool of read-only
aiosqlite connections (one thread hop per read); on PostgreSQL an asyncpg pool (one round trip).

Both see committed data only, each statement on its own snapshot, exactly as ``Database.read``
does. Everything else, writes above all, goes through SQLAlchemy and the repositories.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy.engine import URL

from smmpanel.db.engine import SQLITE_BUSY_TIMEOUT_MS
from smmpanel.db.inline_sqlite import InlineReads
from smmpanel.domain.orders import OrderProgress, OrderStatus
from smmpanel.money import Units

_BALANCE = "SELECT balance FROM users WHERE id = {0}"
_PROGRESS = "SELECT id, user_id, charge, start_count, status, remains FROM {table} WHERE {0}"
"""By id alone: whose order it is is checked on the rows (``DirectReads.progress``). With
``user_id = $1`` beside the ids, PostgreSQL's generic plan of the prepared statement (chosen after
five runs) walks the customer's whole history through ``(user_id, status, id)``, as its estimate
of one customer's orders is ``rows / customers``: a reseller with 20,000 orders made a status of
100 ids 48 times slower (benchmarks/RESULTS.md). By id it is one probe of the primary key per id,
whatever plan."""
_COLUMNS = "id, user_id, charge, start_count, status, remains"
_TABLES = ("orders", f"(SELECT {_COLUMNS} FROM orders UNION ALL SELECT {_COLUMNS} FROM orders_archive) AS anywhere")
"""Where an order is: the ids ``orders`` did not have are asked again of both tables at once
(``smmpanel.db.order_archive``), one snapshot, so an order moving meanwhile is still found; a
status call on an order not archived costs what it did."""
_STATUSES = {status.value: status for status in OrderStatus}
"""``OrderStatus(text)`` as one dictionary lookup: a status of 100 orders makes 100 (issue #16 item 8)."""


class DirectReads(ABC):
    """The reads, each written once; a back end supplies its placeholders and its pool."""

    @abstractmethod
    def _mark(self, number: int) -> str:
        """The placeholder of the ``number``-th parameter (from 1)."""

    @abstractmethod
    def _ids_condition(self, number: int, ids: list[int]) -> tuple[str, list[object]]:
        """``id`` is one of ``ids``, as SQL whose parameters start at the ``number``-th."""

    @abstractmethod
    async def _fetch(self, sql: str, parameters: Sequence[object]) -> Sequence[Sequence[Any]]:
        """The rows of one statement, run outside any transaction."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection; the next read opens them again."""

    async def balance(self, user_id: int) -> Units | None:
        """The customer's balance, or None when there is no such customer."""
        rows = await self._fetch(_BALANCE.format(self._mark(1)), (user_id,))
        return int(rows[0][0]) if rows else None

    async def progress(self, user_id: int, order_ids: Sequence[int]) -> dict[int, OrderProgress]:
        """What a status call answers of each of ``order_ids`` that is this customer's, by id."""
        found: dict[int, OrderProgress] = {}
        wanted = list(dict.fromkeys(order_ids))
        for table in _TABLES:
            if not wanted:
                break
            condition, parameters = self._ids_condition(1, wanted)
            rows = await self._fetch(_PROGRESS.format(condition, table=table), parameters)
            found.update(
                (int(order_id), OrderProgress(int(charge), int(start_count), _STATUSES[status], int(remains)))
                for order_id, owner, charge, start_count, status, remains in rows
                if owner == user_id
            )
            seen = {row[0] for row in rows}
            wanted = [order_id for order_id in wanted if order_id not in seen]
        return found


class SqliteDirectReads(DirectReads):
    """Each read inline when it is short (``InlineReads``), else on one of up to ``size`` read-only
    aiosqlite connections, opened as they are first needed."""

    def __init__(self, path: str, size: int) -> None:
        self._path = path
        self._size = size
        self.inline = InlineReads(path)
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._opened: list[aiosqlite.Connection] = []
        self._opening = 0

    def _mark(self, number: int) -> str:
        return "?"

    def _ids_condition(self, number: int, ids: list[int]) -> tuple[str, list[object]]:
        return f"id IN ({', '.join('?' * len(ids))})", list(ids)

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA query_only=ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _take(self) -> aiosqlite.Connection:
        if self._idle.empty() and len(self._opened) + self._opening < self._size:
            self._opening += 1
            try:
                self._opened.append(conn := await self._open())
            finally:
                self._opening -= 1
            return conn
        return await self._idle.get()

    async def _fetch(self, sql: str, parameters: Sequence[object]) -> Sequence[Sequence[Any]]:
        rows = self.inline.fetch(sql, parameters)
        if rows is not None:
            return rows
        conn = await self._take()
        try:
            return list(await conn.execute_fetchall(sql, parameters))
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        self.inline.close()
        opened, self._opened, self._idle = self._opened, [], asyncio.Queue()
        for conn in opened:
            await conn.close()


class PostgresDirectReads(DirectReads):
    """An asyncpg pool of at most ``size`` connections, created on the first read.

    A lost connection fails its read (the request is answered "Temporary failure, please
    retry"), and every connection of the pool is then replaced before its next use: after a
    server restart one request fails, not one per pooled connection.
    """

    _LOST = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()

    def _mark(self, number: int) -> str:
        return f"${number}"

    def _ids_condition(self, number: int, ids: list[int]) -> tuple[str, list[object]]:
        """One array parameter, not ``IN ($1, …)``: asyncpg prepares each text, so one text for any
        number of ids keeps one prepared statement (``smmpanel.db.id_lists``)."""
        return f"id = ANY(${number}::bigint[])", [ids]

    async def _ready_pool(self) -> asyncpg.Pool:
        async with self._creating:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._size)
            return self._pool

    async def _fetch(self, sql: str, parameters: Sequence[object]) -> Sequence[Sequence[Any]]:
        pool = self._pool or await self._ready_pool()
        try:
            return list(await pool.fetch(sql, *parameters))
        except self._LOST:
            pool.expire_connections()
            raise

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def direct_reads(url: URL, size: int) -> DirectReads:
    """The direct reads of the database at ``url`` (an async SQLAlchemy URL)."""
    if url.get_backend_name() == "sqlite":
        return SqliteDirectReads(url.database or "", size)
    return PostgresDirectReads(url.set(drivername="postgresql").render_as_string(hide_password=False), size)
