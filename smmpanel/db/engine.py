"""Engines for both back ends, with the settings that make them safe for money.

SQLite runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE``: a write lock taken up front cannot fail half-way with
"database is locked" after the transaction has already read something.

``hide_parameters``: a database error's text (which ends up in logs) never carries the
statement's values, such as a provider's API key or a password hash.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from smmpanel.db import sqlite_driver

WRITE_OPTION = "smmpanel_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseUrlError(ValueError):
    """The database URL names a back end smmpanel does not run on."""


def async_url(url: str) -> URL:
    """Pick the async driver for a plain ``sqlite://`` or ``postgresql://`` URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise DatabaseUrlError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


IDLE_PING_SECONDS = 10.0
"""A pooled PostgreSQL connection that rested this long is pinged before it is used again."""


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping connections that rested, not every checkout (``pool_pre_ping``).

    With asyncpg a pre-ping is three round trips (BEGIN, ping, ROLLBACK) before every unit of
    work: more than the work itself for most API calls. A connection that rested past
    ``IDLE_PING_SECONDS`` (the ones a server restart or an idle timeout leaves dead) is pinged
    and replaced if it fails; one that breaks while in steady use fails that one request
    (answered "Temporary failure, please retry"), and SQLAlchemy then renews the whole pool.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _rested(_dbapi_connection: Any, record: Any) -> None:
        record.info["rested_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("rested_since")
        if since is not None and time.monotonic() - since > IDLE_PING_SECONDS:
            try:
                dbapi_connection.ping()
            except Exception as error:
                raise DisconnectionError(f"a pooled connection is dead: {error}") from error


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    target = async_url(url)
    if not is_sqlite(target):
        engine = create_async_engine(target, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)
        _ping_when_idle(engine)
        return engine
    engine = create_async_engine(target, pool_size=pool_size, max_overflow=0, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # Reads run without a transaction, each statement on its own snapshot, as they do on
        # PostgreSQL (READ COMMITTED, autocommit): no BEGIN and COMMIT to pay for.
        if conn.get_execution_options().get(WRITE_OPTION, False):
            conn.connection.dbapi_connection.begin_with_next_statement("BEGIN IMMEDIATE")

    return engine
