"""What the operator's pages, the ``/metrics`` scrape and an engine pass ask PostgreSQL, and how it
answers: every statement they send is explained (``EXPLAIN``, not run twice) as they send it.

``benchmarks.dashboard`` prints this at each level, so that a plan that reads a whole table
(``Seq Scan on orders`` at ten million orders) shows in the benchmark's output next to the
timings. The work runs for real on the benchmark's database: its writes (an engine pass
registers a worker and claims nothing when nothing is due) are the panel's own.

    .venv/bin/python -m benchmarks.explain postgresql://postgres@127.0.0.1:5432/<database>
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa

from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.worker import Engine
from smmpanel.usecases import operations, order_desk, reports
from smmpanel.usecases.order_desk import OrderQuery

GROWING = ("orders", "ledger_entries", "refills")
"""Tables that grow with the orders: a sequential scan of one is a finding. (``order_count_deltas``
holds what was written since the last fold, which the same work does first.)"""
_NODE = re.compile(
    r"(Seq Scan|(?:Index|Index Only) Scan(?: Backward)?|Bitmap (?:Index|Heap) Scan)(?: using (\S+))? on (\w+)"
)


async def explained(database_url: str, name: str, work: Callable[[Database], Awaitable[object]]) -> list[str]:
    """One line per statement ``work`` sent: its scans, and ``SEQ SCAN`` first when it reads a growing table."""
    db = Database(database_url, pool_size=2, cache_seconds=0)
    lines: list[str] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if executemany or not statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE")):
            return
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(str(row[0]) for row in cursor.fetchall())
        scans = sorted(
            {f"{kind} {index or ''} on {table}".replace("  ", " ") for kind, index, table in _NODE.findall(plan)}
        )
        growing = [scan for scan in scans if scan.startswith("Seq Scan") and scan.split()[-1] in GROWING]
        head = " ".join(statement.split())[:90]
        lines.append(f"{name}: {'SEQ SCAN ' if growing else ''}{'; '.join(scans) or 'no table'} | {head}")

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", explain)
    try:
        await work(db)
    finally:
        await db.close()
    return lines


def _search(query: OrderQuery) -> Callable[[Database], Awaitable[object]]:
    return lambda db: order_desk.find_orders(db, query)


async def _engine_pass(db: Database) -> None:
    engine = Engine(db, Settings(database_url=db.url))
    try:
        await engine.run_pass()
    finally:
        await engine.aclose()


def checks(
    link_part: str, customer: str, upstream_id: str, pasted: str = ""
) -> dict[str, Callable[[Database], Awaitable[object]]]:
    """What to explain: the name of each piece of work, and the work; ``pasted`` is a whole link, as an
    operator pastes it (the index is asked for its path: ``smmpanel.db.link_search.probe``)."""
    pasted_search = {"admin-search-pasted-link": _search(OrderQuery(text=pasted))} if pasted else {}
    return {
        "metrics": operations.panel_gauges,
        "overview": reports.overview,
        "admin-orders": _search(OrderQuery()),
        "admin-search-link": _search(OrderQuery(text=link_part)),
        **pasted_search,
        "admin-search-customer": _search(OrderQuery(username=customer)),
        "admin-search-upstream": _search(OrderQuery(upstream_id=upstream_id)),
        "engine-pass": _engine_pass,
    }


async def report(database_url: str, link_part: str, customer: str, upstream_id: str, pasted: str = "") -> str:
    lines = []
    for name, work in checks(link_part, customer, upstream_id, pasted).items():
        lines += await explained(database_url, name, work)
    return "\n".join(f"# explain {line}" for line in lines)


if __name__ == "__main__":
    print(asyncio.run(report(sys.argv[1], "bench1", "bench", "1", "https://instagram.com/p/bench1")))
