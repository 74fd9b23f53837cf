"""The schema comes from migrations alone, and they describe exactly the tables the code uses."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smmpanel.db.engine import create_engine
from smmpanel.db.migrate import alembic_config, upgrade
from smmpanel.db.tables import metadata


def _differences(database_url: str) -> list[Any]:
    async def compare() -> list[Any]:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def _described(differences: list[Any]) -> list[str]:
    return sorted(f"{diff[0]} {getattr(diff[1], 'name', diff[1])}" for diff in differences)


LINK_SEARCH_SQLITE = [
    f"remove_table {table}_link_search{part}"
    for table in ("orders", "orders_archive")
    for part in ("", "_config", "_data", "_docsize", "_idx")
]
"""Migrations 0024's and 0025's FTS5 tables and their shadow tables: indexes of SQLite's, not tables of the panel's."""


def _expected(database_url: str) -> list[str]:
    # SQLite cannot add a foreign key to an existing table; migration 0002 says so. Nor drop one
    # without rebuilding the table: the customer keys that 0021 drops on PostgreSQL stay there.
    if not database_url.startswith("sqlite"):  # migration 0029's pg_trgm (and btree_gin) indexes, PostgreSQL's own
        return [f"remove_index ix_{table}_link_trgm_status_user_id" for table in ("orders", "orders_archive")]
    kept = ["remove_fk fk_ledger_entries_user_id_users", "remove_fk fk_orders_user_id_users"]
    return [*kept, *LINK_SEARCH_SQLITE]


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    assert sorted(_described(_differences(database_url))) == sorted(_expected(database_url))


def test_downgrade_to_nothing_and_upgrade_again(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    assert _described(_differences(database_url))  # the tables are gone
    upgrade(database_url)
    upgrade(database_url)  # a second upgrade is a no-op
    assert sorted(_described(_differences(database_url))) == sorted(_expected(database_url))
