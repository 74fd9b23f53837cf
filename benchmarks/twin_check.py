"""What migration 0028's twin check costs the engine: accepted sends recorded with and without it.

PostgreSQL only (on SQLite the check is a trigger too, but writers take turns and the engine's
batches are small). One scratch database: ``--archived`` orders forwarded long ago, finished and
moved to ``orders_archive`` (each holding a provider's order id, so the archive's
``(provider_id, provider_order_id)`` index is full), and ``--sends`` orders ``sending``. Their
answers are recorded as the engine records them, ``Dispatch.settle_accepted`` of 100 at a time in
one autocommitted statement, in rounds that alternate between the trigger in place and the
trigger dropped, so that both see the same machine load.

The figure is the CPU of the PostgreSQL backend that ran the statements, per order (read from
``/proc/<pid>/stat``: the server must run on this host), and the wall time per statement; the
best round of each. The client's CPU is the same either way (the trigger runs in the server).

    .venv/bin/python -m benchmarks.twin_check                       # 200,000 archived, 20,000 sends
    .venv/bin/python -m benchmarks.twin_check --archived 1000000 --db-prefix archive
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

from benchmarks.api import POSTGRES_ADMIN_URL, pg_execute
from benchmarks.loader import OrderSpec, create_panel, load_orders, migrate
from smmpanel.clock import utcnow
from smmpanel.db.order_archive import MAX_BATCH
from smmpanel.db.repositories import Repositories
from smmpanel.db.tables import orders
from smmpanel.db.unit_of_work import Database

BATCH = 100
"""Answers per statement: the engine's forward batch."""

_MIGRATION = importlib.import_module("smmpanel.db.migrations.versions.0028_upstream_ids_across_the_archive")
_TICKS = os.sysconf("SC_CLK_TCK")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process on this host."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@asynccontextmanager
async def _scratch(admin_url: str, prefix: str) -> AsyncIterator[str]:
    name = f"{prefix}_twin_{secrets.token_hex(4)}"
    await pg_execute(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await pg_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _archive_all(db: Database) -> int:
    moved = 0
    after: int | None = 0
    while after is not None:
        async with db.write() as repos:
            batch, after = await repos.orders.archive.move(utcnow(), MAX_BATCH, after)
        moved += len(batch)
    return moved


async def _settle(db: Database, order_ids: list[int], first_upstream: int) -> tuple[float, float]:
    """Record ``order_ids`` as accepted, ``BATCH`` per statement: (backend CPU s, wall s)."""
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        pid = int((await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one())
        repos = Repositories(conn, commits_each_statement=True)
        cpu, wall = _cpu_seconds(pid), time.perf_counter()
        for start in range(0, len(order_ids), BATCH):
            chosen = order_ids[start : start + BATCH]
            answers = {order_id: str(first_upstream + order_id) for order_id in chosen}
            settled = await repos.dispatch.settle_accepted(answers, utcnow())
            assert settled == set(chosen), "every order was still sending"
        return _cpu_seconds(pid) - cpu, time.perf_counter() - wall


async def _compare(db: Database, url: str, ids: list[int], rounds: int) -> dict[str, tuple[float, float]]:
    """Rounds of settles with the trigger and without: the best (µs CPU per order, ms per statement) of each."""
    per_round = len(ids) // (2 * rounds)
    best = {"with the check": (float("inf"), float("inf")), "without": (float("inf"), float("inf"))}
    for n in range(rounds):
        for mode in best:
            if mode == "without":
                await pg_execute(url, f"DROP TRIGGER {_MIGRATION.NAME} ON orders")
            chosen, ids = ids[:per_round], ids[per_round:]
            cpu, wall = await _settle(db, chosen, 10**9 * (n + 1))
            if mode == "without":
                await pg_execute(url, _MIGRATION._POSTGRES_TRIGGER)
            took = (cpu * 1e6 / len(chosen), wall * 1e3 * BATCH / len(chosen))
            best[mode] = (min(best[mode][0], took[0]), min(best[mode][1], took[1]))
            print(f"round {n + 1} {mode:<15} {took[0]:7.1f} µs CPU per order, {took[1]:6.2f} ms per 100 ({_load()})")
    return best


async def run(admin_url: str, prefix: str, archived: int, sends: int, rounds: int) -> None:
    async with _scratch(admin_url, prefix) as url:
        await asyncio.to_thread(migrate, url)
        panel = await create_panel(url, provider_url="http://127.0.0.1:9/api/v2", provider_key="x", balance="1")
        print(f"loading {archived:,} orders to archive and {sends:,} sending ({_load()})", flush=True)
        old = await load_orders(url, panel, OrderSpec(count=archived, dispatch="sent"))
        sending = await load_orders(url, panel, OrderSpec(count=sends, dispatch="sending"))
        db = Database(url, pool_size=2, cache_seconds=0)
        try:
            async with db.engine.begin() as conn:
                await conn.execute(
                    orders.update()
                    .where(orders.c.id.between(old.start, old.stop - 1))
                    .values(status="Completed", remains=0, dispatch="done", updated_at=utcnow(), finished_at=utcnow())
                )
            print(f"archived {await _archive_all(db):,} orders ({_load()})", flush=True)
            await pg_execute(url, "VACUUM ANALYZE orders, orders_archive")
            best = await _compare(db, url, list(sending), rounds)
        finally:
            await db.close()
        print(f"{'':<15} {'backend CPU µs per order':>25} {'wall ms per statement of 100':>29}")
        for mode, (cpu_us, wall_ms) in best.items():
            print(f"{mode:<15} {cpu_us:>25.1f} {wall_ms:>29.2f}")
        print(f"({_load()})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archived", type=int, default=200_000)
    parser.add_argument("--sends", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="a server on this host")
    parser.add_argument("--db-prefix", default="smmpanel_bench", help="the scratch database's name starts so")
    args = parser.parse_args()
    asyncio.run(run(args.postgres_url, args.db_prefix, args.archived, args.sends, args.rounds))


if __name__ == "__main__":
    main()
