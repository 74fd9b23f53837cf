"""The hot path with 90 % of the orders archived, beside the same orders all in ``orders`` (issue 16, item 7).

One scratch database per back end: 1,000 customers, ``--orders`` orders bulk-loaded by
``benchmarks.loader`` (the first 90 % Completed, the newest 10 % Pending and forwarded, every
customer's orders spread over the whole table). The same calls are timed on it twice, before
and after ``smmpanel.db.order_archive`` moves the Completed ones out, in one run:

``status-hot``    API v2 ``status`` of one order still in ``orders`` (the direct read)
``status-cold``   ``status`` of one order that gets archived (after: the fallback to both tables)
``status-100``    ``status`` of 100 ids of one customer, 90 of them archived after
``page``          a customer's first page of orders (the union of both tables after)
``add``           an order placed through the use case (an insert into the smaller indexes after)

Each figure is this process's CPU time per call (``time.process_time``: the driver's thread
included; on PostgreSQL the server's own CPU is not in it) and the wall time per call, the
best of ``--repeat`` rounds, with ``os.getloadavg`` printed beside them: a shared machine moves
wall time far more than CPU time. The archiving itself is timed too (CPU and wall per 1,000
orders moved, in batches of 10,000), and the size of ``orders`` with its indexes is printed
(PostgreSQL: after ``VACUUM FULL``, which an operator runs once after the first large archiving;
later the space a daily archiving frees is reused by new orders, and the table stops growing).

    .venv/bin/python -m benchmarks.archive                                   # SQLite and PostgreSQL, 1,000,000
    .venv/bin/python -m benchmarks.archive --backends sqlite --orders 100000 --calls 500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from benchmarks.api import Config, scratch_database
from benchmarks.loader import OrderSpec, create_customers, create_panel, load_orders, migrate
from smmpanel.clock import utcnow
from smmpanel.db.order_archive import MAX_BATCH
from smmpanel.db.order_repositories import OrderFilter
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.usecases import orders as order_cases

CUSTOMERS = 1000
ARCHIVED_SHARE = 0.9


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


async def _timed(calls: int, repeat: int, one: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """The least (CPU, wall) milliseconds per call over ``repeat`` rounds of ``calls`` calls."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(calls):
            await one(n)
        took = ((time.process_time() - cpu) * 1000 / calls, (time.perf_counter() - wall) * 1000 / calls)
        best = (min(best[0], took[0]), min(best[1], took[1]))
    return best


async def _size(db: Database) -> str:
    """``orders`` with its indexes (SQLite: its pages in ``dbstat``, where SQLite was built with it)."""
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            found = await conn.exec_driver_sql("SELECT pg_total_relation_size('orders')")
            return f"{int(found.scalar_one()) / 2**20:.0f} MiB"
        try:
            found = await conn.exec_driver_sql(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN"
                " (SELECT name FROM sqlite_master WHERE tbl_name = 'orders')"
            )
        except sa.exc.OperationalError:
            return "n/a (no dbstat)"
        return f"{int(found.scalar_one() or 0) / 2**20:.0f} MiB"


