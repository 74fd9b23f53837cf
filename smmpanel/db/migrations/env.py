"""Alembic environment: runs migrations on smmpanel's own engine for either back end."""

import asyncio
import warnings

from alembic import context
from sqlalchemy.engine import Connection

from smmpanel.db.engine import WRITE_OPTION, async_url, create_engine, is_sqlite
from smmpanel.db.tables import metadata

# SQLite batch migrations reflect tables that reference ``users``, whose lower(username) index
# SQLAlchemy cannot reflect: it says so on every upgrade. The index is the migrations' own (0009).
warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=is_sqlite(async_url(config.attributes["database_url"])),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(config.attributes["database_url"], pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**{WRITE_OPTION: True})  # one transaction, write-locked up front
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


asyncio.run(_run_online())
