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

For a unit of work whose statements are known in advance (an order's charge: issue #16 item 1),
``run_transaction`` runs them all on a pooled connection's driver in a single hop, BEGIN and
COMMIT included, each statement compiled once (``RawStatement``).

Registered as ``sqlite+smmpanel_aiosqlite`` (``smmpanel.db.engine.async_url`` picks it).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
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
_DIALECT = OneHopDialect()


class RawStatement:
    """A SQLAlchemy statement compiled once for SQLite, to run on the raw ``sqlite3`` connection
    inside ``run_transaction``: the same SQL text and the same value conversions (dates, JSON,
    booleans) that SQLAlchemy would apply, without its per-statement work."""

    def __init__(self, statement: ClauseElement, columns: Sequence[str] | None = None) -> None:
        keys = list(columns) if columns else None
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT, column_keys=keys))
        self.sql = compiled.string
        self._slots = [
            (name, bind.required, bind.value, bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT))
            for name, bind in ((name, compiled.binds[name]) for name in compiled.positiontup or ())
        ]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        """The statement's positional parameters from ``values`` by name (literals filled in)."""
        found = []
        for name, required, literal, process in self._slots:
            value = values[name] if required or name in values else literal
            found.append(value if process is None else process(value))
        return found

    def first(self, conn: sqlite3.Connection, values: Mapping[str, Any]) -> Any:
        """Run on ``conn`` with ``values``; the first row or None."""
        return conn.execute(self.sql, self.parameters(values)).fetchone()


T = TypeVar("T")


def _transaction(connection: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Runs on the connection's thread. A database error comes out as SQLAlchemy's own would (no
    parameters in its text), for the callers that tell database errors apart (the CLI's message)."""
    conn = connection._conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return result
    except sqlite3.Error as error:
        raise DBAPIError.instance(None, None, error, sqlite3.Error, hide_parameters=True) from error


async def run_transaction(raw: PoolProxiedConnection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work(sqlite3_connection)`` inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` when it
    raises) on ``raw``'s thread: a whole write transaction for the price of one hop. ``work`` runs
    off the event loop: nothing in it but the database and pure computation."""
    adapted = raw.dbapi_connection
    if not isinstance(adapted, OneHopConnection):
        raise TypeError(f"not a {DRIVER} connection: {adapted!r}")
    async with adapted._execute_mutex:
        result: T = await adapted._connection._execute(_transaction, adapted._connection, work)
        return result
