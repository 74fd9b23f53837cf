"""SQLite's polling reads on the event loop (``smmpanel.db.inline_sqlite``): short ones inline and
seeing every commit at once, long or blocked ones moved to the thread without stalling the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from smmpanel.db.direct_reads import SqliteDirectReads
from smmpanel.db.inline_sqlite import InlineReads
from smmpanel.db.unit_of_work import Database
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.support.databases import SqliteTemplate
from tests.support.threads import in_thread

LONG_READ = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) SELECT count(*) FROM n"


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: SqliteTemplate) -> str:
    """A fresh SQLite panel only: PostgreSQL's reads are one asyncpg round trip, nothing runs inline."""
    return sqlite_template.fresh(tmp_path)


def _sqlite_only(database_url: str) -> str:
    return make_url(database_url).database or ""


def _direct(db: Database) -> SqliteDirectReads:
    assert isinstance(db.direct, SqliteDirectReads)
    return db.direct


def test_short_reads_run_on_the_loop_and_see_each_commit_at_once(database_url: str) -> None:
    _sqlite_only(database_url)

    async def work() -> None:
        db = Database(database_url, pool_size=2, cache_seconds=0)
        try:
            new = await accounts.create_customer(db, "alice", parse_amount("10.50"))
            alice = await accounts.authenticate(db, new.api_key)
            assert alice is not None
            assert await accounts.balance_of(db, alice.id) == parse_amount("10.50")
            await accounts.fund(db, "alice", parse_amount("0.01"))  # committed by another connection
            assert await accounts.balance_of(db, alice.id) == parse_amount("10.51")
            assert await db.direct.progress(alice.id, [1, 2, 3]) == {}
            assert _direct(db).inline.refused == 0  # every read was answered inline
        finally:
            await db.close()

    in_thread(lambda: asyncio.run(work()))


def test_a_read_past_its_budget_is_interrupted_not_run_to_the_end(database_url: str) -> None:
    path = _sqlite_only(database_url)
    inline = InlineReads(path)
    try:
        assert inline.fetch("SELECT 1", ()) == [(1,)]
        assert inline.fetch(LONG_READ, ()) is None  # 50 million steps: interrupted after 2 ms of CPU
        assert inline.refused == 1
        assert inline.fetch("SELECT 2", ()) == [(2,)]  # and the connection serves on
    finally:
        inline.close()


def test_a_read_is_cut_by_the_cpu_it_takes_or_a_long_wait_not_by_a_short_one(database_url: str) -> None:
    """Time spent off the CPU (here a function that sleeps 20 ms: a preempted process, a slow disk)
    does not count against the CPU budget: only a wait past ``wall`` sends the read to the thread."""
    path = _sqlite_only(database_url)
    patient, hurried = InlineReads(path, wall=1.0, steps=1), InlineReads(path, wall=0.005, steps=1)
    try:
        for inline in (patient, hurried):
            assert inline.fetch("SELECT 1", ()) == [(1,)]  # its connection is open
            assert inline._conn is not None
            inline._conn.create_function("pause", 0, lambda: time.sleep(0.02))
        assert patient.fetch("SELECT pause(), 1", ()) == [(None, 1)]
        assert hurried.fetch("SELECT pause(), 1", ()) is None
        assert (patient.refused, hurried.refused) == (0, 1)
    finally:
        patient.close()
        hurried.close()


def test_reads_over_budget_are_answered_from_the_thread(database_url: str) -> None:
    path = _sqlite_only(database_url)

    async def work() -> None:
        db = Database(database_url, pool_size=2, cache_seconds=0)
        direct = _direct(db)
        direct.inline = InlineReads(path, budget=0.0, steps=1)  # every statement is over its budget
        try:
            new = await accounts.create_customer(db, "bob", parse_amount("3"))
            bob = await accounts.authenticate(db, new.api_key)
            assert bob is not None
            assert await accounts.balance_of(db, bob.id) == parse_amount("3")
            assert direct.inline.refused == 1
        finally:
            await db.close()

    in_thread(lambda: asyncio.run(work()))


def test_a_locked_database_is_read_on_the_thread_while_the_loop_serves_on(tmp_path: Path) -> None:
    """Another connection holds the file exclusively (a rollback-journal file: in WAL mode readers
    never wait): the inline read refuses at once, with no busy wait on the loop, the thread waits
    for the lock, and meanwhile the event loop runs other work."""
    path = str(tmp_path / "locked.db")
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
    setup.execute("INSERT INTO users VALUES (1, 700)")
    setup.close()

    async def work() -> None:
        direct = SqliteDirectReads(path, 2)
        locker = sqlite3.connect(path, isolation_level=None)
        try:
            assert await direct.balance(1) == 700
            locker.execute("BEGIN EXCLUSIVE")
            locker.execute("UPDATE users SET balance = 701 WHERE id = 1")
            reading = asyncio.create_task(direct.balance(1))
            loop = asyncio.get_running_loop()

            def loop_answers() -> None:  # from another thread, while the read waits for the lock
                for _ in range(20):
                    asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(timeout=10)

            # Had the read waited on the loop (30 s busy timeout), the loop could not answer here.
            await asyncio.to_thread(loop_answers)
            assert not reading.done()  # still waiting for the lock, on its thread
            assert direct.inline.refused == 1
            locker.execute("COMMIT")
            assert await reading == 701
            assert await direct.balance(1) == 701  # and inline again
            assert direct.inline.refused == 1
        finally:
            locker.close()
            await direct.close()

    in_thread(lambda: asyncio.run(work()))
