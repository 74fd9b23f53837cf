"""Migration 0011 on a panel with data: the one operator becomes the owner, and back on downgrade."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from smmpanel.db.engine import create_engine
from smmpanel.db.migrate import alembic_config, upgrade


def _run(database_url: str, statement: str) -> list[tuple[str, str, bool]]:
    async def work() -> list[tuple[str, str, bool]]:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.begin() as conn:
                if statement:
                    await conn.execute(sa.text(statement))
                rows = await conn.execute(sa.text("SELECT username, role, disabled FROM users ORDER BY id"))
                return [(row.username, row.role, bool(row.disabled)) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(work())


def test_the_operator_becomes_the_owner(database_url: str) -> None:
    config = alembic_config(database_url)
    before = ScriptDirectory.from_config(config).get_revision("0011").down_revision  # whatever precedes it
    assert isinstance(before, str)
    command.downgrade(config, before)
    for name, role in (("boss", "admin"), ("alice", "customer")):
        _run(
            database_url,
            "INSERT INTO users (username, api_key_hash, created_at, role) "
            f"VALUES ('{name}', '{name}-key', '2026-01-01 00:00:00', '{role}')",
        )
    upgrade(database_url)
    assert _run(database_url, "") == [("boss", "owner", False), ("alice", "customer", False)]
    _run(
        database_url,
        "INSERT INTO users (username, api_key_hash, created_at, role) VALUES ('sue', 's', '2026-01-01', 'support')",
    )
    command.downgrade(config, before)
    # Before 0011 there were no staff roles: the operator is admin again; other staff lose access.
    assert _run(database_url, "") == [("boss", "admin", False), ("alice", "customer", False), ("sue", "customer", True)]
    upgrade(database_url)
