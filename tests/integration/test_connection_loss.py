"""A database connection lost inside a write transaction fails with the database's own error.

Found by the soak run (``benchmarks/soak.py``): when PostgreSQL ended the connections, the
rollback path of ``Database.write`` read ``conn.info`` from the invalidated connection, which
made SQLAlchemy reconnect outside its greenlet: ``MissingGreenlet`` replaced the real error in
the logs, and a ``connect`` coroutine was left never awaited.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from smmpanel.db.unit_of_work import Database
from tests.support.threads import in_thread

OTHER_BACKENDS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def _terminate_others(database_url: str) -> int:
    conn = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    try:
        return int(await conn.fetchval(OTHER_BACKENDS))
    finally:
        await conn.close()


def test_a_write_whose_connection_is_terminated_raises_the_database_error(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("a SQLite file has no server to end the connection")

    async def work() -> None:
        db = Database(database_url, pool_size=1, cache_seconds=0)
        try:
            with pytest.raises(DBAPIError):
                async with db.write() as repos:
                    await repos.users.by_key_hash("no such key")  # the transaction is under way
                    assert await _terminate_others(database_url) >= 1
                    await repos.users.by_key_hash("no such key")
            async with db.read() as repos:  # and the pool serves again with a new connection
                assert await repos.users.by_key_hash("no such key") is None
        finally:
            await db.close()

    in_thread(lambda: asyncio.run(work()))
