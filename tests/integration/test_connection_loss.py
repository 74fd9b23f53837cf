"""A database connection lost mid-way: the database's own error, one 503 answer, and service goes on.

Found by the soak run (``benchmarks/soak.py``): when PostgreSQL ended the connections, the
rollback path of ``Database.write`` read ``conn.info`` from the invalidated connection, which
made SQLAlchemy reconnect outside its greenlet: ``MissingGreenlet`` replaced the real error in
the logs, and a ``connect`` coroutine was left never awaited.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from smmpanel.db.unit_of_work import Database
from tests.support.panel import Panel
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


def test_a_request_that_fails_unexpectedly_is_answered_once_and_the_connection_lives_on(
    panel: Panel, caplog: pytest.LogCaptureFixture
) -> None:
    if panel.database_url.startswith("sqlite"):
        pytest.skip("a SQLite file has no server to end the connection")
    key = panel.customer(balance="10")
    subscriptions = {"key": key, "action": "subscriptions"}  # read through SQLAlchemy's pool
    assert panel.api_url is not None
    with httpx.Client(timeout=30) as client, caplog.at_level(logging.INFO):
        assert client.post(panel.api_url, data=subscriptions).status_code == 200  # the panel's connection is pooled
        in_thread(lambda: asyncio.run(_terminate_others(panel.database_url)))
        failed = client.post(panel.api_url, data=subscriptions)
        assert (failed.status_code, failed.json()) == (503, {"error": "Temporary failure, please retry"})
        assert failed.headers["x-request-id"]
        assert "Traceback" not in failed.text
        again = client.post(panel.api_url, data=subscriptions)  # on the same kept-alive connection
        assert (again.status_code, again.json()) == (200, [])
    errors = [(record.name, record.getMessage()) for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [("smmpanel.http", "unhandled error on /api/v2")]  # logged once, by the panel, not the server


def test_the_direct_reads_fail_at_most_once_when_the_database_ends_their_connections(
    panel: Panel, caplog: pytest.LogCaptureFixture
) -> None:
    """``balance`` and ``status`` have a pool of their own (``smmpanel.db.direct_reads``): after the
    server ends every connection, one call may fail (503, retry), and the next ones are served."""
    if panel.database_url.startswith("sqlite"):
        pytest.skip("a SQLite file has no server to end the connection")
    key = panel.customer(balance="10")
    assert panel.api_url is not None
    with httpx.Client(timeout=30) as client, caplog.at_level(logging.INFO):
        for _ in range(3):  # several pooled connections, all to be ended
            assert client.post(panel.api_url, data={"key": key, "action": "balance"}).status_code == 200
        in_thread(lambda: asyncio.run(_terminate_others(panel.database_url)))
        answers = [client.post(panel.api_url, data={"key": key, "action": "balance"}) for _ in range(4)]
    statuses = [answer.status_code for answer in answers]
    assert statuses in ([200] * 4, [503] + [200] * 3), statuses
    assert answers[-1].json() == {"balance": "10.00", "currency": "USD"}
    if statuses[0] == 503:
        assert answers[0].json() == {"error": "Temporary failure, please retry"}