async def _measure(
    db: Database, owners: list[int], service_id: int, count: int, calls: int, repeat: int
) -> dict[str, tuple[float, float]]:
    """Order ``i`` is ``owners[(i - 1) % len(owners)]``'s (the loader cycles them); the first 90 % get archived."""
    archived, every = int(count * ARCHIVED_SHARE), len(owners)
    pick = random.Random(7)
    hot = [pick.randrange(archived + 1, count + 1) for _ in range(calls)]
    cold = [pick.randrange(1, archived + 1) for _ in range(calls)]

    def owner(order_id: int) -> int:
        return owners[(order_id - 1) % every]

    def hundred(n: int) -> list[int]:
        """100 ids of one customer: 90 spread over the archived part, then 10 of the newest."""
        first, per = n % every + 1, count // every
        steps = [*range(0, int(per * ARCHIVED_SHARE), max(int(per * ARCHIVED_SHARE) // 90, 1))][:90]
        return [first + step * every for step in (*steps, *range(per - 10, per))]

    async def page(n: int) -> object:
        async with db.read() as repos:
            return await repos.orders.of_customer_page(
                owners[n % every], OrderFilter(), before=None, after=None, limit=25
            )

    params = {"service": str(service_id), "quantity": "100", "link": "https://bench.test/added"}
    return {
        "status-hot": await _timed(calls, repeat, lambda n: db.direct.progress(owner(hot[n]), [hot[n]])),
        "status-cold": await _timed(calls, repeat, lambda n: db.direct.progress(owner(cold[n]), [cold[n]])),
        "status-100": await _timed(calls // 10, repeat, lambda n: db.direct.progress(owner(hundred(n)[0]), hundred(n))),
        "page": await _timed(calls // 2, repeat, page),
        "add": await _timed(calls // 5, repeat, lambda n: order_cases.place_order(db, owners[0], params)),
    }


async def _archive_all(db: Database) -> tuple[int, float, float]:
    """Everything Completed into the archive, in batches of ``MAX_BATCH`` ids: (moved, CPU ms, wall ms per 1,000)."""
    cpu, wall, moved = time.process_time(), time.perf_counter(), 0
    after: int | None = 0
    while after is not None:
        async with db.write() as repos:
            batch, after = await repos.orders.archive.move(utcnow() + timedelta(minutes=1), MAX_BATCH, after)
        moved += len(batch)
    per_thousand_ms = 1000 * 1000 / max(moved, 1)
    return moved, (time.process_time() - cpu) * per_thousand_ms, (time.perf_counter() - wall) * per_thousand_ms


async def run_backend(backend: str, count: int, calls: int, repeat: int, workdir: Path) -> None:
    async with scratch_database(Config(), backend, workdir) as url:
        await asyncio.to_thread(migrate, url)
        panel = await create_panel(url, provider_url="http://127.0.0.1:9/api/v2", provider_key="x", balance="1000000")
        owners = [panel.user_id, *(user_id for user_id, _ in await create_customers(url, CUSTOMERS - 1))]
        archived = int(count * ARCHIVED_SHARE)
        print(f"{backend}: loading {count:,} orders ({_load()})", flush=True)
        await load_orders(
            url,
            panel,
            OrderSpec(count=archived, dispatch=None, status=OrderStatus.COMPLETED, remains=0, user_ids=owners),
        )
        await load_orders(url, panel, OrderSpec(count=count - archived, dispatch="sent", user_ids=owners))
        db = Database(url, pool_size=4, cache_seconds=0)
        try:
            before_size = await _size(db)
            before = await _measure(db, owners, panel.service_id, count, calls, repeat)
            print(f"{backend}: measured all hot ({_load()})", flush=True)
            moved, cpu, wall = await _archive_all(db)
            if not db.is_sqlite:
                async with db.engine.connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.exec_driver_sql("VACUUM FULL ANALYZE orders")
                    await conn.exec_driver_sql("VACUUM ANALYZE orders_archive")
            print(f"{backend}: archived {moved:,} orders: {cpu:.0f} ms CPU, {wall:.0f} ms wall per 1,000 ({_load()})")
            after = await _measure(db, owners, panel.service_id, count, calls, repeat)
            print(f"{backend}: orders table and indexes {before_size} before, {await _size(db)} after")
        finally:
            await db.close()
        print(f"{'call':<12} {'CPU ms before':>14} {'CPU ms after':>13} {'wall ms before':>15} {'wall ms after':>14}")
        for name, (cpu_before, wall_before) in before.items():
            cpu_after, wall_after = after[name]
            print(f"{name:<12} {cpu_before:>14.3f} {cpu_after:>13.3f} {wall_before:>15.3f} {wall_after:>14.3f}")
        print(f"({_load()})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2000, help="status calls per round (pages: half, add: a fifth)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends:
            asyncio.run(run_backend(backend, args.orders, args.calls, args.repeat, Path(workdir)))


if __name__ == "__main__":
    main()
