"""The only door to the database: one transaction per unit of work.

``write()`` is for anything that changes state; ``read()`` for answers. On SQLite
writers also queue on an in-process lock, so a burst of concurrent orders waits
its turn instead of spinning on SQLite's busy timeout.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from smmpanel.db.cache import DEFAULT_TTL, TopicCache, clear, database_key, take_stale, topic, watch_writes
from smmpanel.db.direct_reads import DirectReads, direct_reads
from smmpanel.db.engine import WRITE_OPTION, async_url, create_engine, is_sqlite
from smmpanel.db.repositories import Repositories
from smmpanel.db.sqlite_driver import run_transaction

T = TypeVar("T")


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, cache_seconds: float = DEFAULT_TTL) -> None:
        self.url = url
        self.is_sqlite = is_sqlite(async_url(url))
        self.engine: AsyncEngine = create_engine(url, pool_size=pool_size)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self.cache_seconds = cache_seconds
        """How long another process's change may go unseen here (``smmpanel.db.cache``)."""
        self._cache_key = database_key(self.engine)
        watch_writes(self.engine)
        # PostgreSQL reads in READ COMMITTED see a fresh snapshot per statement, inside a
        # transaction or not: without one they save the BEGIN and COMMIT round trips.
        self._reader = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.direct: DirectReads = direct_reads(async_url(url), pool_size)
        """API v2's polling reads, past SQLAlchemy (``smmpanel.db.direct_reads``)."""

    def cached(self, name: str) -> TopicCache:
        """This process's cache of ``name`` (``smmpanel.db.cache.KEYS`` or ``CATALOG``) for this database."""
        return topic(self._cache_key, name)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Repositories]:
        """A read-write transaction that commits when the block ends without error.

        Once it has committed, this process's caches of what it wrote are cleared.
        """
        lock: AbstractAsyncContextManager[object] = self._write_lock or nullcontext()
        async with lock, self.engine.connect() as conn:
            await conn.execution_options(**{WRITE_OPTION: True})
            try:
                async with conn.begin():
                    yield Repositories(conn)
            except BaseException:
                # Rolled back: nothing changed. A connection the database dropped has no info to
                # take (it is cleared on reconnect), and reading it would reconnect outside the
                # greenlet, raising MissingGreenlet in place of the real error.
                if not conn.invalidated:
                    take_stale(conn.info)
                raise
            stale = take_stale(conn.info)
            if stale:
                clear(self._cache_key, stale)

    @asynccontextmanager
    async def write_each(self) -> AsyncIterator[Repositories]:
        """``write()`` for a unit of work whose every write is one self-contained statement: on
        PostgreSQL each statement commits on its own (no BEGIN, no COMMIT round trip), so a row
        that statement locks is held only while the server runs it and flushes its commit, never
        while this process gets round to sending a COMMIT (issue 17). SQLite: ``write()``.
        """
        if self.is_sqlite:
            async with self.write() as repos:
                yield repos
            return
        async with self._reader.connect() as conn:
            await conn.execution_options(**{WRITE_OPTION: True})
            try:
                yield Repositories(conn, commits_each_statement=True)
            finally:
                stale = take_stale(conn.info) if not conn.invalidated else None
                if stale:
                    clear(self._cache_key, stale)

    @property
    def writes_in_one_hop(self) -> bool:
        """Whether ``write_in_one_hop`` is there: on SQLite, whose driver runs on a thread."""
        return self._write_lock is not None

    async def write_in_one_hop(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """SQLite: ``work`` as one write transaction on a pooled connection's own thread, in one hop,
        without SQLAlchemy's connection and transaction around it (their set-up, commit and return
        to the pool cost an order ~0.09 ms of CPU: issue #16 item 1). ``work`` is all of it,
        statements known beforehand (``sqlite_driver.RawStatement``), and must write nothing this
        process caches (``smmpanel.db.cache``: no watched table), since nothing here clears a cache.
        """
        if self._write_lock is None:
            raise RuntimeError("one-hop writes are SQLite's")
        async with self._write_lock:
            raw = await self.engine.raw_connection()
            try:
                return await run_transaction(raw, work)
            finally:
                await greenlet_spawn(raw.close)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repositories]:
        async with self._reader.connect() as conn, conn.begin():
            yield Repositories(conn, commits_each_statement=not self.is_sqlite)  # the reader is AUTOCOMMIT there

    async def ping(self) -> None:
        """Raise unless the database answers and holds the panel's schema.

        A SQLite file that is gone is not recreated empty: that would hide the loss.
        """
        url = async_url(self.url)
        if self.is_sqlite and url.database not in (None, "", ":memory:") and not os.path.exists(url.database):
            raise FileNotFoundError(f"SQLite database file {url.database!r} is missing")
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT version_num FROM alembic_version"))

    async def close(self) -> None:
        await self.direct.close()
        await self.engine.dispose()
