"""Fresh databases for tests: a SQLite file per test, and PostgreSQL databases per run.

PostgreSQL comes from ``SMMPANEL_TEST_POSTGRES_URL`` (default: the local server,
user ``postgres``). When it cannot be reached the PostgreSQL half of the suite is
skipped, unless ``SMMPANEL_REQUIRE_POSTGRES=1`` (set by CI) turns that into failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from smmpanel.db import cache
from smmpanel.db.migrate import upgrade
from smmpanel.db.tables import metadata
from tests.support.threads import in_thread

POSTGRES_ADMIN_URL = os.environ.get("SMMPANEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("SMMPANEL_REQUIRE_POSTGRES") == "1"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(_dsn(POSTGRES_ADMIN_URL), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


class PostgresRun:
    """Two databases for the whole test run, emptied between tests: the panel's, and a second
    one for tests that need two panels (created on first use)."""

    def __init__(self) -> None:
        self.name = f"smmpanel_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.url = self._url(self.name)
        self.second_url = self._url(f"{self.name}_2")
        self._created: list[str] = []

    @staticmethod
    def _url(name: str) -> str:
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def _create(self, url: str) -> None:
        name = make_url(url).database
        in_thread(lambda: asyncio.run(_admin(f'CREATE DATABASE "{name}"')))
        self._created.append(url)
        in_thread(lambda: upgrade(url))

    def create(self) -> None:
        self._create(self.url)

    def drop(self) -> None:
        for url in self._created:
            drop = f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'
            in_thread(lambda: asyncio.run(_admin(drop)))  # noqa: B023 (runs before the loop moves on)

    def empty(self, url: str | None = None) -> None:
        """Empty the panel's database, or ``second_url`` (created the first time it is asked for)."""
        url = url or self.url
        if url not in self._created:
            self._create(url)
        tables = ", ".join(table.name for table in metadata.sorted_tables)

        async def truncate() -> None:
            conn = await asyncpg.connect(_dsn(url))
            try:
                await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            finally:
                await conn.close()

        in_thread(lambda: asyncio.run(truncate()))
        cache.clear_all()  # the truncate went around the panel: its process caches cannot know


class SqliteTemplate:
    """A migrated SQLite file, copied for each test: faster than migrating every time."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        in_thread(lambda: upgrade(f"sqlite:///{self.path}"))

    def fresh(self, directory: Path) -> str:
        target = directory / "panel.db"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"
