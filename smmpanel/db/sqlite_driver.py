"""SQLAlchemy's aiosqlite dialect, with one thread hop per statement instead of four.

aiosqlite runs each sqlite3 call on the connection's own thread and hands the result back
to the event loop: a hop costs a thread switch and a GIL handoff (~0.15 ms here).
SQLAlchemy's adapter makes a cursor, executes, fetches and closes it in four separate hops,
so on SQLite most of an API call's time went to hops, not to SQL (benchmarks/RESULTS.md).
Here a statement is executed, its rows fetched and its cursor closed in one call on that
thread; the cursor SQLAlchemy sees only holds the results; a write transaction's
``BEGIN IMMEDIATE`` travels with its first statement (``begin_with_next_statement``); and
COMMIT or ROLLBACK with no transaction open (after a read, which runs without one) costs no
hop at all. Error handling stays SQLAlchemy's and aiosqlite's own.

Registered as ``sqlite+smmpanel_aiosqlite`` (``smmpanel.db.engine.async_url`` picks it).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT

DRIVER = "smmpanel_aiosqlite"

_Outcome = tuple[Any, list[Any], int, int | None]
"""What a statement left: its cursor's description, rows, rowcount and lastrowid."""


def _execute(connection: aiosqlite.Connection, begin: str | None, operation: str, parameters: Any) -> _Outcome:
    """Runs on the connection's thread."""
    if begin:
        connection._conn.execute(begin)
    cursor = connection._conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(connection: aiosqlite.Connection, begin: str | None, operation: str, rows: Sequence[Any]) -> _Outcome:
    """Runs on the connection's thread."""
    if begin:
        connection._conn.execute(begin)
    cursor = connection._conn.cursor()
    try:
        cursor.executemany(operation, rows)
        return None, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """Holds a finished statement's results: no sqlite3 cursor outlives the call that made it."""

    __slots__ = ("_outcome",)
    _awaitable_cursor_close = False  # nothing to close: the thread closed its cursor already

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._outcome: _Outcome = (None, [], -1, None)

    @property
    def description(self) -> Any:
        return self._outcome[0]

    @property
    def rowcount(self) -> int:
        return self._outcome[2]

    @property
    def lastrowid(self) -> Any:
        return self._outcome[3]

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        connection = cast("OneHopConnection", self._adapt_connection)
        async with connection._execute_mutex:
            begin = connection.take_begin()
            self._outcome = await self._connection._execute(_execute, self._connection, begin, operation, parameters)
            self._rows = collections.deque(self._outcome[1])

    async def _executemany_async(self, operation: Any, rows: Any) -> None:
        connection = cast("OneHopConnection", self._adapt_connection)
        async with connection._execute_mutex:
            begin = connection.take_begin()
            self._outcome = await self._connection._execute(_execute_many, self._connection, begin, operation, rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin",)
    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None

    def begin_with_next_statement(self, begin: str) -> None:
        """Open the transaction with ``begin`` in the same hop as its first statement.

        Should that statement fail after ``begin`` succeeded, the transaction is open and the
        caller's rollback closes it; should ``begin`` itself fail, nothing is open.
        """
        self._begin = begin

    def take_begin(self) -> str | None:
        begin, self._begin = self._begin, None
        return begin

    def _idle(self) -> bool:
        """No transaction is open (reads run without one): COMMIT or ROLLBACK would be a hop for nothing.

        ``in_transaction`` only reads SQLite's autocommit flag, which is safe from this thread.
        """
        connection = self._connection._connection
        return connection is not None and not connection.in_transaction

    def commit(self) -> None:
        self._begin = None  # a transaction that ran no statement: nothing to begin or commit
        if not self._idle():
            super().commit()

    def rollback(self) -> None:
        self._begin = None
        if not self._idle():
            super().rollback()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        return OneHopConnection(self, super().connect(*arg, **kw)._connection)


class OneHopDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDbapi:
        return OneHopDbapi(aiosqlite, sqlite3)


registry.register(f"sqlite.{DRIVER}", __name__, "OneHopDialect")
